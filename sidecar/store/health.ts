/**
 * The database facts health is computed from (health/state.ts). One query per page of
 * assignments (and one more for those whose newest attempt failed); every subquery is a short lookup on ss_snapshots' health_idx
 * (server_id, schedule_id, status, slot_at), so a pass over 10,000 servers reads a few index
 * entries per assignment rather than their whole history.
 */
import { sql } from 'kysely';
import type { DB } from '../db.js';
import type { AssignmentFacts } from '../health/state.js';

const S = sql.table('ss_snapshots');

interface FactRow {
  id: number;
  server_id: number;
  schedule_id: number;
  created_at: Date;
  problem: string | null;
  name: string;
  enabled: number;
  interval_minutes: number | null;
  spread_minutes: number | null;
  cron: string | null;
  timezone: string;
  warn_after_minutes: number | null;
  critical_after_minutes: number | null;
  last_good_at: Date | null;
  last_attempt_at: Date | null;
  last_failed_at: Date | null;
}

interface StreakRow {
  id: number;
  last_ok_attempt_at: Date | null;
  failed_in_row: number | null;
  first_failed_at: Date | null;
  last_failed_reason: string | null;
}

const date = (v: unknown) => (v instanceof Date ? v : v ? new Date(String(v)) : null);

/**
 * Two steps, so the common case stays cheap: three index lookups per assignment (newest good,
 * newest attempt, newest failure), and only where the newest attempt failed, the failure
 * streak (since when, how many, the provider's reason).
 */
export async function assignmentFactsPage(db: DB, opts: { afterId?: number; limit?: number; serverIds?: number[] }): Promise<{ facts: AssignmentFacts[]; lastId: number | null }> {
  const limit = opts.limit ?? 1000;
  const same = sql`x.server_id = a.server_id AND x.schedule_id = a.schedule_id`;
  const serverFilter = opts.serverIds && opts.serverIds.length > 0 ? sql`AND a.server_id IN (${sql.join(opts.serverIds)})` : sql``;
  const r = await sql<FactRow>`
    SELECT a.id, a.server_id, a.schedule_id, a.created_at, a.problem,
      s.name, s.enabled, s.interval_minutes, s.cron, s.timezone, s.spread_minutes, s.warn_after_minutes, s.critical_after_minutes,
      (SELECT MAX(x.slot_at) FROM ${S} x WHERE ${same} AND x.status = 'available') AS last_good_at,
      (SELECT MAX(x.slot_at) FROM ${S} x WHERE ${same} AND x.slot_at IS NOT NULL) AS last_attempt_at,
      (SELECT MAX(x.slot_at) FROM ${S} x WHERE ${same} AND x.status = 'failed') AS last_failed_at
    FROM ${sql.table('ss_assignments')} a
    INNER JOIN ${sql.table('ss_schedules')} s ON s.id = a.schedule_id
    WHERE a.id > ${opts.afterId ?? 0} ${serverFilter}
    ORDER BY a.id
    LIMIT ${limit}`.execute(db);

  // slot_uq makes (server, schedule, slot) unique: the newest attempt failed exactly when the
  // newest failure is at the newest attempt's slot.
  const failedLast = r.rows.filter((x) => x.last_failed_at !== null && date(x.last_failed_at)!.getTime() === date(x.last_attempt_at)?.getTime());
  const streaks = new Map<number, StreakRow>();
  if (failedLast.length > 0) {
    const lastOk = sql`(SELECT MAX(y.slot_at) FROM ${S} y WHERE y.server_id = a.server_id AND y.schedule_id = a.schedule_id AND y.status <> 'failed' AND y.slot_at IS NOT NULL)`;
    const afterOk = sql`x.slot_at > COALESCE(${lastOk}, '1000-01-01')`;
    const q = await sql<StreakRow>`
      SELECT a.id, ${lastOk} AS last_ok_attempt_at,
        (SELECT COUNT(*) FROM ${S} x WHERE ${same} AND x.status = 'failed' AND ${afterOk}) AS failed_in_row,
        (SELECT MIN(x.slot_at) FROM ${S} x WHERE ${same} AND x.status = 'failed' AND ${afterOk}) AS first_failed_at,
        (SELECT x.last_error FROM ${S} x WHERE ${same} AND x.status = 'failed' ORDER BY x.slot_at DESC LIMIT 1) AS last_failed_reason
      FROM ${sql.table('ss_assignments')} a
      WHERE a.id IN (${sql.join(failedLast.map((x) => Number(x.id)))})`.execute(db);
    for (const row of q.rows) streaks.set(Number(row.id), row);
  }

  const facts = r.rows.map((x): AssignmentFacts => {
    const st = streaks.get(Number(x.id));
    const lastAttemptAt = date(x.last_attempt_at);
    return {
      serverId: Number(x.server_id), scheduleId: Number(x.schedule_id), scheduleName: x.name, enabled: Number(x.enabled) === 1,
      timing: { intervalMinutes: x.interval_minutes, cron: x.cron, timezone: x.timezone, spreadMinutes: x.spread_minutes },
      warnAfterMinutes: x.warn_after_minutes, criticalAfterMinutes: x.critical_after_minutes,
      assignedAt: date(x.created_at)!, problem: x.problem,
      lastGoodAt: date(x.last_good_at), lastAttemptAt,
      // Without a streak row the newest attempt did not fail: it is the newest ok attempt.
      lastOkAttemptAt: st ? date(st.last_ok_attempt_at) : lastAttemptAt,
      failedInRow: Number(st?.failed_in_row ?? 0), firstFailedAt: st ? date(st.first_failed_at) : null, lastFailedReason: st?.last_failed_reason ?? null,
    };
  });
  const last = r.rows[r.rows.length - 1];
  return { facts, lastId: r.rows.length === limit && last ? Number(last.id) : null };
}

/**
 * Every assignment's facts, a page of servers at a time (keyset on server_id over
 * server_schedule_uq), so a server's assignments always arrive together and a caller can
 * judge and forget each page instead of holding every server's health at once.
 */
export async function* assignmentFactsByServerPage(db: DB, serversPerPage = 250): AsyncGenerator<AssignmentFacts[]> {
  let afterServer = 0;
  for (;;) {
    const ids = (await db.selectFrom('ss_assignments').select('server_id').distinct().where('server_id', '>', afterServer)
      .orderBy('server_id').limit(serversPerPage).execute()).map((r) => Number(r.server_id));
    if (ids.length === 0) return;
    const facts: AssignmentFacts[] = [];
    for (let afterId = 0; ;) {
      const page = await assignmentFactsPage(db, { serverIds: ids, afterId, limit: 1000 });
      facts.push(...page.facts);
      if (page.lastId === null) break;
      afterId = page.lastId;
    }
    if (facts.length > 0) yield facts;
    if (ids.length < serversPerPage) return;
    afterServer = ids[ids.length - 1]!;
  }
}

export async function readScheduleFreshness(db: DB, id: number): Promise<{ warn: number | null; critical: number | null }> {
  const row = await db.selectFrom('ss_schedules').select(['warn_after_minutes', 'critical_after_minutes']).where('id', '=', id).executeTakeFirst();
  return { warn: row?.warn_after_minutes ?? null, critical: row?.critical_after_minutes ?? null };
}

/** A server's snapshot records and the audit of removed ones since `from` (the timeline picture). */
export async function timelineFacts(db: DB, serverId: number, from: Date) {
  const snapshots = await db.selectFrom('ss_snapshots')
    .select(['id', 'schedule_id', 'slot_at', 'origin', 'status', 'keep_forever', 'delete_not_before', 'created_at', 'last_error', 'name'])
    .where('server_id', '=', serverId).where('created_at', '>=', from).orderBy('id').limit(20_000).execute();
  // Removed snapshots live on only in the audit log: the retention_delete event says by which
  // rule; a trash or a DELETE RECORD says who. One row per snapshot, the newest decision.
  const events = await db.selectFrom('ss_events')
    .select(['snapshot_id', 'schedule_id', 'action', 'detail', 'at'])
    .where('server_id', '=', serverId).where('at', '>=', from)
    .where('action', 'in', ['requested', 'retention_delete', 'trash_requested', 'trashed', 'record_deleted', 'deleted'])
    .orderBy('id').limit(50_000).execute();
  const names = await db.selectFrom('ss_schedules').select(['id', 'name']).execute();
  return { snapshots, events, scheduleNames: new Map(names.map((n) => [Number(n.id), n.name])) };
}
