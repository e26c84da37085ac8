import type { DB } from '../db.js';
import { decideRetention, type RetentionDecision } from '../retention.js';
import { rulesOf } from '../schedules.js';
import { recordEvents } from '../store/events.js';

/**
 * Apply a schedule's retention to one server: decide (a pure function, retention.ts), then
 * queue the deletions. The UPDATE repeats every protection in SQL, so a protection an admin
 * sets between the decision and the update still wins.
 */
export async function applyRetention(db: DB, now: Date, serverId: number, scheduleId: number): Promise<RetentionDecision[]> {
  const schedule = await db.selectFrom('ss_schedules').selectAll().where('id', '=', scheduleId).executeTakeFirst();
  if (!schedule) return [];
  const { decisions } = await previewRetention(db, now, serverId, schedule);
  const doomed = decisions.filter((d) => d.action === 'delete');
  if (doomed.length === 0) return decisions;
  const ids = doomed.map((d) => d.id);
  const res = await db.updateTable('ss_snapshots')
    .set({ status: 'deleting', next_attempt_at: now, attempts: 0, lease_owner: null, last_error: null, updated_at: now })
    .where('id', 'in', ids).where('status', '=', 'available').where('origin', '=', 'scheduled')
    .where('keep_forever', '=', 0)
    .where((eb) => eb.or([eb('delete_not_before', 'is', null), eb('delete_not_before', '<=', now)]))
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) > 0) {
    const queued = await db.selectFrom('ss_snapshots').select('id').where('id', 'in', ids).where('status', '=', 'deleting').execute();
    const queuedIds = new Set(queued.map((q) => Number(q.id)));
    await recordEvents(db, doomed.filter((d) => queuedIds.has(d.id)).map((d) => ({
      snapshotId: d.id, serverId, scheduleId, actor: 'scheduler', action: 'retention_delete',
      detail: `${d.reasons.join('; ')} (schedule "${schedule.name}")`, at: now,
    })));
  }
  return decisions;
}

export async function previewRetention(db: DB, now: Date, serverId: number, schedule: Parameters<typeof rulesOf>[0]) {
  const rows = await db.selectFrom('ss_snapshots')
    .select(['id', 'status', 'origin', 'created_at', 'slot_at', 'keep_forever', 'delete_not_before', 'name'])
    .where('server_id', '=', serverId).where('schedule_id', '=', Number(schedule.id))
    .where('status', 'not in', ['deleted']).orderBy('id', 'desc').limit(5000).execute();
  const decisions = decideRetention(rows.map((r) => ({
    id: Number(r.id), status: r.status, origin: r.origin,
    // A scheduled snapshot belongs to its slot: bucket by slot time, not by when the provider finished.
    createdAt: r.slot_at ?? r.created_at,
    keepForever: r.keep_forever === 1, deleteNotBefore: r.delete_not_before,
  })), rulesOf(schedule), { timezone: schedule.timezone, now });
  return { decisions, rows };
}
