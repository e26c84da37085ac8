/**
 * What the screens show of health (issue 11): the critical notice, the "Needs attention"
 * count, a server's health line and timeline picture, and the dashboard widget.
 */
import { computeAllHealth, computeServerHealth, countsByState, worstFirst } from '../../health/health.js';
import type { ServerHealth } from '../../health/state.js';
import { timelineItems } from '../../health/timeline.js';
import { countByKind, timelineLayout, type TimelineKind } from '../../health/timeline-svg.js';
import { serverDisplayName } from '../../host.js';
import { countOpenIncidents, lastRunAt, openCriticalIncidents, serversWithOpenIncidents } from '../../store/alerts.js';
import type { AppContext } from '../context.js';
import type { Translator } from './i18n.js';
import { timelineKindLabels } from './health-words.js';

const failingAfter = (app: AppContext) => app.alerts?.deps.config.failingAfter ?? 3;

/**
 * Servers in an open critical incident — one indexed query on what the alert worker already
 * decided, so every screen can afford it. At most 100 are counted ("100+").
 */
export async function criticalServers(app: AppContext): Promise<{ count: number; names: string[] }> {
  const rows = await openCriticalIncidents(app.db, 101);
  return { count: rows.length, names: rows.slice(0, 3).map((r) => r.server_name || `#${Number(r.server_id)}`) };
}

/**
 * Servers that are not ok: the "Needs attention" count and view. Judging every server's health
 * is tens of thousands of index lookups at 10,000 servers — far too much for each screen — and
 * the alert worker does exactly that once per check period, keeping an open incident for each
 * server that is not ok. So while its last pass is recent (any sidecar's; two periods), the
 * open incidents are the answer, one indexed query; otherwise (no worker runs) it is judged now.
 */
export async function attentionServerIds(app: AppContext, clock?: Promise<Date>): Promise<number[]> {
  const checkMs = app.alerts?.deps.config.checkMs;
  // The three reads at once: while the worker's pass is recent (the usual case) that is the answer.
  const [now, last, open] = await Promise.all([
    clock ?? app.clock.now(app.db),
    checkMs === undefined ? null : lastRunAt(app.db, 'evaluate'),
    checkMs === undefined ? null : serversWithOpenIncidents(app.db),
  ]);
  const at = last ? new Date(last).getTime() : null;
  if (checkMs !== undefined && open && at !== null && now.getTime() - at <= 2 * checkMs + 5000) return open;
  const all = await computeAllHealth(app.db, now, failingAfter(app));
  return [...all.values()].filter((s) => s.state !== 'ok').map((s) => s.serverId).sort((a, b) => a - b);
}

/**
 * The "Needs attention (N)" count: the open incidents counted on their index while the worker's
 * pass is recent; a list limited to some servers (a server manager) counts those of them.
 */
export async function attentionCount(app: AppContext, clock: Promise<Date>, allowed?: number[]): Promise<number> {
  const checkMs = app.alerts?.deps.config.checkMs;
  if (allowed || checkMs === undefined) {
    const ids = await attentionServerIds(app, clock);
    return allowed ? ids.filter((s) => allowed.includes(s)).length : ids.length;
  }
  const [now, last, n] = await Promise.all([clock, lastRunAt(app.db, 'evaluate'), countOpenIncidents(app.db)]);
  const at = last ? new Date(last).getTime() : null;
  if (at !== null && now.getTime() - at <= 2 * checkMs + 5000) return n;
  return (await attentionServerIds(app, Promise.resolve(now))).length;
}

export async function serverHealthLine(app: AppContext, serverId: number): Promise<ServerHealth | null> {
  const h = await computeServerHealth(app.db, app.host, await app.clock.now(app.db), failingAfter(app), serverId);
  return h.schedules.length === 0 ? null : h;
}

/** The picture's geometry (shared with the JSON API's SVG) with the words in the user's language. */
export async function serverTimeline(app: AppContext, t: Translator, serverId: number, days: number) {
  const now = await app.clock.now(app.db);
  const server = (await app.host.getServers([serverId])).get(serverId);
  const items = await timelineItems(app.db, serverId, now, days);
  const layout = timelineLayout({ serverName: serverDisplayName(server, serverId), now, days, items },
    { lanes: [t.__('Kept'), t.__('Removed'), t.__('Problems')], kinds: timelineKindLabels(t) });
  return {
    serverId, serverName: serverDisplayName(server, serverId), days, layout,
    counts: Object.entries(countByKind(layout.inRange)) as [TimelineKind, number][],
    idPrefix: `ss-timeline-${serverId}`,
  };
}

export type TimelineView = Awaited<ReturnType<typeof serverTimeline>>;

/** The dashboard widget: servers by state and the worst few, named as the panel names them. */
export async function dashboard(app: AppContext, limit = 5) {
  const all = await computeAllHealth(app.db, await app.clock.now(app.db), failingAfter(app));
  const worst = [...all.values()].filter((s) => s.state !== 'ok').sort(worstFirst).slice(0, limit);
  const servers = await app.host.getServers(worst.map((w) => w.serverId));
  return {
    total: all.size, counts: countsByState(all.values()),
    worst: worst.map((w) => ({ ...w, serverName: serverDisplayName(servers.get(w.serverId), w.serverId) })),
  };
}
