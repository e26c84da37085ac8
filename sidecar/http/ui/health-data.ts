/**
 * What the screens show of health (issue 11): the critical notice, the "Needs attention"
 * count, a server's health line and timeline picture, and the dashboard widget.
 */
import { computeAllHealth, computeServerHealth, countsByState, worstFirst } from '../../health/health.js';
import type { ServerHealth } from '../../health/state.js';
import { timelineItems } from '../../health/timeline.js';
import { countByKind, timelineLayout, type TimelineKind } from '../../health/timeline-svg.js';
import { serverDisplayName } from '../../host.js';
import type { HealthState } from '../../schema.js';
import { countOpenIncidents, openCriticalIncidents, openIncidentCounts, runState, serversWithOpenIncidents, worstOpenIncidents } from '../../store/alerts.js';
import { countAssignedServers } from '../../store/assignments.js';
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
 * Whether the open incidents are the fleet's health: judging every server is tens of thousands
 * of index lookups at 10,000 servers — far too much for each screen — and the alert worker does
 * exactly that once per check period, keeping an open incident for each server that is not ok.
 * So while its last pass is recent (any sidecar's; two periods) or a pass is under way (its
 * lease is held: a pass over 10,000 servers takes a while, and until it ends the previous one's
 * incidents stand; the very first pass after installation adds them as it goes), the open
 * incidents are the answer, read on their index. Otherwise (no worker runs anywhere) the
 * screen judges health itself.
 */
async function workerJudged(app: AppContext, clock: Promise<Date>): Promise<{ now: Date; judged: boolean }> {
  const checkMs = app.alerts?.deps.config.checkMs;
  const [now, run] = await Promise.all([clock, checkMs === undefined ? null : runState(app.db, 'evaluate')]);
  if (checkMs === undefined || !run) return { now, judged: false };
  const recent = run.lastRunAt !== null && now.getTime() - run.lastRunAt.getTime() <= 2 * checkMs + 5000;
  const underWay = run.leaseUntil !== null && run.leaseUntil.getTime() > now.getTime();
  return { now, judged: recent || underWay };
}

/** Servers that are not ok: the "Needs attention" view. */
export async function attentionServerIds(app: AppContext, clock?: Promise<Date>): Promise<number[]> {
  // Both reads at once: while the worker judges (the usual case) the incidents are the answer.
  const [{ now, judged }, open] = await Promise.all([workerJudged(app, clock ?? app.clock.now(app.db)), serversWithOpenIncidents(app.db)]);
  if (judged) return open;
  const all = await computeAllHealth(app.db, now, failingAfter(app));
  return [...all.values()].filter((s) => s.state !== 'ok').map((s) => s.serverId).sort((a, b) => a - b);
}

/**
 * The "Needs attention (N)" count: the open incidents counted on their index while the worker
 * judges; a list limited to some servers (a server manager) counts those of them.
 */
export async function attentionCount(app: AppContext, clock: Promise<Date>, allowed?: number[]): Promise<number> {
  if (allowed) return (await attentionServerIds(app, clock)).filter((s) => allowed.includes(s)).length;
  const [{ now, judged }, n] = await Promise.all([workerJudged(app, clock), countOpenIncidents(app.db)]);
  return judged ? n : (await attentionServerIds(app, Promise.resolve(now))).length;
}

export async function serverHealthLine(app: AppContext, serverId: number): Promise<ServerHealth | null> {
  const h = await computeServerHealth(app.db, app.host, await app.clock.now(app.db), failingAfter(app), serverId);
  return h.schedules.length === 0 ? null : h;
}

/**
 * The picture's geometry (shared with the JSON API's SVG) with the words in the user's language;
 * `width` in its own units (320 for the narrow one in a server's side box; 720 by default).
 */
export async function serverTimeline(app: AppContext, t: Translator, serverId: number, days: number, width?: number) {
  const now = await app.clock.now(app.db);
  const server = (await app.host.getServers([serverId])).get(serverId);
  const items = await timelineItems(app.db, serverId, now, days);
  const layout = timelineLayout({ serverName: serverDisplayName(server, serverId), now, days, items },
    { lanes: [t.__('Kept'), t.__('Removed'), t.__('Problems')], kinds: timelineKindLabels(t) }, { width });
  return {
    serverId, serverName: serverDisplayName(server, serverId), days, layout,
    counts: Object.entries(countByKind(layout.inRange)) as [TimelineKind, number][],
    idPrefix: `ss-timeline-${serverId}`,
  };
}

export type TimelineView = Awaited<ReturnType<typeof serverTimeline>>;

/**
 * The dashboard widget: servers by state and the worst few, named as the panel names them.
 * While the worker judges, the counts are the open incidents by state (the rest of the servers
 * with a schedule are ok) and only the worst few are judged again now, for their reasons in
 * the user's language; the wp-admin dashboard then costs a handful of queries at any fleet size.
 */
export async function dashboard(app: AppContext, limit = 5) {
  const [{ now, judged }, total, byState, worstIds] = await Promise.all([
    workerJudged(app, app.clock.now(app.db)), countAssignedServers(app.db), openIncidentCounts(app.db), worstOpenIncidents(app.db, limit),
  ]);
  let counts: Record<HealthState, number>;
  let worst: ServerHealth[];
  if (judged) {
    counts = { ok: 0, warning: 0, failing: 0, critical: 0 };
    for (const { state, n } of byState) counts[state] += n;
    counts.ok = Math.max(0, total - counts.warning - counts.failing - counts.critical);
    // Judged with their names, as the panel names them.
    const live = await Promise.all(worstIds.map((id) => computeServerHealth(app.db, app.host, now, failingAfter(app), id)));
    // Fixed since the worker's pass: not shown as trouble (the counts follow at its next pass).
    worst = live.filter((h) => h.state !== 'ok').sort(worstFirst);
  } else {
    const all = await computeAllHealth(app.db, now, failingAfter(app));
    counts = countsByState(all.values());
    const unnamed = [...all.values()].filter((s) => s.state !== 'ok').sort(worstFirst).slice(0, limit);
    const servers = await app.host.getServers(unnamed.map((w) => w.serverId));
    worst = unnamed.map((w) => ({ ...w, serverName: serverDisplayName(servers.get(w.serverId), w.serverId) }));
  }
  return { total: judged ? total : counts.ok + counts.warning + counts.failing + counts.critical, counts, worst };
}
