/**
 * When a schedule owes a snapshot ("slots").
 *
 * - Every N minutes: slots are multiples of N minutes since the Unix epoch. Real elapsed time,
 *   so clock changes cannot double or skip one; the timezone does not move them.
 * - Cron: evaluated on the *wall clock* of the schedule's timezone. We run cron-parser in UTC
 *   over "wall time written as UTC" and convert each wall time to a real instant with luxon.
 *   Each wall time happens once: a time that does not exist (spring forward, 02:30) moves to
 *   the first instant after the gap (03:30), and a time that happens twice (autumn, 01:30)
 *   runs the first time only. So a daily schedule gives exactly one snapshot per day on DST days.
 */

import { CronExpressionParser } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';

export interface Timing {
  intervalMinutes: number | null;
  cron: string | null;
  timezone: string;
  /**
   * The window a schedule's servers are spread over after each slot (minutes). null or
   * undefined: the default — interval schedules spread over their interval, at most
   * DEFAULT_SPREAD_MINUTES; cron schedules run at the written time. 0: no spread.
   */
  spreadMinutes?: number | null;
}

/** The longest default spread of an interval schedule: a daily schedule's servers start within the hour. */
export const DEFAULT_SPREAD_MINUTES = 60;

const MINUTE = 60_000;
const MAX_STEPS = 1000;

export function isValidTimezone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

/** Returns a sentence saying what is wrong with a cron expression, or null when it is fine. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return 'Use five fields: minute hour day-of-month month day-of-week (e.g. "0 3 * * *").';
  try {
    const it = CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: new Date(0), strict: false });
    it.next();
    return null;
  } catch (e) {
    return `Not a valid cron expression: ${(e as Error).message}`.slice(0, 300);
  }
}

/** Wall-clock time in `tz` of an instant, written as if it were UTC. */
function toWall(instant: Date, tz: string): Date {
  const local = DateTime.fromJSDate(instant, { zone: tz });
  return new Date(Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, local.millisecond));
}

/** The first real instant at which the wall clock in `tz` shows `wall`. */
function fromWall(wall: Date, tz: string): Date {
  const fields = {
    year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(),
    hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), second: wall.getUTCSeconds(), millisecond: wall.getUTCMilliseconds(),
  };
  let dt = DateTime.fromObject(fields, { zone: tz });
  // Ambiguous wall time (autumn): luxon may pick either offset; take the earlier instant.
  const other = DateTime.fromObject(fields, { zone: tz }).minus({ hours: 1 });
  if (other.hour === dt.hour && other.minute === dt.minute && other.day === dt.day && other.toMillis() < dt.toMillis()) {
    dt = other;
  }
  return dt.toJSDate();
}

function cronIterator(expr: string, wallStart: Date) {
  return CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: wallStart });
}

/** The first slot strictly after `instant`. */
export function nextSlotAfter(t: Timing, instant: Date): Date {
  if (t.intervalMinutes) {
    const step = t.intervalMinutes * MINUTE;
    return new Date(Math.floor(instant.getTime() / step) * step + step);
  }
  if (!t.cron) throw new Error('A schedule needs intervalMinutes or cron.');
  const it = cronIterator(t.cron, toWall(instant, t.timezone));
  for (let i = 0; i < MAX_STEPS; i++) {
    const wall = it.next().toDate();
    const real = fromWall(wall, t.timezone);
    if (real.getTime() > instant.getTime()) return real;
  }
  throw new Error(`No run found for "${t.cron}" after ${instant.toISOString()}.`);
}

/** The latest slot at or before `instant` (what a catch-up snapshot belongs to). */
export function latestSlotAtOrBefore(t: Timing, instant: Date): Date {
  if (t.intervalMinutes) {
    const step = t.intervalMinutes * MINUTE;
    return new Date(Math.floor(instant.getTime() / step) * step);
  }
  if (!t.cron) throw new Error('A schedule needs intervalMinutes or cron.');
  const it = cronIterator(t.cron, new Date(toWall(instant, t.timezone).getTime() + 1));
  for (let i = 0; i < MAX_STEPS; i++) {
    const wall = it.prev().toDate();
    const real = fromWall(wall, t.timezone);
    // A wall time in a spring-forward gap maps after the gap and may lie after `instant`.
    if (real.getTime() <= instant.getTime()) return real;
  }
  throw new Error(`No run found for "${t.cron}" before ${instant.toISOString()}.`);
}

/** The spread window of a schedule in minutes (0: every server runs at the slot itself). */
export function spreadWindowMinutes(t: Timing): number {
  if (t.spreadMinutes !== undefined && t.spreadMinutes !== null) return t.spreadMinutes;
  return t.intervalMinutes ? Math.min(t.intervalMinutes, DEFAULT_SPREAD_MINUTES) : 0;
}

/**
 * A server's stable place in the spread window, in whole seconds: a multiplicative hash of
 * the server id, scaled by its top bits (Fibonacci hashing), so consecutive ids land far
 * apart and the same server always runs at the same point of every slot.
 */
export function spreadOffsetMs(t: Timing, serverId: number): number {
  const windowSeconds = BigInt(spreadWindowMinutes(t) * 60);
  if (windowSeconds === 0n) return 0;
  const hash = (BigInt(serverId) * 2654435761n) % 4294967296n;
  return Number((hash * windowSeconds) / 4294967296n) * 1000;
}

/**
 * When a server owes its next snapshot: its offset after the first slot whose due time lies
 * strictly after `instant`. The slot itself (the snapshot's identity) stays the nominal one.
 */
export function nextDueAfter(t: Timing, serverId: number, instant: Date): { slotAt: Date; dueAt: Date } {
  const offset = spreadOffsetMs(t, serverId);
  const slotAt = nextSlotAfter(t, new Date(instant.getTime() - offset));
  return { slotAt, dueAt: new Date(slotAt.getTime() + offset) };
}

/** The nominal slot a server's run at `instant` belongs to (the latest one already due for it). */
export function dueSlotAtOrBefore(t: Timing, serverId: number, instant: Date): Date {
  return latestSlotAtOrBefore(t, new Date(instant.getTime() - spreadOffsetMs(t, serverId)));
}

/** The shortest gap between a cron schedule's next runs (a spread window must fit in it). */
export function shortestGapMinutes(t: Timing, from: Date, runs = 60): number {
  const list = nextRuns({ ...t, spreadMinutes: 0 }, from, runs);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < list.length; i++) gap = Math.min(gap, (list[i]!.getTime() - list[i - 1]!.getTime()) / MINUTE);
  return gap;
}

/** The next `count` runs after `from`, for previews. */
export function nextRuns(t: Timing, from: Date, count: number): Date[] {
  const out: Date[] = [];
  let cursor = from;
  for (let i = 0; i < count; i++) {
    cursor = nextSlotAfter(t, cursor);
    out.push(cursor);
  }
  return out;
}

/** "every 60 minutes", "cron 0 3 * * * (Europe/Berlin)" — for screens and logs. */
export function describeTiming(t: Timing): string {
  if (t.intervalMinutes) {
    const n = t.intervalMinutes;
    if (n % 1440 === 0) return n === 1440 ? 'Every day' : `Every ${n / 1440} days`;
    if (n % 60 === 0) return n === 60 ? 'Every hour' : `Every ${n / 60} hours`;
    return n === 1 ? 'Every minute' : `Every ${n} minutes`;
  }
  return describeCron(t.cron ?? '', t.timezone);
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Common cron shapes in words ("Every Saturday at 00:00 (UTC)"); anything else verbatim. */
function describeCron(cron: string, tz: string): string {
  const f = cron.trim().split(/\s+/);
  const num = (x: string | undefined, max: number) => (x !== undefined && /^\d{1,2}$/.test(x) && Number(x) <= max ? Number(x) : null);
  const minute = num(f[0], 59);
  const hour = num(f[1], 23);
  if (f.length === 5 && minute !== null && hour !== null && f[2] === '*' && f[3] === '*') {
    const at = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
    if (f[4] === '*') return `Every day at ${at} (${tz})`;
    const day = num(f[4], 7);
    if (day !== null) return `Every ${WEEKDAYS[day]} at ${at} (${tz})`;
  }
  if (f.length === 5 && minute !== null && f[1] === '*' && f[2] === '*' && f[3] === '*' && f[4] === '*') {
    return `Every hour at minute ${minute} (${tz})`;
  }
  return `Cron "${cron}" (${tz})`;
}
