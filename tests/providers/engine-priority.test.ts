/**
 * Creates first: when more work is due than a round takes (the account's budget is short),
 * creates of due snapshots go before status reads, and deletes last — but every kind gets a
 * share of each round, so neither reads nor deletes starve.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { choosePrioritized } from '../../sidecar/engine/priority.js';
import { startFakeHetzner } from '../fakes/hetzner.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

describe('creates first, nothing starves', () => {
  test('when a round has room for 8 of 30 due rows, then creates fill most of it, and status reads and deletes keep a share', () => {
    const due = [
      ...Array.from({ length: 10 }, (_, i) => ({ id: i, status: 'deleting' })),
      ...Array.from({ length: 10 }, (_, i) => ({ id: 10 + i, status: 'creating' })),
      ...Array.from({ length: 10 }, (_, i) => ({ id: 20 + i, status: 'requested' })),
    ];
    const chosen = choosePrioritized(due, 8);
    const count = (s: string) => chosen.filter((c) => c.status === s).length;
    expect(chosen).toHaveLength(8);
    expect(count('requested')).toBe(5);
    expect(count('creating')).toBe(2);
    expect(count('deleting')).toBe(1);
    // With no creates due, the room goes to reads, then deletes.
    expect(choosePrioritized(due.filter((d) => d.status !== 'requested'), 8).filter((c) => c.status === 'creating')).toHaveLength(7);
  });

  test('when 12 creates, 12 status reads and 12 deletes fall due on one Hetzner account and each round takes 4, then the creates go first, reads and deletes are not starved, and all of it completes', async () => {
    const fake = await startFakeHetzner();
    const clock = databaseClock();
    const providers = { hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url } };
    const servers: number[] = [];
    for (let i = 0; i < 36; i++) {
      const instance = 8000 + i;
      fake.addServer(instance, `hz-${instance}`);
      servers.push(await addServer(t, { title: `hz-${instance}`, provider: 'hetzner', instanceId: String(instance) }));
    }
    const setup = await sidecarFor(t, { clock, concurrency: 100, providers });
    const toDelete: number[] = [];
    const polling: number[] = [];
    const creates: number[] = [];
    try {
      for (const s of servers.slice(0, 12)) toDelete.push(await takeNow(setup, s));
      await runUntilIdle(setup);
      advance(clock, 5_000);
      await runUntilIdle(setup);
      for (const id of toDelete) expect((await snapshotOf(setup, id))?.status).toBe('available');
      // Twelve made and now due for their first status read.
      for (const s of servers.slice(12, 24)) polling.push(await takeNow(setup, s));
      await runUntilIdle(setup);
      advance(clock, 5_000);
      // Twelve to delete and twelve new ones, all due now with the reads.
      for (const id of toDelete) expect((await api(setup, 'delete', `/api/v1/snapshots/${id}`)).status).toBeLessThan(300);
      for (const s of servers.slice(24)) creates.push(await takeNow(setup, s));
    } finally {
      await setup.stop(0);
    }
    const sc = await sidecarFor(t, { clock, concurrency: 4, providers });
    try {
      const mark = fake.requests.length;
      await runUntilIdle(sc);
      const order: string[] = fake.requests.slice(mark).map((r) => (r.method === 'POST' ? 'create' : r.method === 'DELETE' ? 'delete' : 'read'));
      const last = (kind: string) => order.lastIndexOf(kind);
      const first = (kind: string) => order.indexOf(kind);
      expect(order.filter((k) => k === 'create')).toHaveLength(12);
      expect(order.filter((k) => k === 'delete')).toHaveLength(12);
      // Creates first: all twelve are sent before the last delete and the last status read…
      expect(last('create')).toBeLessThan(last('delete'));
      expect(last('create')).toBeLessThan(last('read'));
      // …but reads and deletes each had a share while creates were still going.
      expect(first('read')).toBeLessThan(last('create'));
      expect(first('delete')).toBeLessThan(last('create'));
      for (const id of polling) expect((await snapshotOf(sc, id))?.status).toBe('available');
      for (const id of toDelete) expect(await snapshotOf(sc, id)).toBeNull();
      advance(clock, 5_000);
      await runUntilIdle(sc);
      for (const id of creates) expect((await snapshotOf(sc, id))?.status).toBe('available');
      expect(fake.rateLimited()).toBe(0);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });
});
