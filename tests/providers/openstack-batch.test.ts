/**
 * OpenStack's batched status reads: the images the engine follows and the ones it checks
 * before a delete are read with Glance's `GET /v2/images?id=in:…`, one request per page,
 * instead of one `GET /v2/images/{id}` each — and an image of a volume-backed server is still
 * ready only once its Cinder snapshots are, and its delete still removes them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { driverSpec, roundsUntilAvailable, snapshotOf, takeNow } from '../helpers/providers.js';
import { api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

const LIST = { method: 'GET', path: /^\/image\/v2\/images$/ };
const ONE = { method: 'GET', path: /^\/image\/v2\/images\/[^/]+$/ };
const CINDER_GET = { method: 'GET', path: /\/snapshots\/[^/]+$/ };

describe('OpenStack batched reads through the engine', () => {
  test('when 30 images (10 of volume-backed servers) are creating, then each round reads them in Glance lists by id=in:, not one GET each, and the deletes remove the images and their Cinder snapshots', async () => {
    const spec = driverSpec('openstack');
    const d = await spec.start();
    const fake = d.fake;
    fake.pendingPolls = 2;
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, concurrency: 100, sleep: async () => {}, providers: { [spec.slug]: d.config() } });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 30; i++) {
        const instance = `5f0a1e2b-3c4d-4e5f-8a9b-${String(i).padStart(12, '0')}`;
        fake.addServer(instance, i < 10 ? { volumeBacked: [20] } : {});
        const server = await addServer(t, { title: `os-${i}`, provider: spec.slug, instanceId: instance });
        ids.push(await takeNow(sc, server));
      }
      await runUntilIdle(sc);
      expect(fake.images()).toHaveLength(30);

      const rounds = await roundsUntilAvailable(sc, clock, ids, () => fake.requests, (round) => {
        const lists = round.filter((r) => LIST.method === r.method && LIST.path.test(r.path));
        // 30 ids in one `in:` filter; Glance's pages here hold 25 images: at most two requests.
        expect(lists.length).toBeGreaterThanOrEqual(1);
        expect(lists.length).toBeLessThanOrEqual(2);
        for (const r of lists) expect(r.query.get('id')).toMatch(/^in:[0-9a-f-]{36}(,[0-9a-f-]{36})+$/);
        expect(round.filter((r) => ONE.method === r.method && ONE.path.test(r.path))).toHaveLength(0);
      });
      expect(rounds).toBeGreaterThanOrEqual(2);
      // The volume-backed ones are sized by their Cinder snapshots, read as before.
      expect(fake.count(CINDER_GET)).toBeGreaterThanOrEqual(10);
      expect((await snapshotOf(sc, ids[0]!))?.sizeBytes).toBe(20 * 1024 ** 3);
      expect(fake.volumeSnapshots()).toHaveLength(10);

      const mark = fake.requests.length;
      for (const id of ids) expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBeLessThan(300);
      await runUntilIdle(sc);
      const deletes = fake.requests.slice(mark);
      expect(deletes.filter((r) => r.method === 'DELETE' && /^\/image\/v2\/images\//.test(r.path))).toHaveLength(30);
      expect(deletes.filter((r) => ONE.method === r.method && ONE.path.test(r.path))).toHaveLength(0);
      expect(deletes.filter((r) => LIST.method === r.method && LIST.path.test(r.path)).length).toBeLessThanOrEqual(4);
      expect(fake.images().filter((i) => i.status !== 'deleted')).toHaveLength(0);
      expect(fake.volumeSnapshots()).toHaveLength(0);
    } finally {
      await sc.stop(0);
      await d.close();
    }
  });
});
