/**
 * A fresh database per test file on the run's MariaDB (tests/setup/mariadb.ts), holding
 * WordPress's own `posts` / `postmeta` / `options` tables (their real definitions from WordPress 6.1's
 * schema) and our migrated tables. Dropped when the file passed; kept after a failure so it
 * can be inspected (its name is printed).
 */

import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { inject } from 'vitest';
import { openDatabase, type DbHandle } from '../../sidecar/db.js';
import { migrateToLatest } from '../../sidecar/migrate.js';
import { wpOptionsDdl, wpPostmetaDdl, wpPostsDdl } from './wp-schema.js';

export { wpOptionsDdl, wpPostmetaDdl, wpPostsDdl };

export interface TestDatabase {
  name: string;
  url: string;
  prefix: string;
  handle: DbHandle;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  return inject('mysqlUrl');
}

export async function createTestDatabase(opts: { prefix?: string; migrate?: boolean } = {}): Promise<TestDatabase> {
  const base = serverUrl();
  const name = `ss_test_${randomBytes(5).toString('hex')}`;
  const prefix = opts.prefix ?? 'wp_';
  const admin = await createConnection({ uri: base });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${name}\``);
  await admin.query(wpPostsDdl(prefix));
  await admin.query(wpPostmetaDdl(prefix));
  await admin.query(wpOptionsDdl(prefix));
  await admin.end();
  const url = `${base}/${name}`;
  const handle = openDatabase(url, prefix, { connectionLimit: 30 });
  if (opts.migrate !== false) await migrateToLatest(handle.db, prefix);
  return {
    name, url, prefix, handle,
    async drop() {
      await handle.close().catch(() => {});
      const c = await createConnection({ uri: base });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** Insert a host server the way WordPress would store a `wpcd_app_server` post. */
export async function addServer(t: TestDatabase, s: { title?: string; provider?: string | null; instanceId?: string | null; region?: string; status?: string; postType?: string }): Promise<number> {
  const c = await createConnection({ uri: t.url });
  try {
    const [res] = await c.query(
      `INSERT INTO ${t.prefix}posts (post_content, post_title, post_excerpt, post_status, to_ping, pinged, post_content_filtered, post_type)
       VALUES ('', ?, '', ?, '', '', '', ?)`, [s.title ?? 'server', s.status ?? 'private', s.postType ?? 'wpcd_app_server']);
    const id = (res as { insertId: number }).insertId;
    const meta: Array<[string, string]> = [];
    if (s.provider !== null) meta.push(['wpcd_server_provider', s.provider ?? 'sandbox']);
    if (s.instanceId !== null) meta.push(['wpcd_server_provider_instance_id', s.instanceId ?? `i-${id}`]);
    meta.push(['wpcd_server_region', s.region ?? 'local-1'], ['wpcd_server_name', s.title ?? `server-${id}`], ['wpcd_server_ipv4', '192.0.2.10']);
    for (const [k, v] of meta) await c.query(`INSERT INTO ${t.prefix}postmeta (post_id, meta_key, meta_value) VALUES (?, ?, ?)`, [id, k, v]);
    return id;
  } finally {
    await c.end();
  }
}

export async function addServers(t: TestDatabase, n: number, s: { provider?: string; titlePrefix?: string } = {}): Promise<number[]> {
  const c = await createConnection({ uri: t.url });
  try {
    const ids: number[] = [];
    const chunk = 500;
    for (let i = 0; i < n; i += chunk) {
      const size = Math.min(chunk, n - i);
      const values = Array.from({ length: size }, (_, j) => [`${s.titlePrefix ?? 'srv'}-${i + j + 1}`]);
      const [res] = await c.query(
        `INSERT INTO ${t.prefix}posts (post_content, post_title, post_excerpt, post_status, to_ping, pinged, post_content_filtered, post_type) VALUES ${values.map(() => "('', ?, '', 'private', '', '', '', 'wpcd_app_server')").join(',')}`,
        values.flat());
      const first = (res as { insertId: number }).insertId;
      const batch = Array.from({ length: size }, (_, j) => first + j);
      ids.push(...batch);
      const meta = batch.flatMap((id) => [[id, 'wpcd_server_provider', s.provider ?? 'sandbox'], [id, 'wpcd_server_provider_instance_id', `i-${id}`], [id, 'wpcd_server_name', `${s.titlePrefix ?? 'srv'}-${id}`]]);
      await c.query(`INSERT INTO ${t.prefix}postmeta (post_id, meta_key, meta_value) VALUES ${meta.map(() => '(?, ?, ?)').join(',')}`, meta.flat());
    }
    return ids;
  } finally {
    await c.end();
  }
}
