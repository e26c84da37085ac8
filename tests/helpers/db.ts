import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { inject } from 'vitest';
import { openDatabase, type DbHandle } from '../../sidecar/db.js';
import { migrateToLatest } from '../../sidecar/migrate.js';

/**
 * A fresh database per test file on the run's MariaDB (tests/setup/mariadb.ts), holding
 * WordPress's own `posts` / `postmeta` tables (their real definitions from WordPress 6.1's
 * schema) and our migrated tables. Dropped when the file passed; kept after a failure so it
 * can be inspected (its name is printed).
 */
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

export function wpPostsDdl(prefix: string): string {
  return `CREATE TABLE ${prefix}posts (
    ID bigint(20) unsigned NOT NULL auto_increment,
    post_author bigint(20) unsigned NOT NULL default '0',
    post_date datetime NOT NULL default '0000-00-00 00:00:00',
    post_date_gmt datetime NOT NULL default '0000-00-00 00:00:00',
    post_content longtext NOT NULL,
    post_title text NOT NULL,
    post_excerpt text NOT NULL,
    post_status varchar(20) NOT NULL default 'publish',
    comment_status varchar(20) NOT NULL default 'open',
    ping_status varchar(20) NOT NULL default 'open',
    post_password varchar(255) NOT NULL default '',
    post_name varchar(200) NOT NULL default '',
    to_ping text NOT NULL,
    pinged text NOT NULL,
    post_modified datetime NOT NULL default '0000-00-00 00:00:00',
    post_modified_gmt datetime NOT NULL default '0000-00-00 00:00:00',
    post_content_filtered longtext NOT NULL,
    post_parent bigint(20) unsigned NOT NULL default '0',
    guid varchar(255) NOT NULL default '',
    menu_order int(11) NOT NULL default '0',
    post_type varchar(20) NOT NULL default 'post',
    post_mime_type varchar(100) NOT NULL default '',
    comment_count bigint(20) NOT NULL default '0',
    PRIMARY KEY  (ID),
    KEY post_name (post_name(191)),
    KEY type_status_date (post_type,post_status,post_date,ID),
    KEY post_parent (post_parent),
    KEY post_author (post_author)
  ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci`;
}

export function wpPostmetaDdl(prefix: string): string {
  return `CREATE TABLE ${prefix}postmeta (
    meta_id bigint(20) unsigned NOT NULL auto_increment,
    post_id bigint(20) unsigned NOT NULL default '0',
    meta_key varchar(255) default NULL,
    meta_value longtext,
    PRIMARY KEY  (meta_id),
    KEY post_id (post_id),
    KEY meta_key (meta_key(191))
  ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci`;
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
