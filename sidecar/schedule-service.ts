/**
 * Saving a schedule, for every way in (the JSON API and the rendered form): the row, its
 * health limits, the new timing for every assigned server when the timing changed, and the
 * audit event — in one transaction, written once.
 */
import type { DB } from './db.js';
import { nextDueAfter } from './slots.js';
import { retime } from './store/assignments.js';
import { recordEvent } from './store/events.js';
import { getSchedule, insertSchedule, updateSchedule, writeScheduleFreshness, type ScheduleValues } from './store/schedules.js';

export interface Freshness { warnAfterMinutes: number | null; criticalAfterMinutes: number | null }

export async function createSchedule(db: DB, s: ScheduleValues, o: { now: Date; actor: string; freshness?: Freshness }): Promise<number> {
  return await db.transaction().execute(async (trx) => {
    const id = await insertSchedule(trx, s, o.now);
    if (o.freshness) await writeScheduleFreshness(trx, id, o.freshness);
    await recordEvent(trx, { scheduleId: id, actor: o.actor, action: 'schedule_created', detail: s.name, at: o.now });
    return id;
  });
}

/** Replace a schedule's settings; health limits are left as they are when `freshness` is not given. */
export async function replaceSchedule(db: DB, id: number, s: ScheduleValues, o: { now: Date; actor: string; freshness?: Freshness }): Promise<void> {
  const before = await getSchedule(db, id);
  await db.transaction().execute(async (trx) => {
    await updateSchedule(trx, id, s, o.now);
    if (o.freshness) await writeScheduleFreshness(trx, id, o.freshness);
    if (before.interval_minutes !== s.intervalMinutes || before.cron !== s.cron || before.timezone !== s.timezone || before.spread_minutes !== s.spreadMinutes) {
      // New timing or spread: every server's next run follows the new rule from now on.
      const timing = { intervalMinutes: s.intervalMinutes, cron: s.cron, timezone: s.timezone, spreadMinutes: s.spreadMinutes };
      await retime(trx, id, (serverId) => nextDueAfter(timing, serverId, o.now).dueAt);
    }
    await recordEvent(trx, { scheduleId: id, actor: o.actor, action: 'schedule_updated', detail: s.name, at: o.now });
  });
}
