/**
 * Apply a schedule's retention to one server: decide (a pure function, retention.ts), then
 * queue the deletions. The queueing UPDATE repeats every protection in SQL, so a protection an
 * admin sets between the decision and the update still wins.
 */
import type { DB } from '../db.js';
import { decideRetention, type RetentionDecision } from '../retention.js';
import { recordEvents } from '../store/events.js';
import { findSchedule, rulesOf, type ScheduleRow } from '../store/schedules.js';
import { idsWithStatus, queueDelete, retentionCandidates } from '../store/snapshots.js';

export async function applyRetention(db: DB, now: Date, serverId: number, scheduleId: number): Promise<RetentionDecision[]> {
  const schedule = await findSchedule(db, scheduleId);
  if (!schedule) return [];
  const { decisions } = await previewRetention(db, now, serverId, schedule);
  const doomed = decisions.filter((d) => d.action === 'delete');
  if (doomed.length === 0) return decisions;
  const ids = doomed.map((d) => d.id);
  if ((await queueDelete(db, ids, 'retention', now)) > 0) {
    const queuedIds = await idsWithStatus(db, ids, 'deleting');
    await recordEvents(db, doomed.filter((d) => queuedIds.has(d.id)).map((d) => ({
      snapshotId: d.id, serverId, scheduleId, actor: 'scheduler', action: 'retention_delete',
      detail: `${d.reasons.join('; ')} (schedule "${schedule.name}")`, at: now,
    })));
  }
  return decisions;
}

export async function previewRetention(db: DB, now: Date, serverId: number, schedule: ScheduleRow) {
  const rows = await retentionCandidates(db, serverId, Number(schedule.id));
  const decisions = decideRetention(rows.map((r) => ({
    id: Number(r.id), status: r.status, origin: r.origin,
    // A scheduled snapshot belongs to its slot: bucket by slot time, not by when the provider finished.
    createdAt: r.slot_at ?? r.created_at,
    keepForever: r.keep_forever === 1, deleteNotBefore: r.delete_not_before,
  })), rulesOf(schedule), { timezone: schedule.timezone, now });
  return { decisions, rows };
}
