/**
 * Dispatch: turn due schedule slots into snapshot rows.
 *
 * One short transaction claims up to `limit` due assignments with FOR UPDATE SKIP LOCKED
 * (several sidecars take disjoint batches and never wait on each other), inserts one
 * `requested` snapshot per (server, schedule, slot) — the unique key `slot_uq` makes a
 * second one impossible even if two transactions somehow saw the same slot — and moves each
 * assignment to its next slot. The schedule's "no reboot" wish is copied onto the row, so the
 * engine never reads the schedule again. The provider is not called here: the row exists before any
 * provider call, which is what makes crash recovery possible.
 *
 * Spread: an assignment's `next_slot_at` is its due time — the nominal slot plus the server's
 * stable offset in the schedule's spread window (slots.ts) — so a schedule's servers arrive
 * as a steady stream over the window, not as one burst at the full hour.
 *
 * Missed slots: a sidecar that was down for a day finds `next_slot_at` far in the past; we
 * snapshot only the latest slot at or before now (one catch-up, not a burst) and move on.
 */
import type { DB } from '../db.js';
import type { Host } from '../host.js';
import { serverDisplayName, serverProblem } from '../host.js';
import { timingOf } from '../schedules.js';
import { dueSlotAtOrBefore, nextDueAfter } from '../slots.js';
import { claimDueSlots, deleteAssignments, moveToNextSlots } from '../store/assignments.js';
import { recordEvents } from '../store/events.js';
import { schedulesByIds } from '../store/schedules.js';
import { insertScheduled, type NewSnapshot } from '../store/snapshots.js';

export interface DispatchDeps {
  db: DB;
  host: Host;
  knownProviders: ReadonlySet<string>;
  providerTypes: ReadonlyMap<string, string>;
}

export async function dispatchDue(deps: DispatchDeps, now: Date, limit: number): Promise<{ claimed: number; created: number }> {
  return await deps.db.transaction().execute(async (trx) => {
    const due = await claimDueSlots(trx, now, limit);
    if (due.length === 0) return { claimed: 0, created: 0 };

    const schedules = new Map((await schedulesByIds(trx, [...new Set(due.map((a) => a.scheduleId))])).map((s) => [Number(s.id), s]));
    const servers = await deps.host.getServers(due.map((a) => a.serverId));

    const rows: NewSnapshot[] = [];
    const moves: Array<{ id: number; next: Date; problem: string | null }> = [];
    const orphans: number[] = [];
    for (const a of due) {
      const schedule = schedules.get(a.scheduleId);
      if (!schedule) { orphans.push(a.id); continue; }
      const timing = timingOf(schedule);
      // Spread: each server runs at its own offset after the slot, but the snapshot belongs
      // to the nominal slot (slot_uq), so a spread run is still exactly one per slot.
      const slot = dueSlotAtOrBefore(timing, a.serverId, now);
      const next = nextDueAfter(timing, a.serverId, now).dueAt;
      if (schedule.enabled !== 1) { moves.push({ id: a.id, next, problem: null }); continue; }
      const server = servers.get(a.serverId);
      const problem = serverProblem(a.serverId, server, deps.knownProviders);
      moves.push({ id: a.id, next, problem });
      if (problem || !server || !server.provider) continue;
      rows.push({
        serverId: a.serverId, scheduleId: a.scheduleId, slotAt: slot, origin: 'scheduled', status: 'requested',
        provider: server.provider, providerType: deps.providerTypes.get(server.provider) ?? null,
        serverName: serverDisplayName(server, server.id), instanceId: server.instanceId, region: server.region,
        noReboot: schedule.no_reboot === 1, requestedBy: 'scheduler', now,
      });
    }

    const { created, made } = await insertScheduled(trx, rows, now);
    await recordEvents(trx, made.map((m) => ({
      snapshotId: Number(m.id), serverId: Number(m.server_id), scheduleId: Number(m.schedule_id),
      actor: 'scheduler', action: 'requested', detail: `Scheduled slot ${m.slot_at?.toISOString() ?? ''}`, at: now,
    })));
    await moveToNextSlots(trx, moves);
    await deleteAssignments(trx, orphans);
    return { claimed: due.length, created };
  });
}
