import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { CHORES } from '../sidecar/upkeep.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { advance, api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

/** The sidecar's chores (sidecar/upkeep.ts): what each one removes, and what it must keep. */
let t: TestDatabase;
let sc: Sidecar;
const clock = databaseClock();

beforeAll(async () => {
  t = await createTestDatabase();
  sc = await sidecarFor(t, { clock, env: { SS_EVENTS_KEEP_DAYS: '30' } });
});
afterAll(async () => { await sc.stop(0); await t.drop(); });

describe('upkeep', () => {
  test('every chore has a node-schedule timetable', () => {
    expect(Object.keys(CHORES).sort()).toEqual(['prune-events', 'purge-nonces', 'retention-sweep']);
  });

  test('when seen nonces expire by the database clock, then they are forgotten and fresh ones kept', async () => {
    await api(sc, 'get', '/api/v1/schedules');
    const before = await t.handle.db.selectFrom('ss_nonces').select('nonce').execute();
    expect(before.length).toBeGreaterThan(0);
    expect(await sc.upkeep.run('purge-nonces')).toBe(0);
    advance(clock, 3600_000);
    expect(await sc.upkeep.run('purge-nonces')).toBe(before.length);
    advance(clock, -3600_000);
  });

  test('when audit events are older than SS_EVENTS_KEEP_DAYS, then they go unless their snapshot is still listed', async () => {
    const server = await addServer(t, { title: 'keeper' });
    const kept = await api(sc, 'post', `/api/v1/servers/${server}/snapshots`, {});
    const gone = await api(sc, 'post', `/api/v1/servers/${server}/snapshots`, {});
    await runUntilIdle(sc);
    await api(sc, 'delete', `/api/v1/snapshots/${gone.body.snapshot.id}/record`);
    const eventsOf = async (id: number) => (await t.handle.db.selectFrom('ss_events').select('id').where('snapshot_id', '=', id).execute()).length;
    expect(await eventsOf(gone.body.snapshot.id)).toBeGreaterThan(0);
    expect(await sc.upkeep.run('prune-events')).toBe(0);
    advance(clock, 31 * 86_400_000);
    try {
      expect(await sc.upkeep.run('prune-events')).toBeGreaterThan(0);
      expect(await eventsOf(gone.body.snapshot.id)).toBe(0);
      expect(await eventsOf(kept.body.snapshot.id)).toBeGreaterThan(0);
    } finally {
      advance(clock, -31 * 86_400_000);
    }
  });
});
