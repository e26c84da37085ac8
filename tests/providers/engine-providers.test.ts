/**
 * Every cloud provider through the engine: a real sidecar (config file, migrations, engine,
 * MariaDB) whose providers file points each host slug at that provider's local fake, driven
 * through the signed JSON API. Time moves only when a test moves the engine's clock; the
 * adapters' own waits go through an instant `sleep` that records what was asked for.
 *
 * Provider-specific behaviour (Linode's single slot, DigitalOcean's action ids, OpenStack's
 * microversions) lives in engine-linode / engine-digitalocean / engine-openstack.test.ts.
 */
import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../sidecar/config.js';
import { databaseClock } from '../../sidecar/db.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { type Driver, DRIVERS, type DriverSpec, engineTestbed, eventsOf, expectPlainSentence, oneRound, settle, snapshotOf, takeNow } from '../helpers/providers.js';
import { SECRET, advance, advanceToNextSlot, api, runUntilIdle, sidecarFor, writeProvidersFile } from '../helpers/sidecar.js';

let t: TestDatabase;
const bed = engineTestbed((db) => { t = db; });

/** The provider's fake, a sidecar whose providers file points the host slug at it, and one server on it. */
async function bringUp(spec: DriverSpec, opts: { wrongCredentials?: boolean; instanceId?: string } = {}) {
  const d: Driver = await spec.start();
  bed.defer(() => d.close());
  const clock = databaseClock();
  const sleeps: number[] = [];
  const sc = await sidecarFor(t, {
    clock,
    providers: { [spec.slug]: d.config({ wrongCredentials: opts.wrongCredentials }) },
    sleep: async (ms) => { sleeps.push(ms); },
  });
  bed.defer(() => sc.stop(0));
  const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: opts.instanceId ?? d.instanceId });
  return { d, sc, clock, sleeps, serverId };
}

/** A manual snapshot followed to `available`; returns its id and provider id. */
async function availableSnapshot(sc: Awaited<ReturnType<typeof bringUp>>['sc'], clock: ReturnType<typeof databaseClock>, serverId: number) {
  const id = await takeNow(sc, serverId);
  const { snap } = await settle(sc, clock, id);
  expect(snap?.status).toBe('available');
  return { id, providerSnapshotId: snap!.providerSnapshotId! };
}

/**
 * Delete tests exist only for providers that can delete one snapshot: Linode cannot, and its
 * own file (engine-linode.test.ts) proves what TRASH does there instead. Not defined rather
 * than skipped, so the run reports no skipped tests.
 */
const whenDeletable = (canDelete: boolean) => (canDelete ? test : ((() => undefined) as unknown as typeof test));

describe.each(DRIVERS.map((spec) => [spec.type, spec] as const))('%s through the engine', (_type, spec) => {
  test(`when a schedule comes due on a "${spec.slug}" server, then its snapshot goes requested → creating → available with the provider's id${spec.sizeBytes === null ? '' : ' and size'}`, async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    const schedule = await api(sc, 'post', '/api/v1/schedules', { name: `Hourly ${spec.type}`, intervalMinutes: 60, spreadMinutes: 0, retention: { keepLast: 5 } });
    expect(schedule.status).toBe(201);
    expect((await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, { scheduleIds: [schedule.body.schedule.id] })).status).toBe(200);

    await advanceToNextSlot(clock, t.handle.db, 3600_000);
    await oneRound(sc);
    const list = await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}`);
    expect(list.body.items).toHaveLength(1);
    const pending = list.body.items[0];
    expect(pending).toMatchObject({ origin: 'scheduled', status: 'creating', provider: spec.slug, providerType: spec.type });
    // Never an empty string: an id, or nothing yet (DigitalOcean names it only once finished).
    expect(pending.providerSnapshotId === null || /^\S+$/.test(pending.providerSnapshotId)).toBe(true);

    const { snap } = await settle(sc, clock, pending.id);
    expect(snap?.status).toBe('available');
    expect(d.stored()).toEqual([snap!.providerSnapshotId]);
    expect(snap!.sizeBytes).toBe(spec.sizeBytes);
    expect(snap!.lastError).toBeNull();
    expect(d.createCalls()).toBe(1);
    expect((await eventsOf(sc, pending.id)).map((e) => e.action)).toEqual(['requested', 'creating', 'available']);
  });

  whenDeletable(spec.canDelete)('when an available snapshot is trashed, then it is deleted at the provider and leaves the list', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    const { id } = await availableSnapshot(sc, clock, serverId);
    expect(d.stored()).toHaveLength(1);

    const trash = await api(sc, 'delete', `/api/v1/snapshots/${id}`);
    expect(trash.status).toBe(202); // the engine does the provider call; trashWaitMs is 0 here
    await runUntilIdle(sc);

    expect(await snapshotOf(sc, id)).toBeNull();
    expect((await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}`)).body.items).toEqual([]);
    expect(d.stored()).toEqual([]);
    expect(d.deleteCalls()).toBe(1);
    const last = (await eventsOf(sc, id)).at(-1)!;
    expect(last.action).toBe('deleted');
    expect(last.detail).toMatch(/^Deleted at /);
  });

  test('when the provider refuses the credentials, then the snapshot fails with the provider\'s sentence and no secret', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec, { wrongCredentials: true });
    const id = await takeNow(sc, serverId);
    const { snap, rounds } = await settle(sc, clock, id);
    expect(rounds).toBe(1); // refused credentials are not retried
    expect(snap?.status).toBe('failed');
    expect(snap!.lastError).toMatch(spec.authSentence);
    expectPlainSentence(snap!.lastError, d.secrets());
    expect(d.createCalls()).toBeLessThanOrEqual(1);
    expect(d.stored()).toEqual([]);
  });

  test('when the server\'s instance does not exist at the provider, then the snapshot fails saying so', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec, { instanceId: spec.missingInstanceId });
    const id = await takeNow(sc, serverId);
    const { snap, rounds } = await settle(sc, clock, id);
    expect(rounds).toBe(1);
    expect(snap?.status).toBe('failed');
    expect(snap!.lastError).toMatch(spec.notFoundSentence);
    expectPlainSentence(snap!.lastError, d.secrets());
    expect(d.stored()).toEqual([]);
  });

  test('when every create answers 5xx, then after a bounded number of attempts the snapshot fails with a sentence that promises nothing more', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    d.failCreates(1000);
    const id = await takeNow(sc, serverId);

    await oneRound(sc);
    const retrying = await snapshotOf(sc, id);
    expect(retrying?.status).toBe('requested');
    expect(retrying!.lastError).toMatch(/\(attempt 1 of 6; retrying\)$/);

    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('failed');
    expectPlainSentence(snap!.lastError, d.secrets());
    expect(snap!.lastError).toMatch(/Gave up after 6 attempts/);
    expect(snap!.lastError).not.toMatch(/will be tried again|retrying|keep trying/);
    // Six engine attempts (WorkLimits.createAttempts), each a bounded number of provider calls.
    expect(d.createCalls()).toBeGreaterThanOrEqual(6 * spec.createCallsPerAttempt.min);
    expect(d.createCalls()).toBeLessThanOrEqual(6 * spec.createCallsPerAttempt.max);
    expect(d.stored()).toEqual([]);
  });

  test('when a create is rate limited briefly, then the adapter waits what the provider asks (no real waiting) and the snapshot is made once', async () => {
    const { d, sc, clock, sleeps, serverId } = await bringUp(spec);
    const { sleepMs } = d.rateLimitCreateBriefly();
    const id = await takeNow(sc, serverId);
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    expect(d.createCalls()).toBe(2); // the refused one, then the one that worked
    expect(d.stored()).toEqual([snap!.providerSnapshotId]);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    if (sleepMs) {
      expect(sleeps[0]).toBeGreaterThanOrEqual(sleepMs.min);
      expect(sleeps[0]).toBeLessThanOrEqual(sleepMs.max);
    }
  });

  test('when a create is rate limited for longer than the adapter waits, then the engine reschedules it for after the reset and then succeeds', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    const { minDelayMs } = d.rateLimitCreateLong();
    const id = await takeNow(sc, serverId);
    await oneRound(sc);

    const waiting = await snapshotOf(sc, id);
    expect(waiting?.status).toBe('requested');
    expect(waiting!.lastError).toMatch(/rate limit|throttl/i);
    expect(waiting!.lastError).toMatch(/retrying\)$/);
    expectPlainSentence(waiting!.lastError, d.secrets());
    const row = await t.handle.db.selectFrom('ss_snapshots').select('next_attempt_at').where('id', '=', id).executeTakeFirstOrThrow();
    const gap = row.next_attempt_at!.getTime() - (await clock.now(t.handle.db)).getTime();
    expect(gap).toBeGreaterThanOrEqual(minDelayMs - 1000);
    const callsBefore = d.createCalls();
    if (gap > 30_000) {
      // Shortly before the reset nothing is sent (10 s of slack: the database clock runs in real time).
      advance(clock, gap - 10_000);
      await runUntilIdle(sc);
      expect(d.createCalls()).toBe(callsBefore);
      expect((await snapshotOf(sc, id))?.status).toBe('requested');
    }
    advance(clock, Math.min(gap, 10_000) + 1000);
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    expect(d.stored()).toEqual([snap!.providerSnapshotId]);
  });

  test('when a sidecar died between "the provider accepted" and "we stored the id", then after the lease the snapshot is adopted, not made twice', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    const db = t.handle.db;
    const id = await takeNow(sc, serverId);
    // The "crashed" sidecar claimed the row and called the provider, then vanished.
    const now = await clock.now(db);
    const row = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await db.updateTable('ss_snapshots').set({ lease_owner: 'dead:1', attempts: 1, next_attempt_at: new Date(now.getTime() + 30_000) }).where('id', '=', id).execute();
    const created = await sc.ctx.providers.get(spec.slug)!.create(
      { serverId, instanceId: row.instance_id!, region: null, name: row.server_name }, { snapshotId: id, name: row.name });
    d.finishOutside(created); // time passes at the provider too
    expect(d.createCalls()).toBe(1);

    await runUntilIdle(sc); // the dead sidecar's lease still holds
    expect((await snapshotOf(sc, id))?.status).toBe('requested');
    advance(clock, 31_000);
    const { snap } = await settle(sc, clock, id);

    expect(snap?.status).toBe('available');
    expect(d.createCalls()).toBe(1);
    expect(d.stored()).toEqual([snap!.providerSnapshotId]);
    const actions = (await eventsOf(sc, id)).map((e) => e.action);
    expect(actions).toContain('adopted');
    expect(actions.at(-1)).toBe('available');
  });

  whenDeletable(spec.canDelete)('when a delete fails once, then the engine retries it and the snapshot is deleted', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    const { id } = await availableSnapshot(sc, clock, serverId);
    d.failOneDeleteAttempt();

    expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBe(202);
    await oneRound(sc);
    const retrying = await snapshotOf(sc, id);
    expect(retrying?.status).toBe('deleting');
    expect(retrying!.lastError).toMatch(/\(attempt 1 of 8; retrying\)$/);
    expectPlainSentence(retrying!.lastError, d.secrets());
    expect(d.stored()).toHaveLength(1);

    const { snap } = await settle(sc, clock, id);
    expect(snap).toBeNull();
    expect(d.stored()).toEqual([]);
    expect((await eventsOf(sc, id)).at(-1)!.action).toBe('deleted');
  });

  whenDeletable(spec.canDelete)('when the snapshot was already removed at the provider, then TRASH counts it as deleted and drops the record', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    const { id, providerSnapshotId } = await availableSnapshot(sc, clock, serverId);
    await d.removeOutside(providerSnapshotId);
    expect(d.stored()).toEqual([]);

    expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBe(202);
    await runUntilIdle(sc);

    expect(await snapshotOf(sc, id)).toBeNull();
    expect(sc.engine.stats.outcomes.deleted).toBe(1);
    expect(sc.engine.stats.outcomes.delete_failed ?? 0).toBe(0);
    const last = (await eventsOf(sc, id)).at(-1)!;
    expect(last.action).toBe('deleted');
    expect(last.detail).toMatch(/^Already gone at /);
  });
});

describe('capabilities', () => {
  test('when all six providers and the sandbox are configured, then GET /api/v1/providers says what each can do, with no credentials', async () => {
    const drivers = await Promise.all(DRIVERS.map((spec) => spec.start()));
    bed.defer(() => Promise.all(drivers.map((d) => d.close())));
    const providers: Record<string, unknown> = { sandbox: { type: 'sandbox', latencyMs: 0 } };
    for (const d of drivers) providers[d.spec.slug] = d.config();
    const sc = await sidecarFor(t, { providers, sleep: async () => {} });
    bed.defer(() => sc.stop(0));

    const res = await api(sc, 'get', '/api/v1/providers');
    expect(res.status).toBe(200);
    const bySlug = new Map((res.body.items as Array<{ slug: string; type: string; capabilities: Record<string, unknown> }>).map((p) => [p.slug, p]));
    expect([...bySlug.keys()].sort()).toEqual(['awsec2', 'digital-ocean', 'hetzner', 'linode', 'openstack', 'sandbox', 'vultr-v2']);
    for (const d of drivers) {
      const p = bySlug.get(d.spec.slug)!;
      expect(p.type).toBe(d.spec.type);
      expect(p.capabilities).toMatchObject({ create: true, delete: d.spec.canDelete });
    }
    expect(bySlug.get('linode')!.capabilities).toMatchObject({ delete: false, labels: false, slotsPerServer: 1 });
    const linodeNotes = (bySlug.get('linode')!.capabilities.notes as string[]).join(' ');
    expect(linodeNotes).toMatch(/keeps only the latest snapshot/);
    expect(linodeNotes).toMatch(/cannot delete a single snapshot/);
    expect(bySlug.get('vultr-v2')!.capabilities).toMatchObject({ labels: false, slotsPerServer: null });
    for (const slug of ['awsec2', 'hetzner', 'digital-ocean', 'openstack']) expect(bySlug.get(slug)!.capabilities.labels).toBe(true);

    const text = JSON.stringify(res.body);
    for (const d of drivers) for (const secret of d.secrets()) expect(text).not.toContain(secret);
  });

  test('the example providers file in docs/providers.md is accepted by the sidecar\'s configuration loader', () => {
    const doc = fs.readFileSync(new URL('../../docs/providers.md', import.meta.url), 'utf8');
    const block = /## Example providers file[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const config = loadConfig({
      SS_DATABASE_URL: 'mysql://root@127.0.0.1:3306/wp', SS_SHARED_SECRET: SECRET,
      SS_PROVIDERS_FILE: writeProvidersFile(JSON.parse(block!) as Record<string, unknown>),
    });
    expect(Object.fromEntries(Object.entries(config.providers).map(([slug, p]) => [slug, p.type]))).toEqual({
      'vultr-v2': 'vultr', awsec2: 'awsec2', hetzner: 'hetzner', 'digital-ocean': 'digitalocean',
      linode: 'linode', 'my-openstack': 'openstack', sandbox: 'sandbox',
    });
  });
});
