import { sql } from 'kysely';
import type { DB } from '../db.js';
import type { Host } from '../host.js';
import { serverDisplayName, serverProblem } from '../host.js';
import { timingOf } from '../schedules.js';
import { latestSlotAtOrBefore, nextSlotAfter } from '../slots.js';
import { recordEvents } from '../store/events.js';

/**
 * Dispatch: turn due schedule slots into snapshot rows.
 *
 * One short transaction claims up to `limit` due assignments with FOR UPDATE SKIP LOCKED
 * (several sidecars take disjoint batches and never wait on each other), inserts one
 * `requested` snapshot per (server, schedule, slot) — the unique key `slot_uq` makes a
 * second one impossible even if two transactions somehow saw the same slot — and moves each
 * assignment to its next slot. The provider is not called here: the row exists before any
 * provider call, which is what makes crash recovery possible.
 *
 * Missed slots: a sidecar that was down for a day finds `next_slot_at` far in the past; we
 * snapshot only the latest slot at or before now (one catch-up, not a burst) and move on.
 */
export interface DispatchDeps {
  db: DB;
  host: Host;
  knownProviders: ReadonlySet<string>;
  providerTypes: ReadonlyMap<string, string>;
}

export async function dispatchDue(deps: DispatchDeps, now: Date, limit: number): Promise<{ claimed: number; created: number }> {
  return await deps.db.transaction().execute(async (trx) => {
    // Only the assignments table is locked: joining schedules here would lock schedule rows
    // too and make every sidecar skip all assignments of a schedule another one is handling.
    const due = await trx.selectFrom('ss_assignments').select(['id', 'server_id', 'schedule_id', 'next_slot_at', 'problem'])
      .where('next_slot_at', '<=', now).orderBy('next_slot_at').limit(limit)
      .forUpdate().skipLocked().execute();
    if (due.length === 0) return { claimed: 0, created: 0 };

    const scheduleIds = [...new Set(due.map((a) => Number(a.schedule_id)))];
    const schedules = new Map((await trx.selectFrom('ss_schedules').selectAll().where('id', 'in', scheduleIds).execute())
      .map((s) => [Number(s.id), s]));
    const servers = await deps.host.getServers(due.map((a) => Number(a.server_id)));

    const inserts: Array<Record<string, unknown>> = [];
    const moves: Array<{ id: number; next: Date; problem: string | null }> = [];
    const orphans: number[] = [];
    for (const a of due) {
      const schedule = schedules.get(Number(a.schedule_id));
      if (!schedule) { orphans.push(Number(a.id)); continue; }
      const timing = timingOf(schedule);
      const slot = latestSlotAtOrBefore(timing, now);
      const next = nextSlotAfter(timing, now);
      if (schedule.enabled !== 1) { moves.push({ id: Number(a.id), next, problem: null }); continue; }
      const server = servers.get(Number(a.server_id));
      const problem = serverProblem(Number(a.server_id), server, deps.knownProviders);
      moves.push({ id: Number(a.id), next, problem });
      if (problem || !server) continue;
      inserts.push({
        server_id: Number(a.server_id), schedule_id: Number(a.schedule_id), slot_at: slot,
        origin: 'scheduled', status: 'requested', provider: server.provider,
        provider_type: deps.providerTypes.get(server.provider!) ?? null,
        name: '', server_name: serverDisplayName(server, server.id).slice(0, 190), instance_id: server.instanceId,
        keep_forever: 0, attempts: 0, next_attempt_at: now, requested_by: 'scheduler',
        created_at: now, updated_at: now,
      });
    }

    let created = 0;
    if (inserts.length > 0) {
      // IGNORE only swallows the slot_uq duplicate (a slot already snapshotted); every other
      // column is NOT NULL-safe above, so nothing else can be silently dropped.
      const res = await trx.insertInto('ss_snapshots').ignore().values(inserts as never).executeTakeFirst();
      created = Number(res.numInsertedOrUpdatedRows ?? 0);
      const made = await trx.selectFrom('ss_snapshots').select(['id', 'server_id', 'schedule_id', 'slot_at'])
        .where((eb) => eb.or(inserts.map((r) => eb.and([
          eb('server_id', '=', r.server_id as number), eb('schedule_id', '=', r.schedule_id as number), eb('slot_at', '=', r.slot_at as Date),
        ])))).where('created_at', '=', now).execute();
      await recordEvents(trx, made.map((m) => ({
        snapshotId: Number(m.id), serverId: Number(m.server_id), scheduleId: Number(m.schedule_id),
        actor: 'scheduler', action: 'requested', detail: `Scheduled slot ${m.slot_at?.toISOString() ?? ''}`, at: now,
      })));
    }
    if (moves.length > 0) {
      const ids = moves.map((m) => m.id);
      const nextCase = sql`CASE id ${sql.join(moves.map((m) => sql`WHEN ${m.id} THEN ${m.next}`), sql` `)} END`;
      const problemCase = sql`CASE id ${sql.join(moves.map((m) => sql`WHEN ${m.id} THEN ${m.problem}`), sql` `)} END`;
      await trx.updateTable('ss_assignments')
        .set({ next_slot_at: nextCase as never, problem: problemCase as never })
        .where('id', 'in', ids).execute();
    }
    if (orphans.length > 0) await trx.deleteFrom('ss_assignments').where('id', 'in', orphans).execute();
    return { claimed: due.length, created };
  });
}
