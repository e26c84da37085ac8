/** The one owner of `ss_assignments`: which server follows which schedule, and its next slot. */
import { sql } from 'kysely';
import type { DB } from '../db.js';

/**
 * Claim up to `limit` due assignments for dispatch, inside the caller's transaction, with
 * FOR UPDATE SKIP LOCKED: several sidecars take disjoint batches and never wait on each other.
 * Only this table is locked: joining schedules here would lock schedule rows too and make
 * every sidecar skip all assignments of a schedule another one is handling.
 */
export async function claimDueSlots(trx: DB, now: Date, limit: number) {
  const rows = await trx.selectFrom('ss_assignments').select(['id', 'server_id', 'schedule_id', 'next_slot_at', 'problem'])
    .where('next_slot_at', '<=', now).orderBy('next_slot_at').limit(limit)
    .forUpdate().skipLocked().execute();
  return rows.map((a) => ({ id: Number(a.id), serverId: Number(a.server_id), scheduleId: Number(a.schedule_id) }));
}

/** Move each assignment to its next slot and store why its server cannot be snapshotted (or null), in one UPDATE. */
export async function moveToNextSlots(trx: DB, moves: Array<{ id: number; next: Date; problem: string | null }>): Promise<void> {
  if (moves.length === 0) return;
  const nextCase = sql`CASE id ${sql.join(moves.map((m) => sql`WHEN ${m.id} THEN ${m.next}`), sql` `)} END`;
  const problemCase = sql`CASE id ${sql.join(moves.map((m) => sql`WHEN ${m.id} THEN ${m.problem}`), sql` `)} END`;
  await trx.updateTable('ss_assignments')
    .set({ next_slot_at: nextCase as never, problem: problemCase as never })
    .where('id', 'in', moves.map((m) => m.id)).execute();
}

export async function deleteAssignments(trx: DB, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.deleteFrom('ss_assignments').where('id', 'in', ids).execute();
}

/** A server's schedules with their next run, for the server screen. */
export async function assignmentsOfServer(db: DB, serverId: number) {
  const rows = await db.selectFrom('ss_assignments as a').innerJoin('ss_schedules as s', 's.id', 'a.schedule_id')
    .select(['a.schedule_id', 'a.next_slot_at', 'a.problem', 's.name', 's.enabled', 's.interval_minutes', 's.cron', 's.timezone', 's.spread_minutes'])
    .where('a.server_id', '=', serverId).orderBy('s.name').execute();
  return rows.map((a) => ({
    scheduleId: Number(a.schedule_id), name: a.name, enabled: a.enabled === 1, nextSlotAt: a.next_slot_at, problem: a.problem,
    timing: { intervalMinutes: a.interval_minutes, cron: a.cron, timezone: a.timezone, spreadMinutes: a.spread_minutes },
  }));
}

/** The assignments of a server, locked for a change of its schedule set. */
export async function lockServerAssignments(trx: DB, serverId: number) {
  const rows = await trx.selectFrom('ss_assignments').select(['id', 'schedule_id']).where('server_id', '=', serverId).forUpdate().execute();
  return rows.map((c) => ({ id: Number(c.id), scheduleId: Number(c.schedule_id) }));
}

export async function assign(trx: DB, serverId: number, slots: Array<{ scheduleId: number; nextSlotAt: Date }>, now: Date): Promise<void> {
  if (slots.length === 0) return;
  await trx.insertInto('ss_assignments').values(slots.map((s) => ({
    server_id: serverId, schedule_id: s.scheduleId, next_slot_at: s.nextSlotAt, problem: null, created_at: now,
  }))).execute();
}

/**
 * New timing for a schedule: every server's next run follows the new rule from now on. Each
 * server has its own due time (its spread offset), so `nextOf` computes it per server; the
 * updates go in batches of one CASE statement each.
 */
export async function retime(trx: DB, scheduleId: number, nextOf: (serverId: number) => Date): Promise<void> {
  let afterId = 0;
  for (;;) {
    const rows = await trx.selectFrom('ss_assignments').select(['id', 'server_id']).where('schedule_id', '=', scheduleId)
      .where('id', '>', afterId).orderBy('id').limit(1000).forUpdate().execute();
    if (rows.length === 0) return;
    afterId = Number(rows[rows.length - 1]!.id);
    const nextCase = sql`CASE id ${sql.join(rows.map((r) => sql`WHEN ${Number(r.id)} THEN ${nextOf(Number(r.server_id))}`), sql` `)} END`;
    await trx.updateTable('ss_assignments').set({ next_slot_at: nextCase as never }).where('id', 'in', rows.map((r) => Number(r.id))).execute();
  }
}

export async function removeForSchedule(trx: DB, scheduleId: number): Promise<void> {
  await trx.deleteFrom('ss_assignments').where('schedule_id', '=', scheduleId).execute();
}

export async function scheduleIdsOfServer(db: DB, serverId: number): Promise<number[]> {
  const rows = await db.selectFrom('ss_assignments').select('schedule_id').where('server_id', '=', serverId).execute();
  return rows.map((a) => Number(a.schedule_id));
}

export async function serverIdsOfSchedule(db: DB, scheduleId: number, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('ss_assignments').select('server_id').where('schedule_id', '=', scheduleId).orderBy('server_id').limit(limit).execute();
  return rows.map((x) => Number(x.server_id));
}

/** Servers with at least one schedule (the fleet whose health is judged). */
export async function countAssignedServers(db: DB): Promise<number> {
  const row = await db.selectFrom('ss_assignments').select((eb) => eb.fn.count<number>('server_id').distinct().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function serverCounts(db: DB, scheduleIds: number[]): Promise<Map<number, number>> {
  if (scheduleIds.length === 0) return new Map();
  const rows = await db.selectFrom('ss_assignments').select(['schedule_id']).select((eb) => eb.fn.countAll<number>().as('n'))
    .where('schedule_id', 'in', scheduleIds).groupBy('schedule_id').execute();
  return new Map(rows.map((r) => [Number(r.schedule_id), Number(r.n)]));
}

/** The next slot any assignment owes (reads the first entry of due_idx). */
export async function nextSlotAt(db: DB): Promise<Date | null> {
  const r = await db.selectFrom('ss_assignments').select((eb) => eb.fn.min('next_slot_at').as('at')).executeTakeFirst();
  return r?.at instanceof Date ? r.at : null;
}
