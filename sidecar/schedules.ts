/**
 * A schedule's domain rules: when to snapshot (interval or cron, in a timezone) and what to
 * keep. The table lives in store/schedules.ts; the request and answer shapes in
 * http/schedules-wire.ts.
 */
import { invalid } from './errors.js';
import { hasAnyBound, type RetentionRules } from './retention.js';
import { cronProblem, isValidTimezone, shortestGapMinutes, type Timing } from './slots.js';
import type { ScheduleRow, ScheduleValues } from './store/schedules.js';

export type { ScheduleRow } from './store/schedules.js';
export type NormalizedSchedule = ScheduleValues;

/** A schedule as the request said it (already of the right types). */
export interface ScheduleInput {
  name: string;
  intervalMinutes?: number | null;
  cron?: string | null;
  timezone?: string;
  spreadMinutes?: number | null;
  retention: Partial<{ [K in keyof RetentionRules]: number | null }>;
  enabled?: boolean;
  noReboot?: boolean;
}

/** The rules a type cannot say: one of interval or cron, a valid cron and timezone, some retention bound. */
export function normalizeSchedule(input: ScheduleInput): NormalizedSchedule {
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
  const spreadMinutes = input.spreadMinutes ?? null;
  if (spreadMinutes !== null) {
    // The window must end before the next slot: a server's run belongs to exactly one slot.
    if (interval !== null && spreadMinutes > interval) fields.spreadMinutes = `must be at most the interval (${interval} minutes)`;
    if (cron !== null && !fields.cron && !fields.timezone) {
      const gap = shortestGapMinutes({ intervalMinutes: null, cron, timezone }, new Date());
      if (spreadMinutes >= gap) fields.spreadMinutes = `must be shorter than the shortest time between two runs (${gap} minutes)`;
    }
  }
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
  return { name: input.name, intervalMinutes: interval, cron, timezone, spreadMinutes, retention, enabled: input.enabled ?? true, noReboot: input.noReboot ?? true };
}

export function timingOf(row: Pick<ScheduleRow, 'interval_minutes' | 'cron' | 'timezone' | 'spread_minutes'>): Timing {
  return { intervalMinutes: row.interval_minutes, cron: row.cron, timezone: row.timezone, spreadMinutes: row.spread_minutes };
}
