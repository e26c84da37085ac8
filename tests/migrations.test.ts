import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../sidecar/db.js';
import { migrateToLatest } from '../sidecar/migrate.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase({ prefix: 'wpx_', migrate: false }); });
afterAll(async () => { await t.drop(); });

describe('migrations', () => {
  test('when two sidecars migrate one new database at the same moment, then both succeed and every step ran once', async () => {
    const other = openDatabase(t.url, t.prefix);
    try {
      const [a, b] = await Promise.all([migrateToLatest(t.handle.db, t.prefix), migrateToLatest(other.db, t.prefix)]);
      expect([...a, ...b].sort()).toEqual(Object.keys((await import('../migrations/index.js')).migrations).sort());
      const seeded = await t.handle.db.selectFrom('ss_schedules').select('name').orderBy('id').execute();
      expect(seeded.map((s) => s.name)).toEqual(['Every 60 Min', 'Every 12 Hours', 'Daily', 'Every Week']);
      expect(await migrateToLatest(t.handle.db, t.prefix)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  test('when migrated, then every table we own carries the WordPress prefix plus ss_ and WordPress tables are untouched', async () => {
    const r = await sql<{ t: string }>`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`.execute(t.handle.db);
    const names = r.rows.map((x) => x.t);
    expect(names.filter((n) => !n.startsWith('wpx_ss_'))).toEqual(['wpx_options', 'wpx_postmeta', 'wpx_posts']);
    expect(names).toEqual(expect.arrayContaining(['wpx_ss_schedules', 'wpx_ss_assignments', 'wpx_ss_snapshots', 'wpx_ss_events', 'wpx_ss_nonces', 'wpx_ss_migrations']));
  });

  test('when the list and the engine query, then they use an index (no full scan) for every filter', async () => {
    const db = t.handle.db;
    const plans: Array<[string, string]> = [
      ['claim', 'SELECT id FROM wpx_ss_snapshots WHERE next_attempt_at <= NOW() ORDER BY next_attempt_at LIMIT 16'],
      ['dispatch', 'SELECT id FROM wpx_ss_assignments WHERE next_slot_at <= NOW() ORDER BY next_slot_at LIMIT 200'],
      ['server', 'SELECT * FROM wpx_ss_snapshots WHERE server_id = 5 AND id < 1000 ORDER BY id DESC LIMIT 51'],
      ['status', "SELECT * FROM wpx_ss_snapshots WHERE status = 'available' AND id < 1000 ORDER BY id DESC LIMIT 51"],
      ['origin', "SELECT * FROM wpx_ss_snapshots WHERE origin = 'manual' ORDER BY id DESC LIMIT 51"],
      ['schedule', 'SELECT * FROM wpx_ss_snapshots WHERE schedule_id = 3 ORDER BY id DESC LIMIT 51'],
    ];
    for (const [what, query] of plans) {
      const r = await sql.raw<{ key: string | null; type: string }>(`EXPLAIN ${query}`).execute(db);
      expect(r.rows[0]?.key, what).toBeTruthy();
      expect(r.rows[0]?.type, what).not.toBe('ALL');
    }
  });
});
