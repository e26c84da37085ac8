/**
 * docs/install.md asks for a database user with only what the sidecar needs. With a real
 * restricted MariaDB user, the sidecar runs, and its start-up log says exactly which
 * privileges that user lacks.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OUR_TABLES, privilegeReport } from '../../sidecar/db-privileges.js';
import { createLogger } from '../../sidecar/log.js';
import { addServer, createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { api, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
const user = `ss_lp_${randomBytes(3).toString('hex')}`;
const password = `pw-${randomBytes(8).toString('hex')}`;

async function asRoot(statements: string[]): Promise<void> {
  const c = await createConnection({ uri: serverUrl() });
  for (const s of statements) await c.query(s);
  await c.end();
}

beforeAll(async () => {
  t = await createTestDatabase(); // migrated by root, as the installer's first start does with DDL
  const p = t.prefix;
  await asRoot([
    `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`,
    // The recommended grants minus two: no SELECT on options, no DELETE on ss_events; no DDL at all.
    `GRANT SELECT ON \`${t.name}\`.\`${p}posts\` TO '${user}'@'%'`,
    `GRANT SELECT ON \`${t.name}\`.\`${p}postmeta\` TO '${user}'@'%'`,
    ...OUR_TABLES.map((table) => `GRANT SELECT, INSERT, UPDATE${table === 'ss_events' ? '' : ', DELETE'} ON \`${t.name}\`.\`${p}${table}\` TO '${user}'@'%'`),
  ]);
});
afterAll(async () => {
  await asRoot([`DROP USER IF EXISTS '${user}'@'%'`]);
  await t.drop();
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb(); } });
  return { log: createLogger({ level: 'info', destination }), lines };
}

describe('least-privilege database user', () => {
  test('when the sidecar runs as a restricted user, then it serves the API and one start-up line names exactly the privileges that user lacks', async () => {
    const url = new URL(t.url);
    url.username = user;
    url.password = password;
    const { log, lines } = capture();
    const sc = await sidecarFor({ ...t, url: url.toString() }, { log, providers: {} });
    try {
      const serverId = await addServer(t, { provider: 'digital-ocean' });
      expect((await api(sc, 'get', `/api/v1/servers/${serverId}`)).status).toBe(200);
      const privilegeLines = lines.filter((l) => l.privileges !== undefined);
      expect(privilegeLines).toHaveLength(1);
      expect(privilegeLines[0]!.privileges).toEqual({
        lacking: [`SELECT on ${t.prefix}options`, `DELETE on ${t.prefix}ss_events`],
        lackingForMigrations: ['CREATE', 'ALTER', 'INDEX', 'DROP'].map((p) => `${p} on ${t.name}.*`),
      });
      expect(privilegeLines[0]!.level).toBe(40); // warn
      expect(String(privilegeLines[0]!.msg)).toContain(`lacks SELECT on ${t.prefix}options; DELETE on ${t.prefix}ss_events`);
    } finally {
      await sc.stop(0);
    }
  });

  test('when the user has every privilege (root), then the line says nothing is lacking', async () => {
    const { log, lines } = capture();
    const sc = await sidecarFor(t, { log });
    await sc.stop(0);
    const line = lines.find((l) => l.privileges !== undefined)!;
    expect(line.privileges).toEqual({ lacking: [], lackingForMigrations: [] });
    expect(line.msg).toBe('database privileges: all it needs, including those for migrations');
  });

  test('when grants are database-wide with a LIKE pattern, then they count for every table of that database', () => {
    const r = privilegeReport([
      'GRANT USAGE ON *.* TO `ss`@`%`',
      'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON `word\\_press%`.* TO `ss`@`%`',
      'GRANT SELECT (ID) ON `other`.`wp_posts` TO `ss`@`%`',
    ], 'word_press1', 'wp_');
    expect(r).toEqual({ lacking: [], lackingForMigrations: [] });
    expect(privilegeReport(['GRANT SELECT (ID, post_type) ON `db`.`wp_posts` TO `ss`@`%`'], 'db', 'wp_').lacking[0]).toBe('SELECT on wp_posts');
  });
});
