/**
 * A provider account's request budget is a limit we keep, not a place to wait: when it is
 * used up, the engine reschedules the work for when the budget has room, without using up
 * the snapshot's retries, and every other server and provider carries on meanwhile.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { BudgetExhausted, createRequestBudget } from '../../sidecar/providers/http/budget.js';
import { startFakeHetzner } from '../fakes/hetzner.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

describe('request budget', () => {
  test('when a request would wait longer than allowed, then take() refuses at once with the wait', async () => {
    let clock = 1_000_000;
    const budget = createRequestBudget({ perMinute: 2 }, { now: () => clock, sleep: async (ms) => { clock += ms; } });
    (await budget.take(5000))();
    (await budget.take(5000))();
    const refused = await budget.take(5000).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(BudgetExhausted);
    expect((refused as BudgetExhausted).waitMs).toBeGreaterThan(55_000);
    // Within the allowance it waits instead (the injected sleep moves the clock).
    clock += 50_000;
    const release = await budget.take(15_000);
    expect(typeof release).toBe('function');
  });

  test('when a Hetzner account budget is used up, then further creates are deferred without using retries, and another provider is unaffected', async () => {
    const fake = await startFakeHetzner();
    const clock = databaseClock();
    for (const id of [5001, 5002, 5003]) fake.addServer(id, `hz-${id}`);
    const sc = await sidecarFor(t, {
      clock, sleep: async () => {},
      providers: {
        hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url, budget: { perHour: 2 } },
        sandbox: { type: 'sandbox', latencyMs: 0 },
      },
    });
    try {
      const hz = [];
      for (const id of [5001, 5002, 5003]) hz.push(await addServer(t, { title: `hz-${id}`, provider: 'hetzner', instanceId: String(id) }));
      const other = await addServer(t, { title: 'elsewhere', provider: 'sandbox' });
      const ids = [];
      for (const s of hz) ids.push(await takeNow(sc, s));
      const otherId = await takeNow(sc, other);
      await runUntilIdle(sc);

      expect(fake.count()).toBeLessThanOrEqual(2); // the budget held at the provider
      const states = await Promise.all(ids.map((id) => snapshotOf(sc, id)));
      const deferred = states.filter((s) => s?.status === 'requested');
      expect(deferred.length).toBeGreaterThanOrEqual(1);
      for (const s of deferred) {
        expect(s!.lastError).toMatch(/request budget is used up for now; the request will be sent in about \d+ s\./);
        expect(s!.attempts).toBe(0);
      }
      const row = await t.handle.db.selectFrom('ss_snapshots').select(['next_attempt_at', 'lease_owner']).where('id', '=', deferred[0]!.id).executeTakeFirstOrThrow();
      expect(row.lease_owner).toBeNull(); // no worker is held while the budget refills
      // Hetzner refills one request every hour/limit: with 2 an hour, the next one is about 30 minutes away.
      expect(row.next_attempt_at!.getTime() - (await clock.now(t.handle.db)).getTime()).toBeGreaterThan(29 * 60_000);
      expect((await snapshotOf(sc, otherId))?.status).toBe('available');
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });

  test('when two sidecars use one Hetzner account, then together they send no more than its budget, and a token comes back one hour/limit later', async () => {
    const fake = await startFakeHetzner();
    const clock = databaseClock();
    for (const id of [6001, 6002, 6003, 6004]) fake.addServer(id, `hz-${id}`);
    // The same token at the same endpoint under two slugs and in two sidecars: one account.
    const entry = { type: 'hetzner', token: fake.token, apiUrl: fake.url, budget: { perHour: 3 } };
    const a = await sidecarFor(t, { clock, sleep: async () => {}, providers: { hetzner: entry } });
    const b = await sidecarFor(t, { clock, sleep: async () => {}, providers: { hetzner: entry } });
    try {
      const servers = [];
      for (const id of [6001, 6002, 6003, 6004]) servers.push(await addServer(t, { title: `hz-${id}`, provider: 'hetzner', instanceId: String(id) }));
      const ids = [await takeNow(a, servers[0]!), await takeNow(b, servers[1]!), await takeNow(a, servers[2]!), await takeNow(b, servers[3]!)];
      await Promise.all([runUntilIdle(a), runUntilIdle(b)]);
      expect(fake.count()).toBeLessThanOrEqual(3);
      const deferred = (await Promise.all(ids.map((id) => snapshotOf(a, id)))).filter((s) => s?.status === 'requested');
      expect(deferred.length).toBeGreaterThanOrEqual(1);
      // Twenty minutes later one token (of the 3 an hour) is back: the work goes on, within the budget.
      const before = fake.count();
      advance(clock, 21 * 60_000);
      await Promise.all([runUntilIdle(a), runUntilIdle(b)]);
      expect(fake.count()).toBeGreaterThan(before);
      // In all: the 3 of a full bucket plus the one that came back.
      expect(fake.count()).toBeLessThanOrEqual(4);
    } finally {
      await a.stop(0);
      await b.stop(0);
      await fake.close();
    }
  });
});
