import type { Selectable } from 'kysely';
import type { DB } from '../db.js';
import { notFound } from '../errors.js';
import type { RetentionRules } from '../retention.js';
import type { SchedulesTable } from '../schema.js';

/** The one owner of `ss_schedules`. */
export type ScheduleRow = Selectable<SchedulesTable>;

/** A schedule as the domain knows it (validated by schedules.ts `normalizeSchedule`). */
export interface ScheduleValues {
  name: string;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string;
  /** Spread window in minutes; null = the timing's default (slots.ts). */
  spreadMinutes: number | null;
  retention: RetentionRules & { minKeep: number };
  enabled: boolean;
  noReboot: boolean;
}

/** Row → retention rules: the one place that maps the keep_* columns. */
export function rulesOf(row: Pick<ScheduleRow, 'keep_last' | 'keep_hourly' | 'keep_daily' | 'keep_weekly' | 'keep_monthly' | 'keep_yearly' | 'max_age_days' | 'min_keep'>): RetentionRules {
  return {
    keepLast: row.keep_last, keepHourly: row.keep_hourly, keepDaily: row.keep_daily, keepWeekly: row.keep_weekly,
    keepMonthly: row.keep_monthly, keepYearly: row.keep_yearly, maxAgeDays: row.max_age_days, minKeep: row.min_keep,
  };
}

/** Retention rules → columns: the other direction of `rulesOf`. */
function ruleColumns(r: RetentionRules & { minKeep: number }) {
  return {
    keep_last: r.keepLast ?? null, keep_hourly: r.keepHourly ?? null, keep_daily: r.keepDaily ?? null,
    keep_weekly: r.keepWeekly ?? null, keep_monthly: r.keepMonthly ?? null, keep_yearly: r.keepYearly ?? null,
    max_age_days: r.maxAgeDays ?? null, min_keep: r.minKeep,
  };
}

function columns(s: ScheduleValues) {
  return {
    name: s.name, interval_minutes: s.intervalMinutes, cron: s.cron, timezone: s.timezone, spread_minutes: s.spreadMinutes,
    ...ruleColumns(s.retention), enabled: s.enabled ? 1 : 0, no_reboot: s.noReboot ? 1 : 0,
  };
}

export async function listSchedules(db: DB): Promise<ScheduleRow[]> {
  return await db.selectFrom('ss_schedules').selectAll().orderBy('name').orderBy('id').limit(1000).execute();
}

/** Schedules by name (id and name only, as listSchedules orders them): the list's filter choices. */
export async function scheduleChoices(db: DB, limit: number): Promise<Array<{ id: number; name: string }>> {
  const rows = await db.selectFrom('ss_schedules').select(['id', 'name']).orderBy('name').orderBy('id').limit(limit).execute();
  return rows.map((s) => ({ id: Number(s.id), name: s.name }));
}

export async function findSchedule(db: DB, id: number): Promise<ScheduleRow | undefined> {
  return await db.selectFrom('ss_schedules').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getSchedule(db: DB, id: number): Promise<ScheduleRow> {
  const row = await findSchedule(db, id);
  if (!row) throw notFound(`Schedule ${id}`);
  return row;
}

export async function schedulesByIds(db: DB, ids: number[]): Promise<ScheduleRow[]> {
  if (ids.length === 0) return [];
  return await db.selectFrom('ss_schedules').selectAll().where('id', 'in', ids).execute();
}

export async function scheduleNames(db: DB, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('ss_schedules').select(['id', 'name']).where('id', 'in', ids).execute();
  return new Map(rows.map((s) => [Number(s.id), s.name]));
}

/** Schedules with an age limit: the engine's sweep re-applies their retention over time. */
export async function schedulesWithMaxAge(db: DB): Promise<Array<{ id: number; maxAgeDays: number }>> {
  const rows = await db.selectFrom('ss_schedules').select(['id', 'max_age_days']).where('max_age_days', 'is not', null).execute();
  return rows.map((s) => ({ id: Number(s.id), maxAgeDays: Number(s.max_age_days) }));
}

export async function insertSchedule(db: DB, s: ScheduleValues, now: Date): Promise<number> {
  const res = await db.insertInto('ss_schedules').values({ ...columns(s), created_at: now, updated_at: now }).executeTakeFirstOrThrow();
  return Number(res.insertId);
}

export async function updateSchedule(db: DB, id: number, s: ScheduleValues, now: Date): Promise<void> {
  await db.updateTable('ss_schedules').set({ ...columns(s), updated_at: now }).where('id', '=', id).execute();
}

export async function deleteSchedule(db: DB, id: number): Promise<void> {
  await db.deleteFrom('ss_schedules').where('id', '=', id).execute();
}

/** A schedule's health limits (NULL: the defaults for its timing). */
export async function writeScheduleFreshness(db: DB, id: number, f: { warnAfterMinutes: number | null; criticalAfterMinutes: number | null }): Promise<void> {
  await db.updateTable('ss_schedules').set({ warn_after_minutes: f.warnAfterMinutes, critical_after_minutes: f.criticalAfterMinutes }).where('id', '=', id).execute();
}
