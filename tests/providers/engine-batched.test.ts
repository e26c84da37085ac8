/**
 * Batched status reads: the snapshots the engine follows while they are `creating`, and the
 * ones it checks before a delete, are read with one list request per account and page — not
 * one GET each — so the account's budget goes to creates.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { startFakeHetzner } from '../fakes/hetzner.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

describe('batched status reads', () => {
  test('when 60 Hetzner snapshots are creating, then one round of status reads costs one list request per page of 50, not 60 GETs, and the deletes check ownership from lists too', async () => {
    const fake = await startFakeHetzner();
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, concurrency: 100, providers: { hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url } } });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 60; i++) {
        const instance = 7000 + i;
        fake.addServer(instance, `hz-${instance}`);
        const server = await addServer(t, { title: `hz-${instance}`, provider: 'hetzner', instanceId: String(instance) });
        ids.push(await takeNow(sc, server));
      }
      await runUntilIdle(sc);
      expect(fake.count({ method: 'POST' })).toBe(60);
      for (const id of ids) expect((await snapshotOf(sc, id))?.status).toBe('creating');

      const before = fake.requests.length;
      advance(clock, 5_000);
      await runUntilIdle(sc);
      const reads = fake.requests.slice(before);
      // One round: 60 snapshots in two list pages (50 + 10), no GET of a single image.
      expect(reads.filter((r) => r.method === 'GET' && r.path === '/v1/images')).toHaveLength(2);
      expect(reads.filter((r) => r.method === 'GET' && /^\/v1\/images\/\d+$/.test(r.path))).toHaveLength(0);
      for (const id of ids) expect((await snapshotOf(sc, id))?.status).toBe('available');

      // Trash them all: each is deleted at Hetzner, its ownership read from a list, not a GET each.
      const mark = fake.requests.length;
      for (const id of ids) expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBeLessThan(300);
      await runUntilIdle(sc);
      const deletes = fake.requests.slice(mark);
      expect(deletes.filter((r) => r.method === 'DELETE')).toHaveLength(60);
      expect(deletes.filter((r) => r.method === 'GET' && /^\/v1\/images\/\d+$/.test(r.path))).toHaveLength(0);
      expect(deletes.filter((r) => r.method === 'GET').length).toBeLessThanOrEqual(4);
      expect(fake.images()).toHaveLength(0);
      expect(fake.rateLimited()).toBe(0);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });
});
