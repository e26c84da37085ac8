import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import { canTransition, IllegalTransition, sourcesOf, TRANSITIONS } from '../sidecar/engine/lifecycle.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { finishLeased } from '../sidecar/store/snapshots.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { api, sidecarFor } from './helpers/sidecar.js';

describe('the lifecycle table', () => {
  test('when an admin acts on a snapshot still being made, then neither Trash nor Delete Record may move it', () => {
    for (const from of ['requested', 'creating'] as const) {
      expect(canTransition(from, 'deleting', 'trash')).toBe(false);
      expect(canTransition(from, 'removed', 'trash')).toBe(false);
      expect(canTransition(from, 'removed', 'delete_record')).toBe(false);
    }
  });

  test('when Trash and retention queue a delete, then they start only from the statuses they did before', () => {
    expect(sourcesOf('deleting', 'trash')).toEqual(['available', 'failed', 'delete_failed']);
    expect(sourcesOf('deleting', 'retention')).toEqual(['available']);
    expect(sourcesOf('superseded', 'engine')).toEqual(['available']);
  });

  test('when the table is read, then `deleted` is no status and nothing leads to it', () => {
    expect(Object.keys(TRANSITIONS)).not.toContain('deleted');
    for (const next of Object.values(TRANSITIONS)) expect(Object.keys(next)).not.toContain('deleted');
  });
});

describe('status changes through the store', () => {
  let t: TestDatabase;
  let sc: Sidecar;
  let serverId: number;
  const clock = databaseClock();

  beforeAll(async () => {
    t = await createTestDatabase();
    sc = await sidecarFor(t, { clock, providers: { sandbox: { type: 'sandbox', latencyMs: 3_600_000 } } });
    serverId = await addServer(t, { title: 'web-1' });
  });
  afterAll(async () => { await sc.stop(0); await t.drop(); });

  async function creatingSnapshot(): Promise<number> {
    const take = await api(sc, 'post', `/api/v1/servers/${serverId}/snapshots`, {});
    await sc.engine.tick();
    await sc.engine.drain();
    const row = await t.handle.db.selectFrom('ss_snapshots').select('status').where('id', '=', take.body.snapshot.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('creating');
    return Number(take.body.snapshot.id);
  }

  test('when the engine would write a change the table forbids, then it is refused and the row is unchanged', async () => {
    const id = await creatingSnapshot();
    await t.handle.db.updateTable('ss_snapshots').set({ lease_owner: 'test-token' }).where('id', '=', id).execute();
    await expect(finishLeased(t.handle.db, { id, token: 'test-token', from: 'creating' }, { next_attempt_at: null }, new Date(), 'deleting'))
      .rejects.toBeInstanceOf(IllegalTransition);
    const row = await t.handle.db.selectFrom('ss_snapshots').select(['status', 'lease_owner']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'creating', lease_owner: 'test-token' });
  });

  test('when Trash is asked for a snapshot that is creating, then it is a 409 saying to wait, and the snapshot keeps being made', async () => {
    const id = await creatingSnapshot();
    const events = async () => (await t.handle.db.selectFrom('ss_events').select('action').where('snapshot_id', '=', id).execute()).length;
    const before = await events();
    const res = await api(sc, 'delete', `/api/v1/snapshots/${id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe('This snapshot is still being created; wait until it is available or failed, then trash it.');
    const row = await t.handle.db.selectFrom('ss_snapshots').select(['status', 'next_attempt_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('creating');
    expect(row.next_attempt_at).not.toBeNull();
    expect(await events()).toBe(before);
  });
});
