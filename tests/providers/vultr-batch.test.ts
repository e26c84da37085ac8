/**
 * Vultr's batched status reads: its list filters by one description at most, so a batch is the
 * account's whole snapshot list in pages of 500. The engine reads it when that costs fewer
 * requests than a GET of each snapshot it follows or is about to delete, and keeps the GETs
 * when the account holds so many snapshots that the list would cost more.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { startFakeVultr, type FakeVultr } from '../fakes/vultr.js';
import type { RecordedRequest } from '../fakes/base.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { roundsUntilAvailable, snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';
import type { Sidecar } from '../../sidecar/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

const lists = (rs: readonly RecordedRequest[]) => rs.filter((r) => r.method === 'GET' && r.path === '/v2/snapshots');
const gets = (rs: readonly RecordedRequest[]) => rs.filter((r) => r.method === 'GET' && /^\/v2\/snapshots\/[^/]+$/.test(r.path));

async function start(others: number, servers: number): Promise<{ fake: FakeVultr; sc: Sidecar; ids: number[]; clock: ReturnType<typeof databaseClock> }> {
  const fake = await startFakeVultr({ pendingPolls: 5, rateLimitPerSecond: 100_000 });
  for (let i = 0; i < others; i++) fake.addSnapshot({ description: `someone else's ${i}` });
  const clock = databaseClock();
  const sc = await sidecarFor(t, { clock, concurrency: 100, sleep: async () => {}, providers: { 'vultr-v2': { type: 'vultr', apiKey: fake.apiKey, apiUrl: fake.url } } });
  const ids: number[] = [];
  for (let i = 0; i < servers; i++) {
    const instance = `cb676a46-66fd-4dfb-b839-${String(i).padStart(12, '0')}`;
    fake.addInstance(instance, `vu-${i}`);
    ids.push(await takeNow(sc, await addServer(t, { title: `vu-${i}`, provider: 'vultr-v2', instanceId: instance })));
  }
  await runUntilIdle(sc);
  return { fake, sc, ids, clock };
}

describe('Vultr batched reads through the engine', () => {
  test('when 60 snapshots are creating in an account of 1,260, then each round reads the list (3 pages of 500), not 60 GETs, and the deletes check ownership from it', async () => {
    const { fake, sc, ids, clock } = await start(1200, 60);
    try {
      const rounds = await roundsUntilAvailable(sc, clock, ids, () => fake.requests, (round, states) => {
        // A read that came due alone (a slow machine spreads them out) goes as a single GET.
        expect(gets(round).length).toBeLessThan(Math.max(2, states.filter((x) => x === 'creating').length / 10));
        expect(lists(round).length).toBeLessThanOrEqual(3);
        for (const r of lists(round)) expect(r.query.get('per_page')).toBe('500');
      });
      expect(rounds).toBeGreaterThanOrEqual(1);

      const mark = fake.requests.length;
      for (const id of ids) expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBeLessThan(300);
      await runUntilIdle(sc);
      const deletes = fake.requests.slice(mark);
      expect(deletes.filter((r) => r.method === 'DELETE')).toHaveLength(60);
      expect(gets(deletes)).toHaveLength(0);
      expect(lists(deletes).length).toBeLessThanOrEqual(6);
      expect(fake.snapshots()).toHaveLength(1200);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });

  test('when the account holds 12,000 snapshots and 20 are creating, then the list (25 pages) is not worth it: after one page tells its length, each is read by its own GET', async () => {
    const { fake, sc, ids, clock } = await start(12_000, 20);
    try {
      const first = fake.requests.length;
      advance(clock, 70_000);
      await runUntilIdle(sc);
      expect(lists(fake.requests.slice(first)).length).toBeLessThanOrEqual(1);
      // The next rounds (until one reads at all: when reads fall due depends on what the engine
      // learnt of completion times) read by GET, never the 25-page list.
      const second = fake.requests.length;
      for (let i = 0; i < 4 && gets(fake.requests.slice(second)).length === 0; i++) {
        advance(clock, 70_000);
        await runUntilIdle(sc);
      }
      const round = fake.requests.slice(second);
      expect(lists(round)).toHaveLength(0);
      expect(gets(round).length).toBeGreaterThan(0);
      expect(gets(round).length).toBeLessThanOrEqual(20);
      for (const id of ids) expect(['creating', 'available']).toContain((await snapshotOf(sc, id))?.status);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });
});
