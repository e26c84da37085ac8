/**
 * Polls back off with the provider's typical completion time: once the engine has seen how
 * long a provider's snapshots take, a new one is first read after about that long (not after
 * a second and every few seconds since), and one that takes longer is still seen done soon
 * after it is (sidecar/engine/poll-timing.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { startFakeHetzner } from '../fakes/hetzner.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

describe('status reads after the typical completion time', () => {
  test('when a Hetzner account\'s last snapshots took two minutes, then a new one is not read in its first 90 s, is read at about 96 s, and is seen available within a fifth of two minutes after that', async () => {
    const fake = await startFakeHetzner();
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, concurrency: 100, providers: { hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url } } });
    const server = async (instance: number) => {
      fake.addServer(instance, `hz-${instance}`);
      return await addServer(t, { title: `hz-${instance}`, provider: 'hetzner', instanceId: String(instance) });
    };
    const reads = (from: number) => fake.requests.slice(from).filter((r) => r.method === 'GET');
    try {
      // Nothing learnt yet: six snapshots, read after a second as before, done two minutes in.
      const history: number[] = [];
      for (let i = 0; i < 6; i++) history.push(await takeNow(sc, await server(9000 + i)));
      await runUntilIdle(sc);
      advance(clock, 120_000);
      await runUntilIdle(sc);
      for (const id of history) expect((await snapshotOf(sc, id))?.status).toBe('available');

      // A minute later (the typical time is learnt again at most once a minute), a new one that
      // Hetzner finishes only at the second read.
      advance(clock, 60_000);
      fake.pendingPolls = 2;
      const id = await takeNow(sc, await server(9100));
      await runUntilIdle(sc);
      expect(fake.count({ method: 'POST' })).toBe(7);
      const mark = fake.requests.length;
      for (const step of [1_000, 5_000, 30_000, 54_000]) {
        advance(clock, step);
        await runUntilIdle(sc);
      }
      // 90 s in: not read once (with nothing learnt it is read after 1 s, then 2, 4, 8, 16, 32 s later).
      expect(reads(mark)).toHaveLength(0);
      expect((await snapshotOf(sc, id))?.status).toBe('creating');

      advance(clock, 7_000); // 97 s: the first read (80 % of the typical 120 s) finds it still being made
      await runUntilIdle(sc);
      expect(reads(mark)).toHaveLength(1);
      expect((await snapshotOf(sc, id))?.status).toBe('creating');

      advance(clock, 25_000); // a fifth of the typical time later: read again, and seen available
      await runUntilIdle(sc);
      expect(reads(mark)).toHaveLength(2);
      expect((await snapshotOf(sc, id))?.status).toBe('available');
      expect(fake.rateLimited()).toBe(0);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });
});
