/**
 * The world a scenario runs in: a fresh WordPress-shaped database (posts/postmeta as
 * WordPress 6.1 defines them, our tables migrated), host servers as `wpcd_app_server` posts,
 * schedules, and due slots. Writes only what WordPress or an admin would write; the sidecars
 * do everything else.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { sql } from 'kysely';
import { openDatabase, type DB, type DbHandle } from '../../../sidecar/db.js';
import { migrateToLatest } from '../../../sidecar/migrate.js';
import { wpPostmetaDdl, wpPostsDdl } from '../../helpers/db.js';

export interface World {
  name: string;
  /** Database URL for the sidecars (mysql://…/name). */
  url: string;
  prefix: string;
  handle: DbHandle;
  db: DB;
  drop(): Promise<void>;
}

export async function createWorld(serverUrl: string, opts: { prefix?: string; migrate?: boolean } = {}): Promise<World> {
  const name = `ss_rel_${randomBytes(5).toString('hex')}`;
  const prefix = opts.prefix ?? 'wp_';
  const admin = await createConnection({ uri: serverUrl });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${name}\``);
  await admin.query(wpPostsDdl(prefix));
  await admin.query(wpPostmetaDdl(prefix));
  await admin.end();
  const url = `${serverUrl}/${name}`;
  const handle = openDatabase(url, prefix, { connectionLimit: 10 });
  if (opts.migrate !== false) await migrateToLatest(handle.db, prefix);
  return {
    name, url, prefix, handle, db: handle.db,
    async drop() {
      await handle.close().catch(() => {});
      const c = await createConnection({ uri: serverUrl });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** Host servers as WordPress stores them; instance ids are given (Hetzner wants numbers). */
export async function seedServers(w: World, servers: Array<{ provider: string; instanceId: string; title?: string }>): Promise<number[]> {
  const c = await createConnection({ uri: w.url });
  try {
    const ids: number[] = [];
    for (let i = 0; i < servers.length; i += 500) {
      const part = servers.slice(i, i + 500);
      const [res] = await c.query(
        `INSERT INTO ${w.prefix}posts (post_content, post_title, post_excerpt, post_status, to_ping, pinged, post_content_filtered, post_type) VALUES ${part.map(() => "('', ?, '', 'private', '', '', '', 'wpcd_app_server')").join(',')}`,
        part.map((s, j) => s.title ?? `rel-${i + j + 1}`));
      const first = (res as { insertId: number }).insertId;
      const batch = part.map((_, j) => first + j);
      ids.push(...batch);
      const meta = batch.flatMap((id, j) => [
        [id, 'wpcd_server_provider', part[j]!.provider], [id, 'wpcd_server_provider_instance_id', part[j]!.instanceId],
        [id, 'wpcd_server_name', part[j]!.title ?? `rel-${id}`], [id, 'wpcd_server_region', 'test-1'],
      ]);
      await c.query(`INSERT INTO ${w.prefix}postmeta (post_id, meta_key, meta_value) VALUES ${meta.map(() => '(?, ?, ?)').join(',')}`, meta.flat());
    }
    return ids;
  } finally {
    await c.end();
  }
}

export async function dbNow(db: DB): Promise<Date> {
  const r = await sql<{ now: Date }>`SELECT UTC_TIMESTAMP(3) AS now`.execute(db);
  return r.rows[0]!.now;
}

/**
 * A schedule whose only slot this year is 1 January 00:00 UTC: a due assignment then owes
 * exactly one snapshot (that slot) whatever the wall clock does during the scenario, and
 * the next slot is a year away.
 */
export async function yearlySchedule(db: DB, name: string, retention: { keepLast?: number } = { keepLast: 100 }): Promise<number> {
  const now = await dbNow(db);
  const res = await db.insertInto('ss_schedules').values({
    name, interval_minutes: null, cron: '0 0 1 1 *', timezone: 'UTC', keep_last: retention.keepLast ?? 100,
    keep_hourly: null, keep_daily: null, keep_weekly: null, keep_monthly: null, keep_yearly: null, max_age_days: null,
    min_keep: 1, enabled: 1, no_reboot: 1, created_at: now, updated_at: now,
  }).executeTakeFirstOrThrow();
  return Number(res.insertId);
}

/** Make (server, schedule) due now, as if its slot had just come: the engine dispatches it. */
export async function makeDue(db: DB, scheduleId: number, serverIds: number[]): Promise<void> {
  const now = await dbNow(db);
  for (let i = 0; i < serverIds.length; i += 1000) {
    await db.insertInto('ss_assignments').values(serverIds.slice(i, i + 1000).map((id) => ({
      server_id: id, schedule_id: scheduleId, next_slot_at: new Date(now.getTime() - 1000), problem: null, created_at: now,
    }))).execute();
  }
}

export function providersFile(providers: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-rel-providers-'));
  const file = path.join(dir, 'providers.json');
  fs.writeFileSync(file, JSON.stringify(providers, null, 2));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
}
