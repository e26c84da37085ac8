/**
 * Creates first while the budget is short: status reads that go in lists do not take a request
 * a create could use for a handful of snapshots — they wait for the creates, or for a whole
 * page — but never longer than READ_HOLD_MS past their time (sidecar/engine/priority.ts).
 * The real engine and budget against the Hetzner fake, with a budget of 10 requests a second
 * and a bucket of one, so the creates really wait for it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock, type Clock } from '../../sidecar/db.js';
import { READ_HOLD_MS } from '../../sidecar/engine/priority.js';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';
import type { Sidecar } from '../../sidecar/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

/** `creating` snapshots due for their status read, and `requested` ones due for their create, on one account. */
async function backlog(fake: FakeHetzner, clock: Clock, o: { slug: string; creating: number; requested: number; first: number; waitMs: number }) {
  // A slug of its own per test: what one test's snapshots took does not time the next one's reads.
  const entry = { type: 'hetzner', token: fake.token, apiUrl: fake.url };
  const server = async (instance: number) => {
    fake.addServer(instance, `hz-${instance}`);
    return await addServer(t, { title: `hz-${instance}`, provider: o.slug, instanceId: String(instance) });
  };
  const setup = await sidecarFor(t, { clock, concurrency: 100, providers: { [o.slug]: entry } });
  const reading: number[] = [];
  const creating: number[] = [];
  try {
    for (let i = 0; i < o.creating; i++) reading.push(await takeNow(setup, await server(o.first + i)));
    await runUntilIdle(setup);
    for (const id of reading) expect((await snapshotOf(setup, id))?.status).toBe('creating');
    advance(clock, o.waitMs);
    for (let i = 0; i < o.requested; i++) creating.push(await takeNow(setup, await server(o.first + 500 + i)));
  } finally {
    await setup.stop(0);
  }
  // Two at a time, and 10 requests a second with a bucket of one: the creates wait for budget.
  const sc = await sidecarFor(t, { clock, concurrency: 2, providers: { [o.slug]: { ...entry, budget: { perHour: 36_000, bucket: 2 } } } });
  return { sc, reading, creating };
}

/** How many creates went before the first status read of `reading`. */
const createsBeforeRead = (seen: string[]) => seen.slice(0, seen.indexOf('read')).filter((k) => k === 'create').length;

/**
 * The requests since `from` in order: `create`, or `read` for a status read (a list or a GET
 * of one image) of a snapshot in `reading` — reads of the new snapshots, due a second after
 * their create, are left out.
 */
async function order(sc: Sidecar, fake: FakeHetzner, from: number, reading: number[]): Promise<string[]> {
  const ours = new Set(reading.map(String));
  const images = new Set<string>();
  for (const id of reading) images.add(String((await snapshotOf(sc, id))?.providerSnapshotId));
  const out: string[] = [];
  for (const r of fake.requests.slice(from)) {
    if (r.method === 'POST') out.push('create');
    const listed = /\(([^)]*)\)/.exec(r.query.get('label_selector') ?? '')?.[1]?.split(',') ?? [];
    if (r.method === 'GET' && r.path === '/v1/images' && listed.some((id) => ours.has(id))) out.push('read');
    if (r.method === 'GET' && images.has(r.path.replace('/v1/images/', ''))) out.push('read');
  }
  return out;
}

/** A backlog on a fresh Hetzner fake, the engine run until idle, and the order the fake saw (`order`). */
async function withBacklog(opts: Parameters<typeof backlog>[2],
  check: (r: { sc: Sidecar; fake: FakeHetzner; reading: number[]; seen: string[] }) => Promise<void>): Promise<void> {
  const fake = await startFakeHetzner();
  const { sc, reading } = await backlog(fake, databaseClock(), opts);
  try {
    const mark = fake.requests.length;
    await runUntilIdle(sc);
    await check({ sc, fake, reading, seen: await order(sc, fake, mark, reading) });
  } finally {
    await sc.stop(0);
    await fake.close();
  }
}

describe('creates first while the budget is short', () => {
  test('when 10 snapshots are due for a status read and 20 creates wait for budget, then the creates go first (the reads wait until the last two, one claim\'s worth, are under way) and the 10 reads as one list', async () => {
    await withBacklog({ slug: 'hz-a', creating: 10, requested: 20, first: 11_000, waitMs: 2_000 }, async ({ sc, fake, reading, seen }) => {
      expect(seen.filter((k) => k === 'create')).toHaveLength(20);
      // One list for the ten, once no create waits to be claimed: no request spent on reads while creates waited.
      expect(seen.filter((k) => k === 'read')).toEqual(['read']);
      expect(createsBeforeRead(seen)).toBeGreaterThanOrEqual(18);
      for (const id of reading) expect((await snapshotOf(sc, id))?.status).toBe('available');
      expect(fake.rateLimited()).toBe(0);
    });
  });

  test('when the 10 reads are already READ_HOLD_MS past their time, then they go as one list while the creates still wait: reads never starve', async () => {
    await withBacklog({ slug: 'hz-b', creating: 10, requested: 20, first: 12_000, waitMs: READ_HOLD_MS + 5_000 }, async ({ sc, fake, reading, seen }) => {
      expect(seen.filter((k) => k === 'create')).toHaveLength(20);
      expect(seen.filter((k) => k === 'read')).toEqual(['read']);
      // In the first claim, beside its two creates.
      expect(createsBeforeRead(seen)).toBeLessThanOrEqual(2);
      for (const id of reading) expect((await snapshotOf(sc, id))?.status).toBe('available');
      expect(fake.rateLimited()).toBe(0);
    });
  });

  test('when a whole page of 50 reads is due, then its list goes while the creates still wait, and costs one request', async () => {
    await withBacklog({ slug: 'hz-c', creating: 50, requested: 20, first: 13_000, waitMs: 2_000 }, async ({ sc, fake, reading, seen }) => {
      expect(seen.filter((k) => k === 'create')).toHaveLength(20);
      expect(seen.filter((k) => k === 'read')).toEqual(['read']);
      // In the first claim, beside its two creates.
      expect(createsBeforeRead(seen)).toBeLessThanOrEqual(2);
      for (const id of reading) expect((await snapshotOf(sc, id))?.status).toBe('available');
      expect(fake.rateLimited()).toBe(0);
    });
  });
});
