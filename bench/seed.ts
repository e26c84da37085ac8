/**
 * The data the phases need, written straight into the tables (fast, and the same shapes the
 * sidecar reads): the host's servers as WordPress stores them, schedule assignments, and a
 * million snapshot rows. `SS_BENCH_SERVERS` sets how many servers (10,000); every phase reads
 * the count from here.
 */

import type { Pool } from 'mysql2/promise';
import { wpPostmetaDdl, wpPostsDdl } from '../tests/helpers/wp-schema.js';
import { one, rows } from './database.js';

export const PREFIX = 'wp_';
export const SERVERS = serversFromEnv();
/** Server post ids are fixed (1001…11000 at 10,000) so the WordPress phase can hold the same servers. */
export const FIRST_SERVER_ID = 1001;
export const HOURLY_SCHEDULE_ID = 1; // "Every 60 Min", seeded by migration 0007
const FAR_FUTURE = '2100-01-01 00:00:00.000';

function serversFromEnv(): number {
  const v = process.env.SS_BENCH_SERVERS;
  if (v === undefined || v === '') return 10_000;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`SS_BENCH_SERVERS must be a positive whole number, got "${v}"`);
  return Number(v);
}

/** WordPress 6.1's own definitions of posts / postmeta (shared with the tests). */
export function wordpressTablesDdl(prefix: string): string[] {
  return [wpPostsDdl(prefix), wpPostmetaDdl(prefix)];
}

/** `SERVERS` `wpcd_app_server` posts (status private) with the host's meta, ids 1001 onwards. */
export async function seedServers(pool: Pool, prefix = PREFIX): Promise<void> {
  const chunk = 1000;
  for (let i = 0; i < SERVERS; i += chunk) {
    const ids = Array.from({ length: Math.min(chunk, SERVERS - i) }, (_, j) => FIRST_SERVER_ID + i + j);
    await pool.query(
      `INSERT INTO ${prefix}posts (ID, post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, comment_status, ping_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_type)
       VALUES ${ids.map(() => "(?, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), '', ?, '', 'private', 'closed', 'closed', ?, '', '', UTC_TIMESTAMP(), UTC_TIMESTAMP(), '', 'wpcd_app_server')").join(',')}`,
      ids.flatMap((id) => [id, `web-${id}`, `web-${id}`]));
    const meta = ids.flatMap((id) => [
      [id, 'wpcd_server_provider', 'sandbox'], [id, 'wpcd_server_provider_instance_id', String(id)],
      [id, 'wpcd_server_region', 'sandbox-1'], [id, 'wpcd_server_name', `web-${id}`],
      [id, 'wpcd_server_ipv4', `198.51.${Math.floor(id / 250) % 256}.${id % 250}`],
    ]);
    await pool.query(`INSERT INTO ${prefix}postmeta (post_id, meta_key, meta_value) VALUES ${meta.map(() => '(?, ?, ?)').join(',')}`, meta.flat());
  }
}

/** Point every server at one provider slug (sandbox, or hetzner for the budget phase). */
export async function setServersProvider(pool: Pool, slug: string, prefix = PREFIX): Promise<void> {
  await pool.query(`UPDATE ${prefix}postmeta SET meta_value = ? WHERE meta_key = 'wpcd_server_provider' AND post_id BETWEEN ? AND ?`,
    [slug, FIRST_SERVER_ID, FIRST_SERVER_ID + SERVERS - 1]);
}

/** Empty the engine's tables (between phases) and park every assignment far in the future. */
export async function resetEngineTables(pool: Pool, prefix = PREFIX): Promise<void> {
  for (const t of ['ss_snapshots', 'ss_events', 'ss_sandbox_snapshots', 'ss_nonces']) await pool.query(`TRUNCATE TABLE ${prefix}${t}`);
  await pool.query(`UPDATE ${prefix}ss_assignments SET next_slot_at = ?, problem = NULL`, [FAR_FUTURE]);
}

/** Every server on one schedule, parked far in the future until a phase makes them due. */
export async function assignAll(pool: Pool, scheduleId: number, prefix = PREFIX): Promise<void> {
  await pool.query(
    `INSERT IGNORE INTO ${prefix}ss_assignments (server_id, schedule_id, next_slot_at, problem, created_at)
     SELECT ID, ?, ?, NULL, UTC_TIMESTAMP(3) FROM ${prefix}posts WHERE post_type = 'wpcd_app_server' ORDER BY ID`,
    [scheduleId, FAR_FUTURE]);
}

export async function insertSchedule(pool: Pool, s: { name: string; intervalMinutes: number; keepLast: number }, prefix = PREFIX): Promise<number> {
  const [res] = await pool.query(
    `INSERT INTO ${prefix}ss_schedules (name, interval_minutes, cron, timezone, keep_last, min_keep, enabled, no_reboot, created_at, updated_at)
     VALUES (?, ?, NULL, 'UTC', ?, 1, 1, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`, [s.name, s.intervalMinutes, s.keepLast]);
  return (res as { insertId: number }).insertId;
}

/**
 * `total` snapshot rows over the servers (1,000,000 over 10,000 by default; 10,000,000 over
 * 100,000 keeps the same shape): each server has total ÷ servers, one per hour, most
 * `available` and scheduled on "Every 60 Min", the rest spread over the other schedules,
 * manual and panel snapshots, and a few failed / delete_failed / superseded rows.
 * INSERT … SELECT over a digits table, 100,000 rows a statement.
 */
export async function seedSnapshots(pool: Pool, total: number, progress: (done: number) => void, prefix = PREFIX): Promise<void> {
  const chunk = 100_000;
  // 1…100,000 once, read back in primary-key order: no sort and no temporary table.
  await pool.query('CREATE TABLE IF NOT EXISTS bench_numbers (i INT UNSIGNED NOT NULL PRIMARY KEY)');
  await pool.query('CREATE TABLE IF NOT EXISTS bench_digits (d TINYINT UNSIGNED NOT NULL PRIMARY KEY)');
  await pool.query('INSERT IGNORE INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
  await pool.query(`INSERT IGNORE INTO bench_numbers (i)
    SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * d.d + 10000 * e.d FROM bench_digits a, bench_digits b, bench_digits c, bench_digits d, bench_digits e`);
  // n = 1…total; h = the row's hour for its server (0…100), k = its kind (0…19).
  const n = (start: number) => `(${start} + i)`;
  for (let start = 0; start < total; start += chunk) {
    const size = Math.min(chunk, total - start);
    const N = n(start);
    const server = `${FIRST_SERVER_ID} + MOD(${N}, ${SERVERS})`;
    const h = `(${N} DIV ${SERVERS})`;
    const k = `MOD(${N} DIV ${SERVERS}, 20)`;
    const failed = `MOD(${N}, 101) = 0`;
    await pool.query(`
      INSERT INTO ${prefix}ss_snapshots
        (server_id, schedule_id, slot_at, origin, status, provider, provider_type, provider_snapshot_id, name, server_name,
         instance_id, size_bytes, keep_forever, attempts, next_attempt_at, requested_by, created_at, available_at, updated_at, last_error)
      SELECT
        ${server},
        CASE WHEN ${k} < 2 THEN NULL WHEN ${k} < 4 THEN 4 WHEN ${k} < 8 THEN 3 ELSE ${HOURLY_SCHEDULE_ID} END,
        IF(${k} < 2, NULL, TIMESTAMP('2024-01-01') + INTERVAL ${h} HOUR),
        CASE ${k} WHEN 0 THEN 'manual' WHEN 1 THEN 'panel' ELSE 'scheduled' END,
        CASE WHEN ${failed} THEN 'failed' WHEN MOD(${N}, 997) = 0 THEN 'delete_failed' WHEN MOD(${N}, 1009) = 0 THEN 'superseded' ELSE 'available' END,
        'sandbox', 'sandbox',
        IF(${failed}, NULL, CONCAT('sbx-', ${N})),
        CONCAT('ss-', ${N}, '-web-', ${server}, '-bench'),
        CONCAT('web-', ${server}),
        CAST(${server} AS CHAR),
        2147483648, IF(MOD(${N}, 211) = 0, 1, 0), 0, NULL,
        IF(${k} = 0, '1', 'scheduler'),
        TIMESTAMP('2024-01-01') + INTERVAL ${h} HOUR + INTERVAL 30 SECOND,
        IF(${failed}, NULL, TIMESTAMP('2024-01-01') + INTERVAL ${h} HOUR + INTERVAL 90 SECOND),
        TIMESTAMP('2024-01-01') + INTERVAL ${h} HOUR + INTERVAL 90 SECOND,
        IF(${failed}, 'The sandbox provider reported the snapshot as failed.', NULL)
      FROM bench_numbers WHERE i <= ${size} ORDER BY i`);
    progress(start + size);
  }
  await pool.query(`ANALYZE TABLE ${prefix}ss_snapshots`);
}

export async function count(pool: Pool, table: string, where = '1=1', params: unknown[] = []): Promise<number> {
  return Number((await one<{ n: number }>(pool, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params)).n);
}

export { rows };
