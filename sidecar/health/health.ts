import type { DB } from '../db.js';
import type { Host } from '../host.js';
import { serverDisplayName } from '../host.js';
import type { HealthState } from '../schema.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { assignmentFactsByServerPage, assignmentFactsPage } from '../store/health.js';
import { assignmentHealth, HEALTH_STATES, SEVERITY, serverHealth, type AssignmentHealth, type ServerHealth } from './state.js';

/**
 * Health of every server with at least one schedule, a page of servers at a time. Between
 * pages the loop yields to the event loop and, with `paceRatio`, rests for that share of the
 * page's own time: a pass over 10,000 servers is tens of thousands of index lookups, and
 * spread out it neither stalls the engine's timers nor crowds its queries out of the database
 * on a small machine.
 */
export async function* healthPages(db: DB, now: Date, failingAfter: number, opts: { serversPerPage?: number; paceRatio?: number } = {}): AsyncGenerator<Map<number, ServerHealth>> {
  const pages = assignmentFactsByServerPage(db, opts.serversPerPage ?? 250);
  for (;;) {
    const started = Date.now();
    const next = await pages.next();
    if (next.done) return;
    const byServer = new Map<number, AssignmentHealth[]>();
    for (const f of next.value) {
      const h = assignmentHealth(f, now, failingAfter);
      const list = byServer.get(f.serverId);
      if (list) list.push(h); else byServer.set(f.serverId, [h]);
    }
    const out = new Map<number, ServerHealth>();
    for (const [serverId, list] of byServer) out.set(serverId, serverHealth(serverId, null, list));
    yield out;
    const rest = Math.min(1000, Math.round((Date.now() - started) * (opts.paceRatio ?? 0)));
    if (rest > 0) await new Promise((r) => setTimeout(r, rest)); else await nextTurn();
  }
}

/** Health of every server with at least one schedule, from the database (health/state.ts). */
export async function computeAllHealth(db: DB, now: Date, failingAfter: number): Promise<Map<number, ServerHealth>> {
  const out = new Map<number, ServerHealth>();
  for await (const page of healthPages(db, now, failingAfter)) for (const [id, h] of page) out.set(id, h);
  return out;
}

/** One server's health (ok with no schedules when it has none). */
export async function computeServerHealth(db: DB, host: Host, now: Date, failingAfter: number, serverId: number): Promise<ServerHealth> {
  const { facts } = await assignmentFactsPage(db, { serverIds: [serverId], limit: 1000 });
  const server = (await host.getServers([serverId])).get(serverId);
  return serverHealth(serverId, serverDisplayName(server, serverId), facts.map((f) => assignmentHealth(f, now, failingAfter)));
}

/** Server ids that are not ok: the snapshot list's "Needs attention" filter. */
export async function serversNeedingAttention(db: DB, now: Date, failingAfter: number): Promise<number[]> {
  const all = await computeAllHealth(db, now, failingAfter);
  return [...all.values()].filter((s) => s.state !== 'ok').map((s) => s.serverId).sort((a, b) => a - b);
}

/** Worst first: severity, then longest in trouble, then server id. */
export function worstFirst(a: ServerHealth, b: ServerHealth): number {
  return SEVERITY[b.state] - SEVERITY[a.state]
    || (a.since?.getTime() ?? Infinity) - (b.since?.getTime() ?? Infinity)
    || a.serverId - b.serverId;
}

export function countsByState(all: Iterable<ServerHealth>): Record<HealthState, number> {
  const counts = Object.fromEntries(HEALTH_STATES.map((s) => [s, 0])) as Record<HealthState, number>;
  for (const s of all) counts[s.state] += 1;
  return counts;
}

export function serverHealthToApi(h: ServerHealth, adminUrl: string | null) {
  return {
    serverId: h.serverId,
    serverName: h.serverName,
    state: h.state,
    since: h.since?.toISOString() ?? null,
    reason: h.reason,
    scheduleId: h.scheduleId,
    scheduleName: h.scheduleName,
    lastGoodAt: h.lastGoodAt?.toISOString() ?? null,
    snapshotsUrl: snapshotsUrl(adminUrl, h.serverId),
    schedules: h.schedules.map((a) => ({
      scheduleId: a.scheduleId, scheduleName: a.scheduleName, state: a.state, since: a.since?.toISOString() ?? null,
      reason: a.reason, lastGoodAt: a.lastGoodAt?.toISOString() ?? null, failuresInRow: a.failuresInRow,
      warnAfterMinutes: a.warnAfterMinutes, criticalAfterMinutes: a.criticalAfterMinutes,
    })),
  };
}

/** The server's snapshots in wp-admin (the Snapshots list filtered to it), when SS_ADMIN_URL is set. */
export function snapshotsUrl(adminUrl: string | null, serverId: number): string | null {
  if (!adminUrl) return null;
  return `${adminUrl.replace(/\/+$/, '')}/admin.php?page=ss-snapshots&serverId=${serverId}`;
}
