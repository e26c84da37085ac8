/**
 * What the rendered screens show, gathered from the stores in one place and typed, so the
 * templates never see a row.
 */
import { previewRetention } from '../../engine/apply-retention.js';
import { serverProblem } from '../../host.js';
import { timingOf } from '../../schedules.js';
import { spreadOffsetMs } from '../../slots.js';
import { assignmentsOfServer, serverCounts } from '../../store/assignments.js';
import { eventsForSnapshot } from '../../store/events.js';
import { findSchedule, getSchedule, listSchedules, rulesOf, scheduleChoices, scheduleNames, type ScheduleRow } from '../../store/schedules.js';
import { getSnapshot, latestOfServer, listPage, type SnapshotRow } from '../../store/snapshots.js';
import type { AppContext } from '../context.js';
import { providerSources } from '../providers.js';
import { attentionServerIds } from './health-data.js';
import { scheduleToApi } from '../schedules-wire.js';
import { encodeCursor, parseListQuery } from '../snapshots-wire.js';

export type ScheduleView = ReturnType<typeof scheduleToApi> & { rules: ReturnType<typeof rulesOf>; warnAfterMinutes: number | null; criticalAfterMinutes: number | null };

export interface SnapshotView {
  id: number; serverId: number; serverName: string; provider: string | null; providerName: string | null;
  providerSnapshotId: string | null; name: string; origin: string; scheduleId: number | null; scheduleName: string | null;
  status: string; keepForever: boolean; deleteNotBefore: Date | null; note: string | null; sizeBytes: number | null;
  createdAt: Date; availableAt: Date | null; lastError: string | null; canDelete: boolean; serverProblem: string | null;
}

const limits = (s: ScheduleRow) => ({ warnAfterMinutes: s.warn_after_minutes ?? null, criticalAfterMinutes: s.critical_after_minutes ?? null });

export async function schedulesWithCounts(app: AppContext): Promise<ScheduleView[]> {
  const rows = await listSchedules(app.db);
  const counts = await serverCounts(app.db, rows.map((s) => Number(s.id)));
  const now = await app.clock.now(app.db);
  return rows.map((s) => ({ ...scheduleToApi(s, { serverCount: counts.get(Number(s.id)) ?? 0, now }), rules: rulesOf(s), ...limits(s) }));
}

export async function scheduleById(app: AppContext, id: number): Promise<ScheduleView> {
  const row: ScheduleRow = await getSchedule(app.db, id);
  const counts = await serverCounts(app.db, [id]);
  return { ...scheduleToApi(row, { serverCount: counts.get(id) ?? 0, now: await app.clock.now(app.db) }), rules: rulesOf(row), ...limits(row) };
}

async function toViews(app: AppContext, rows: SnapshotRow[]): Promise<SnapshotView[]> {
  const scheduleIds = [...new Set(rows.map((r) => r.schedule_id).filter((x): x is number => x !== null).map(Number))];
  const [names, servers] = await Promise.all([scheduleNames(app.db, scheduleIds), app.host.getServers(rows.map((r) => Number(r.server_id)))]);
  const known = new Set(app.providers.keys());
  return rows.map((r) => {
    const provider = r.provider ? app.providers.get(r.provider) : undefined;
    const sid = Number(r.server_id);
    return {
      id: Number(r.id), serverId: sid, serverName: r.server_name ?? '', provider: r.provider, providerName: provider?.displayName ?? null,
      providerSnapshotId: r.provider_snapshot_id, name: r.name, origin: r.origin,
      scheduleId: r.schedule_id === null ? null : Number(r.schedule_id),
      scheduleName: r.schedule_id === null ? null : (names.get(Number(r.schedule_id)) ?? null),
      status: r.status, keepForever: r.keep_forever === 1, deleteNotBefore: r.delete_not_before, note: r.note,
      sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes), createdAt: r.created_at, availableAt: r.available_at,
      lastError: r.last_error, canDelete: provider ? provider.capabilities.delete : false,
      serverProblem: serverProblem(sid, servers.get(sid), known),
    };
  });
}

export interface SnapshotFilters { needsAttention?: string; serverId?: string; status?: string; origin?: string; scheduleId?: string; search?: string; cursor?: string }

export async function snapshotsPage(app: AppContext, filters: SnapshotFilters, limit: number, allowed?: number[]) {
  const query: Record<string, string> = { limit: String(limit) };
  for (const [k, v] of Object.entries(filters)) if (typeof v === 'string' && v !== '') query[k] = v;
  const { filter, limit: pageSize, needsAttention } = parseListQuery(query);
  if (needsAttention) filter.serverIds = await attentionServerIds(app);
  if (allowed) filter.serverIds = (filter.serverIds ?? allowed).filter((s) => allowed.includes(s));
  const { rows, more } = await listPage(app.db, filter, pageSize);
  const last = rows[rows.length - 1];
  return { items: await toViews(app, rows), nextCursor: more && last ? encodeCursor(Number(last.id)) : null };
}

/**
 * The panel's servers for the list's filter, kept for CHOICES_MS per sidecar: reading 500 of
 * 10,000 servers with their names costs more than the rest of the screen together, and the
 * list is the same from one render to the next. A server added since may be missing from the
 * drop-down for that long (never from the list itself); a filter on a server the kept list
 * does not hold reads them again.
 */
const CHOICES_MS = 30_000;
const serverChoices = new WeakMap<AppContext, { at: number; servers: Promise<Array<{ id: number; name: string }>> }>();

function serverNamesFor(app: AppContext, selected?: number): Promise<Array<{ id: number; name: string }>> {
  const kept = serverChoices.get(app);
  if (kept && Date.now() - kept.at < CHOICES_MS) {
    return kept.servers.then((list) => (selected === undefined || list.some((s) => s.id === selected) ? list : fresh()));
  }
  return fresh();
  function fresh() {
    const servers = app.host.serverNames({ limit: 500 });
    serverChoices.set(app, { at: Date.now(), servers });
    // A failed read is not kept: the next render asks again.
    servers.catch(() => { if (serverChoices.get(app)?.servers === servers) serverChoices.delete(app); });
    return servers;
  }
}

/** The choices of the list's filters: servers (host panel) and schedules, by name. */
export async function filterChoices(app: AppContext, allowed?: number[], selected?: number) {
  const [servers, schedules] = await Promise.all([serverNamesFor(app, selected), scheduleChoices(app.db, 1000)]);
  return { servers: allowed ? servers.filter((s) => allowed.includes(s.id)) : servers, schedules };
}

export async function snapshotDetail(app: AppContext, id: number) {
  const row = await getSnapshot(app.db, id);
  const [snapshot] = await toViews(app, [row]);
  let retention: { action: string; reasons: string[] } | null = null;
  if (row.schedule_id !== null) {
    const schedule = await findSchedule(app.db, Number(row.schedule_id));
    if (schedule) {
      const { decisions } = await previewRetention(app.db, await app.clock.now(app.db), Number(row.server_id), schedule);
      const d = decisions.find((x) => x.id === id);
      if (d) retention = { action: d.action, reasons: d.reasons };
    }
  }
  const events = await eventsForSnapshot(app.db, id);
  return { snapshot: snapshot!, retention, events };
}

/** The server box: the server, every schedule (ticked or not), and the last snapshot. */
export async function serverBox(app: AppContext, serverId: number) {
  const server = (await app.host.getServers([serverId])).get(serverId);
  const provider = server?.provider ? app.providers.get(server.provider) : undefined;
  const assigned = await assignmentsOfServer(app.db, serverId);
  const schedules = await listSchedules(app.db);
  const lastRow = await latestOfServer(app.db, serverId);
  const [last] = lastRow ? await toViews(app, [lastRow]) : [];
  const byId = new Map(assigned.map((a) => [a.scheduleId, a]));
  return {
    exists: Boolean(server),
    problem: serverProblem(serverId, server, new Set(app.providers.keys())),
    providerName: provider?.displayName ?? server?.provider ?? null,
    capabilities: provider ? { ...provider.capabilities, notes: [...provider.capabilities.notes] } : null,
    schedules: schedules.map((s) => {
      const a = byId.get(Number(s.id));
      return {
        id: Number(s.id), name: s.name, enabled: s.enabled === 1, timing: timingOf(s), assigned: Boolean(a),
        nextRunAt: a && s.enabled === 1 ? a.nextSlotAt : null, spreadOffsetMinutes: Math.round(spreadOffsetMs(timingOf(s), serverId) / 60_000), problem: a?.problem ?? null,
      };
    }),
    last: last ?? null,
  };
}

/** Settings: per provider slug, where its credentials come from and (when asked) whether a test call works. */
export async function credentialSources(app: AppContext, check: boolean) {
  return { ...(await providerSources(app, check)), checked: check };
}
