/**
 * DigitalOcean's batched status reads: a snapshot being made is a droplet action, so the
 * engine follows its pending actions in the account's action list (`GET /v2/actions`, newest
 * first, 200 a page) instead of one `GET /v2/actions/{id}` each, finds the snapshots of the
 * completed ones by name in the account's snapshot list and tags them in one request, and checks
 * ownership before a delete in that list too — each list only while it costs less than a GET each.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import type { RecordedRequest } from '../fakes/base.js';
import { startFakeDigitalOcean } from '../fakes/digitalocean.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { roundsUntilAvailable, snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

const is = (method: string, path: RegExp) => (rs: readonly RecordedRequest[]) => rs.filter((r) => r.method === method && path.test(r.path));
const accountActions = is('GET', /^\/v2\/actions$/);
const oneAction = is('GET', /^\/v2\/actions\/\d+$/);
const dropletSnapshots = is('GET', /^\/v2\/droplets\/\d+\/snapshots$/);
const snapshotList = is('GET', /^\/v2\/snapshots$/);
const oneSnapshot = is('GET', /^\/v2\/snapshots\/\d+$/);

describe('DigitalOcean batched reads through the engine', () => {
  test('when 60 snapshot actions are in progress in an account with 300 older actions, then each round reads one page of the account\'s actions, not 60 action GETs; the finished ones are found in the account\'s snapshot list and tagged together; the deletes check ownership from the snapshot list', async () => {
    const fake = await startFakeDigitalOcean({ pendingPolls: 3, perHour: 1_000_000, perMinute: 1_000_000 });
    fake.addOtherActions(300);
    const clock = databaseClock();
    const budget = { perHour: 1_000_000, perMinute: 1_000_000 };
    const sc = await sidecarFor(t, { clock, concurrency: 100, sleep: async () => {}, providers: { 'digital-ocean': { type: 'digitalocean', token: fake.token, apiUrl: fake.url, budget } } });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 60; i++) {
        fake.addDroplet(3_200_000 + i, `do-${i}`);
        ids.push(await takeNow(sc, await addServer(t, { title: `do-${i}`, provider: 'digital-ocean', instanceId: String(3_200_000 + i) })));
      }
      await runUntilIdle(sc);
      expect(fake.actions().filter((a) => a.type === 'snapshot')).toHaveLength(60);

      const rounds = await roundsUntilAvailable(sc, clock, ids, () => fake.requests, (round) => {
        // Our 60 are the newest: one page of 200 holds them all, and it reaches older ids.
        expect(accountActions(round)).toHaveLength(1);
        expect(oneAction(round)).toHaveLength(0);
      });
      expect(rounds).toBeGreaterThanOrEqual(1);
      // Finished actions are resolved to their snapshots by name in the account's snapshot list
      // (a droplet's own list only for one finishing alone), and tagged in one request a batch.
      expect(dropletSnapshots(fake.requests).length).toBeLessThanOrEqual(3);
      expect(is('POST', /^\/v2\/tags\/[^/]+\/resources$/)(fake.requests).length).toBeLessThanOrEqual(4);
      expect(fake.snapshots()).toHaveLength(60);
      for (const s of fake.snapshots()) expect(s.tags).toEqual(['scheduled-snapshots']);
      for (const id of ids) expect((await snapshotOf(sc, id))?.providerSnapshotId).toMatch(/^\d+$/);

      const mark = fake.requests.length;
      for (const id of ids) expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBeLessThan(300);
      await runUntilIdle(sc);
      const deletes = fake.requests.slice(mark);
      expect(is('DELETE', /^\/v2\/snapshots\/\d+$/)(deletes)).toHaveLength(60);
      expect(oneSnapshot(deletes)).toHaveLength(0);
      expect(snapshotList(deletes).length).toBeLessThanOrEqual(4);
      expect(fake.snapshots()).toHaveLength(0);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });

  test('when the account holds 5,000 snapshots and 20 actions finish together, then the account list (25 pages) is not read for them: each is found in its droplet\'s list, and they are tagged together, not one request each', async () => {
    const fake = await startFakeDigitalOcean({ pendingPolls: 2, perHour: 1_000_000, perMinute: 1_000_000 });
    for (let i = 0; i < 5000; i++) fake.addSnapshot({ dropletId: 1, name: `someone else's ${i}` });
    const clock = databaseClock();
    const budget = { perHour: 1_000_000, perMinute: 1_000_000 };
    const sc = await sidecarFor(t, { clock, concurrency: 100, sleep: async () => {}, providers: { 'digital-ocean': { type: 'digitalocean', token: fake.token, apiUrl: fake.url, budget } } });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) {
        fake.addDroplet(3_400_000 + i, `big-${i}`);
        ids.push(await takeNow(sc, await addServer(t, { title: `big-${i}`, provider: 'digital-ocean', instanceId: String(3_400_000 + i) })));
      }
      await runUntilIdle(sc);
      for (let round = 0; round < 10; round++) {
        const states = await Promise.all(ids.map(async (id) => (await snapshotOf(sc, id))?.status));
        if (states.every((st) => st === 'available')) break;
        advance(clock, 70_000);
        await runUntilIdle(sc);
      }
      for (const id of ids) expect((await snapshotOf(sc, id))?.status).toBe('available');
      // At most the one page that told the list's length; then each droplet's own list.
      expect(snapshotList(fake.requests).length).toBeLessThanOrEqual(1);
      expect(dropletSnapshots(fake.requests).length).toBeGreaterThanOrEqual(19);
      expect(oneAction(fake.requests).length).toBeLessThanOrEqual(1);
      expect(is('POST', /^\/v2\/tags\/[^/]+\/resources$/)(fake.requests).length).toBeLessThan(20);
      for (const snap of fake.snapshots().filter((x) => x.name.startsWith('ss-'))) expect(snap.tags).toEqual(['scheduled-snapshots']);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });
});
