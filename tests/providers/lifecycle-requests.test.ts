/**
 * Provider requests per snapshot lifecycle (create → available → deleted by retention), per
 * provider, measured at each provider's fake through the real engine — the figures README's
 * provider table and docs/performance.md give.
 *
 * For each provider: N servers on one account, an hourly schedule that keeps one snapshot,
 * every server due at the same instant, the sidecar's default concurrency, the fakes' own page
 * sizes. Each new snapshot is still in progress at its first status read and done at the
 * second. Round 1 fills the list; round 2 is the steady state: every server gets a new snapshot
 * and retention deletes the previous one. Requests the fake received during round 2, divided by
 * N, are one lifecycle's cost. Reconciliation (one listing per account per SS_RECONCILE_MINUTES)
 * is kept out of the round: it does not grow with the snapshots taken.
 *
 * Each bound is above what batching gives and below what one GET per read would cost, so the
 * test fails if a provider's batched reads break.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { databaseClock, type Clock } from '../../sidecar/db.js';
import type { Sidecar } from '../../sidecar/sidecar.js';
import { startFakeDigitalOcean } from '../fakes/digitalocean.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { driverSpec, quietDatabase, type ProviderType } from '../helpers/providers.js';
import { advance, advanceToNextSlot, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

const N = Number(process.env.SS_LIFECYCLE_SERVERS ?? 100);
const HOUR = 3600_000;
/**
 * Each adapter keeps its provider's default request budget, so no request is refused with 429,
 * except DigitalOcean's 250 a minute, which would make this round take minutes of real time:
 * there the fake refills faster and the budget says the same (as the benchmark does for Hetzner);
 * and Linode's, whose fake enforces none.
 */
const FAST = { perHour: 10_000_000, perMinute: 1_000_000 };

vi.setConfig({ testTimeout: 180_000 });

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

interface Case {
  type: ProviderType;
  /** Requests per lifecycle this test allows: above the batched figure, below one GET per read. */
  bound: number;
  /** The provider's instance id for server i, made known to the fake. */
  instance(fake: never, i: number): string;
  /** Makes a new snapshot show in progress at its first read and done at its second. */
  pending(fake: never): void;
  /** The fake and its providers-file entry, where the driver's defaults do not serve. */
  start?(): Promise<{ fake: { requests: unknown[]; close(): Promise<void> }; config: Record<string, unknown> }>;
}

const uuid = (prefix: string, i: number) => `${prefix}-${String(i).padStart(12, '0')}`;

const CASES: Case[] = [
  { type: 'hetzner', bound: 2.6, pending: (f: { pendingPolls: number }) => { f.pendingPolls = 2; },
    instance: (f: { addServer(id: number, name: string): void }, i: number) => { f.addServer(7_000_000 + i, `hz-${i}`); return String(7_000_000 + i); } },
  { type: 'awsec2', bound: 3, pending: (f: { pendingPolls: number }) => { f.pendingPolls = 1; },
    instance: (f: { addInstance(id: string): void }, i: number) => { const id = `i-0${(0x100000 + i).toString(16)}0000000000`; f.addInstance(id); return id; } },
  { type: 'openstack', bound: 3, pending: (f: { pendingPolls: number }) => { f.pendingPolls = 1; },
    instance: (f: { addServer(id: string): void }, i: number) => { const id = uuid('5f0a1e2b-3c4d-4e5f-8a9b', i); f.addServer(id); return id; } },
  { type: 'vultr', bound: 3, pending: (f: { pendingPolls: number }) => { f.pendingPolls = 2; },
    instance: (f: { addInstance(id: string, label: string): void }, i: number) => { const id = uuid('cb676a46-66fd-4dfb-b839', i); f.addInstance(id, `vu-${i}`); return id; } },
  { type: 'digitalocean', bound: 3, pending: (f: { pendingPolls: number }) => { f.pendingPolls = 2; },
    async start() {
      const fake = await startFakeDigitalOcean(FAST);
      return { fake, config: { type: 'digitalocean', token: fake.token, apiUrl: fake.url, budget: FAST } };
    },
    instance: (f: { addDroplet(id: number, name: string): void }, i: number) => { f.addDroplet(3_300_000 + i, `do-${i}`); return String(3_300_000 + i); } },
  { type: 'linode', bound: 3.1, pending: (f: { pendingPolls: number }) => { f.pendingPolls = 1; },
    async start() {
      // Linode's fake enforces no rate limit: a larger budget only saves this test real time.
      const d = await driverSpec('linode').start();
      return { fake: d.fake, config: { ...d.config(), budget: { perMinute: 1_000_000 } } };
    },
    instance: (f: { addLinode(id: number, o: { label: string }): void }, i: number) => { f.addLinode(9_000_000 + i, { label: `li-${i}` }); return String(9_000_000 + i); } },
] as unknown as Case[];

/** Run the engine, a few seconds at a time, until the round's work is done. */
async function settleRound(sc: Sidecar, clock: Clock, serverIds: number[], done: (counts: Record<string, number>) => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    await runUntilIdle(sc);
    const rows = await t.handle.db.selectFrom('ss_snapshots').select(['status']).where('server_id', 'in', serverIds).execute();
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (done(counts)) return;
    if (counts.failed) {
      const why = await t.handle.db.selectFrom('ss_snapshots').select(['last_error']).where('server_id', 'in', serverIds).where('status', '=', 'failed').executeTakeFirst();
      throw new Error(`${counts.failed} snapshots failed: ${why?.last_error ?? ''}`);
    }
    advance(clock, 5_000);
  }
  throw new Error('the round did not finish');
}

const figures: Record<string, number> = {};

describe(`provider requests per snapshot lifecycle, ${N} servers per provider`, () => {
  afterAll(() => {
    // The measured figures, for README's provider table and docs/performance.md.
    console.info(`requests per snapshot lifecycle (${N} servers): ${JSON.stringify(figures)}`);
  });

  for (const c of CASES) {
    test(`${c.type}: a steady-state round costs at most ${c.bound} provider requests per snapshot`, async () => {
      const spec = driverSpec(c.type);
      const d = c.start ? await c.start() : await spec.start().then((driver) => ({ fake: driver.fake as unknown as { requests: unknown[]; close(): Promise<void> }, config: driver.config() }));
      const fake = d.fake;
      c.pending(fake as never);
      const clock = databaseClock();
      const sc = await sidecarFor(t, { clock, sleep: async () => {}, env: { SS_RECONCILE_MINUTES: '10080' }, providers: { [spec.slug]: d.config } });
      try {
        const schedule = await api(sc, 'post', '/api/v1/schedules', { name: `Keep one ${c.type}`, intervalMinutes: 60, spreadMinutes: 0, retention: { keepLast: 1 } });
        expect(schedule.status).toBe(201);
        const serverIds: number[] = [];
        for (let i = 0; i < N; i++) {
          const serverId = await addServer(t, { title: `${c.type}-${i}`, provider: spec.slug, instanceId: c.instance(fake as never, i), region: c.type === 'awsec2' ? 'us-east-1' : 'local-1' });
          expect((await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, { scheduleIds: [schedule.body.schedule.id] })).status).toBe(200);
          serverIds.push(serverId);
        }
        const settled = (k: Record<string, number>) => (k.available ?? 0) === N && !k.requested && !k.creating && !k.deleting;

        await advanceToNextSlot(clock, t.handle.db, HOUR);
        await settleRound(sc, clock, serverIds, settled);
        const before = fake.requests.length;

        await advanceToNextSlot(clock, t.handle.db, HOUR);
        await settleRound(sc, clock, serverIds, (k) => settled(k) && (spec.canDelete ? !k.superseded : (k.superseded ?? 0) >= N));
        const perSnapshot = (fake.requests.length - before) / N;
        figures[c.type] = Math.round(perSnapshot * 100) / 100;
        if ('rateLimited' in fake) expect((fake as { rateLimited(): number }).rateLimited()).toBe(0);
        expect(perSnapshot).toBeGreaterThanOrEqual(spec.canDelete ? 2 : 1); // the floor: a create (and a delete)
        expect(perSnapshot).toBeLessThanOrEqual(c.bound);
      } finally {
        await sc.stop(0);
        await fake.close();
        await quietDatabase(t);
      }
    });
  }
});
