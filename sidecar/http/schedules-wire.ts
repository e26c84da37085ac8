/** The JSON API's schedule shapes: the request body and the answer. */
import { z } from 'zod';
import { describeRetention } from '../retention.js';
import { normalizeSchedule, timingOf, type NormalizedSchedule, type ScheduleRow } from '../schedules.js';
import { describeTiming, nextRuns, spreadWindowMinutes } from '../slots.js';
import { rulesOf } from '../store/schedules.js';
import { parseOr400 } from '../validation.js';

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
  /** Minutes after each slot the servers are spread over; null/absent = the default (interval: up to 60, cron: 0). */
  spreadMinutes: z.number().int().min(0).max(1440).nullable().optional(),
  retention: retentionSchema,
  enabled: z.boolean().optional(),
  noReboot: z.boolean().optional(),
}).strict();

/** Validates a schedule body (zod shape, then the domain's rules) into a normalized schedule. */
export function parseScheduleBody(body: unknown): NormalizedSchedule {
  return normalizeSchedule(parseOr400(scheduleInputSchema, body));
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
    spreadMinutes: row.spread_minutes,
    /** The window in effect (the default when spreadMinutes is null): servers run up to this long after nextRunAt. */
    spreadWindowMinutes: spreadWindowMinutes(timing),
    frequency: describeTiming(timing),
    retention: rules,
    retentionSummary: describeRetention(rules),
    enabled: row.enabled === 1,
    noReboot: row.no_reboot === 1,
    serverCount: extra.serverCount ?? 0,
    nextRunAt: extra.now && row.enabled === 1 ? nextRuns(timing, extra.now, 1)[0]!.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
