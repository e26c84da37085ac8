import { z } from 'zod';
import type { DB } from './db.js';
import { invalid, notFound } from './errors.js';
import { describeRetention, hasAnyBound, type RetentionRules } from './retention.js';
import type { SchedulesTable } from './schema.js';
import { cronProblem, describeTiming, isValidTimezone, nextRuns, type Timing } from './slots.js';
import { parseOr400 } from './validation.js';
import type { Selectable } from 'kysely';

/** A schedule: when to snapshot (interval or cron, in a timezone) and what to keep. */
export type ScheduleRow = Selectable<SchedulesTable>;

const count = z.number().int().min(0).max(100_000).nullable().optional();

export const retentionSchema = z.object({
  keepLast: count,
  keepHourly: count,
  keepDaily: count,
  keepWeekly: count,
  keepMonthly: count,
  keepYearly: count,
  maxAgeDays: z.number().int().min(1).max(36_500).nullable().optional(),
  minKeep: z.number().int().min(0).max(1000).nullable().optional(),
}).strict();

export const scheduleInputSchema = z.object({
  name: z.string().trim().min(1).max(190),
  intervalMinutes: z.number().int().min(1).max(525_600).nullable().optional(),
  cron: z.string().trim().min(1).max(190).nullable().optional(),
  timezone: z.string().min(1).max(64).optional(),
  retention: retentionSchema,
  enabled: z.boolean().optional(),
  noReboot: z.boolean().optional(),
}).strict();

export type ScheduleInput = z.infer<typeof scheduleInputSchema>;

export interface NormalizedSchedule {
  name: string;
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string;
  retention: Required<{ [K in keyof RetentionRules]: number | null }> & { minKeep: number };
  enabled: boolean;
  noReboot: boolean;
}

/** Validates a schedule body (zod shape + the rules zod cannot say) into a normalized schedule. */
export function normalizeSchedule(body: unknown): NormalizedSchedule {
  const input = parseOr400(scheduleInputSchema, body);
  const fields: Record<string, string> = {};
  const interval = input.intervalMinutes ?? null;
  const cron = input.cron ?? null;
  if (interval === null && cron === null) fields.intervalMinutes = 'give either intervalMinutes (every N minutes) or cron';
  if (interval !== null && cron !== null) fields.cron = 'give either intervalMinutes or cron, not both';
  if (cron !== null) {
    const problem = cronProblem(cron);
    if (problem) fields.cron = problem;
  }
  const timezone = input.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) fields.timezone = 'must be an IANA timezone such as Europe/Berlin or UTC';
  const r = input.retention;
  const retention = {
    keepLast: r.keepLast ?? null, keepHourly: r.keepHourly ?? null, keepDaily: r.keepDaily ?? null,
    keepWeekly: r.keepWeekly ?? null, keepMonthly: r.keepMonthly ?? null, keepYearly: r.keepYearly ?? null,
    maxAgeDays: r.maxAgeDays ?? null, minKeep: r.minKeep ?? 1,
  };
  if (!hasAnyBound(retention)) {
    fields.retention = 'set at least one of keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly or maxAgeDays (a count above 0)';
  }
  if (Object.keys(fields).length > 0) throw invalid(fields);
  return { name: input.name, intervalMinutes: interval, cron, timezone, retention, enabled: input.enabled ?? true, noReboot: input.noReboot ?? true };
}

export function timingOf(row: Pick<ScheduleRow, 'interval_minutes' | 'cron' | 'timezone'>): Timing {
  return { intervalMinutes: row.interval_minutes, cron: row.cron, timezone: row.timezone };
}

export function rulesOf(row: ScheduleRow): RetentionRules {
  return {
    keepLast: row.keep_last, keepHourly: row.keep_hourly, keepDaily: row.keep_daily, keepWeekly: row.keep_weekly,
    keepMonthly: row.keep_monthly, keepYearly: row.keep_yearly, maxAgeDays: row.max_age_days, minKeep: row.min_keep,
  };
}

function toRowValues(s: NormalizedSchedule) {
  return {
    name: s.name, interval_minutes: s.intervalMinutes, cron: s.cron, timezone: s.timezone,
    keep_last: s.retention.keepLast, keep_hourly: s.retention.keepHourly, keep_daily: s.retention.keepDaily,
    keep_weekly: s.retention.keepWeekly, keep_monthly: s.retention.keepMonthly, keep_yearly: s.retention.keepYearly,
    max_age_days: s.retention.maxAgeDays, min_keep: s.retention.minKeep,
    enabled: s.enabled ? 1 : 0, no_reboot: s.noReboot ? 1 : 0,
  };
}

export function scheduleToApi(row: ScheduleRow, extra: { serverCount?: number; now?: Date } = {}) {
  const timing = timingOf(row);
  const rules = rulesOf(row);
  return {
    id: Number(row.id),
    name: row.name,
    intervalMinutes: row.interval_minutes,
    cron: row.cron,
    timezone: row.timezone,
    frequency: describeTiming(timing),
    retention: {
      keepLast: row.keep_last, keepHourly: row.keep_hourly, keepDaily: row.keep_daily, keepWeekly: row.keep_weekly,
      keepMonthly: row.keep_monthly, keepYearly: row.keep_yearly, maxAgeDays: row.max_age_days, minKeep: row.min_keep,
    },
    retentionSummary: describeRetention(rules),
    enabled: row.enabled === 1,
    noReboot: row.no_reboot === 1,
    serverCount: extra.serverCount ?? 0,
    nextRunAt: extra.now && row.enabled === 1 ? nextRuns(timing, extra.now, 1)[0]!.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function listSchedules(db: DB): Promise<ScheduleRow[]> {
  return await db.selectFrom('ss_schedules').selectAll().orderBy('name').orderBy('id').limit(1000).execute();
}

export async function getSchedule(db: DB, id: number): Promise<ScheduleRow> {
  const row = await db.selectFrom('ss_schedules').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`Schedule ${id}`);
  return row;
}

export async function serverCounts(db: DB, scheduleIds: number[]): Promise<Map<number, number>> {
  if (scheduleIds.length === 0) return new Map();
  const rows = await db.selectFrom('ss_assignments').select(['schedule_id']).select((eb) => eb.fn.countAll<number>().as('n'))
    .where('schedule_id', 'in', scheduleIds).groupBy('schedule_id').execute();
  return new Map(rows.map((r) => [Number(r.schedule_id), Number(r.n)]));
}

export async function insertSchedule(db: DB, s: NormalizedSchedule, now: Date): Promise<number> {
  const res = await db.insertInto('ss_schedules').values({ ...toRowValues(s), created_at: now, updated_at: now }).executeTakeFirstOrThrow();
  return Number(res.insertId);
}

export async function updateSchedule(db: DB, id: number, s: NormalizedSchedule, now: Date): Promise<void> {
  await db.updateTable('ss_schedules').set({ ...toRowValues(s), updated_at: now }).where('id', '=', id).execute();
}
