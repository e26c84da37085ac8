/**
 * The Hetzner adapter against a local fake of the Hetzner Cloud API (tests/fakes/hetzner.ts).
 * Time is virtual: the adapter's sleeps advance a clock the fake also reads, so waits for
 * rate limits are measured, not spent.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../sidecar/log.js';
import { createHetznerProvider, hetznerConfigSchema, type HetznerConfig } from '../../sidecar/providers/hetzner.js';
import { ProviderError, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { startFakeHetzner, type FakeHetzner, type FakeHetznerOptions } from '../fakes/hetzner.js';
import { adapterContext } from '../helpers/provider-context.js';

function virtualClock(start = Date.parse('2026-11-27T03:00:00Z')) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleeps,
    onSleep: undefined as undefined | ((ms: number) => void),
    async sleep(ms: number) {
      sleeps.push(ms);
      t += ms;
      this.onSleep?.(ms);
    },
  };
}

const SERVER: ServerRef = { serverId: 7, instanceId: '4711', region: 'fsn1', name: 'web1' };
const marker = (id: number): SnapshotMarker => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

let fake: FakeHetzner | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  opts: { fake?: FakeHetznerOptions; config?: Partial<HetznerConfig>; log?: ReturnType<typeof createLogger> } = {},
) {
  const clock = virtualClock();
  fake = await startFakeHetzner({ now: clock.now, ...opts.fake });
  fake.addServer(4711, 'web1');
  const config: HetznerConfig = hetznerConfigSchema.parse({ type: 'hetzner', token: fake.token, apiUrl: fake.url, ...opts.config });
  const provider = createHetznerProvider('hetzner', config, adapterContext({
    log: opts.log ?? silentLogger,
    now: clock.now,
    sleep: (ms) => clock.sleep(ms),
  }));
  return { fake, provider, clock };
}

async function caught(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

describe('hetznerConfigSchema', () => {
  it('requires a token and accepts an http(s) apiUrl and budget overrides', () => {
    expect(hetznerConfigSchema.safeParse({ type: 'hetzner' }).success).toBe(false);
    expect(hetznerConfigSchema.safeParse({ type: 'hetzner', token: 't', apiUrl: 'ftp://x' }).success).toBe(false);
    const ok = hetznerConfigSchema.parse({ type: 'hetzner', token: 't', apiUrl: 'http://127.0.0.1:1/v1', budget: { perHour: 1800 } });
    expect(ok.budget).toEqual({ perHour: 1800 });
  });
});

describe('Hetzner adapter', () => {
  it('creates a labelled snapshot, follows it to available, deletes it, and a second delete finds it gone', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'trace',
      destination: new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }),
    });
    const { fake, provider } = await setup({ fake: { pendingPolls: 2 }, log });

    const created = await provider.create(SERVER, marker(42));
    expect(created.state).toBe('creating');
    expect(created.providerSnapshotId).toMatch(/^\d+$/);
    expect(created.pendingRef).toMatch(/^\d+$/);
    const sent = fake.requests.find((r) => r.method === 'POST');
    expect(sent?.path).toBe('/v1/servers/4711/actions/create_image');
    expect(sent?.body).toEqual({
      type: 'snapshot',
      description: 'ss-42-web1-20261127T0300Z',
      labels: { 'ss-snapshot-id': '42', 'managed-by': 'scheduled-snapshots' },
    });

    const ref = { providerSnapshotId: created.providerSnapshotId, pendingRef: created.pendingRef, marker: marker(42) };
    expect((await provider.status(SERVER, ref)).state).toBe('creating');
    const done = await provider.status(SERVER, ref);
    expect(done).toMatchObject({ providerSnapshotId: created.providerSnapshotId, state: 'available' });
    expect(done.sizeBytes).toBeGreaterThan(0);

    expect(await provider.delete(SERVER, created.providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.images()).toEqual([]);
    expect(await provider.delete(SERVER, created.providerSnapshotId!)).toEqual({ alreadyGone: true });
    expect((await provider.status(SERVER, ref)).state).toBe('gone');

    expect(lines.join('\n')).not.toContain(fake.token);
  });

  it('says plainly when the token is refused', async () => {
    const { fake } = await setup();
    const wrong = createHetznerProvider(
      'hetzner',
      { type: 'hetzner', token: 'not-the-token', apiUrl: fake.url },
      adapterContext({ log: silentLogger, sleep: async () => {} }),
    );
    const err = await caught(wrong.create(SERVER, marker(1)));
    expect(err.code).toBe('auth');
    expect(err.message).toMatch(/^Hetzner refused the token/);
    expect(err.message).not.toContain('not-the-token');
    expect(fake.count()).toBe(1); // not retried
  });

  it('says the token needs read-write permission when it is read-only', async () => {
    const { fake } = await setup({ fake: { readOnlyToken: 'ro-token' } });
    const ro = createHetznerProvider('hetzner', { type: 'hetzner', token: 'ro-token', apiUrl: fake.url }, adapterContext({ log: silentLogger }));
    const err = await caught(ro.create(SERVER, marker(1)));
    expect(err.code).toBe('permission');
    expect(err.message).toBe('Hetzner refused the token: check it has read-write permission.');
  });

  it('names the missing server', async () => {
    const { provider } = await setup();
    const err = await caught(provider.create({ ...SERVER, instanceId: '999' }, marker(1)));
    expect(err.code).toBe('not_found');
    expect(err.message).toBe('Hetzner has no server 999: was it deleted?');
  });

  it('refuses a server id that is not a number without calling Hetzner', async () => {
    const { fake, provider } = await setup();
    const err = await caught(provider.create({ ...SERVER, instanceId: 'web1' }, marker(1)));
    expect(err.code).toBe('invalid');
    expect(fake.count()).toBe(0);
  });

  it('passes on Hetzner\'s reason when it refuses the input', async () => {
    const { provider } = await setup();
    // A negative id makes a label value Hetzner rejects (must start alphanumeric).
    const err = await caught(provider.create(SERVER, { snapshotId: -1, name: 'ss--1-web1' }));
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/^Hetzner refused the request as invalid: label value/);
  });

  it('turns a malformed body into bad_response', async () => {
    const { fake, provider } = await setup();
    const { providerSnapshotId } = await provider.create(SERVER, marker(2));
    fake.inject(1, { kind: 'malformed' }, { method: 'GET' });
    const err = await caught(provider.status(SERVER, { providerSnapshotId, marker: marker(2) }));
    expect(err.code).toBe('bad_response');
    expect(err.message).not.toContain('avail');
  });

  it('retries a 5xx on a read and then succeeds', async () => {
    const { fake, provider } = await setup();
    const { providerSnapshotId } = await provider.create(SERVER, marker(3));
    fake.inject(2, { kind: '5xx', status: 503 }, { method: 'GET' });
    const s = await provider.status(SERVER, { providerSnapshotId, marker: marker(3) });
    expect(s.state).toBe('available');
    expect(fake.count({ method: 'GET', path: /^\/v1\/images\/\d+$/ })).toBe(3);
  });

  it('gives up on a read after five 5xx answers with a transient error', async () => {
    const { fake, provider } = await setup();
    const { providerSnapshotId } = await provider.create(SERVER, marker(4));
    fake.inject(10, { kind: '5xx', status: 500 }, { method: 'GET' });
    const err = await caught(provider.status(SERVER, { providerSnapshotId, marker: marker(4) }));
    expect(err.code).toBe('transient');
    expect(err.retryable).toBe(true);
    expect(fake.count({ method: 'GET' })).toBe(5);
  });

  it('retries after a hung request times out', async () => {
    const { fake, provider } = await setup({ config: { timeoutMs: 150 } });
    const { providerSnapshotId } = await provider.create(SERVER, marker(5));
    fake.inject(1, { kind: 'hang' }, { method: 'GET' });
    expect((await provider.status(SERVER, { providerSnapshotId, marker: marker(5) })).state).toBe('available');
  });

  it('does not resend a create after a 5xx, so no second snapshot is made', async () => {
    const { fake, provider } = await setup();
    fake.inject(1, { kind: '5xx', status: 502 }, { method: 'POST' });
    const err = await caught(provider.create(SERVER, marker(6)));
    expect(err.code).toBe('transient');
    expect(fake.count({ method: 'POST' })).toBe(1);
    expect(fake.images()).toEqual([]);
  });

  it('when the answer to a create is lost, finds the snapshot by its labels instead of failing', async () => {
    const { fake, provider } = await setup({ config: { timeoutMs: 500 } });
    fake.inject(1, { kind: 'lost' }, { method: 'POST' });
    const created = await provider.create(SERVER, marker(7));
    expect(fake.count({ method: 'POST' })).toBe(1);
    expect(fake.images()).toHaveLength(1);
    expect(created.providerSnapshotId).toBe(String(fake.images()[0]!.id));
  });

  it('waits while the server is locked by another action, then creates', async () => {
    const { fake, provider, clock } = await setup();
    fake.lockServer(4711, true);
    clock.onSleep = () => fake.lockServer(4711, false);
    const created = await provider.create(SERVER, marker(8));
    expect(created.state).toBe('creating');
    expect(fake.count({ method: 'POST' })).toBe(2);
  });

  it('reports busy when the server stays locked', async () => {
    const { fake, provider } = await setup();
    fake.lockServer(4711, true);
    const err = await caught(provider.create(SERVER, marker(9)));
    expect(err.code).toBe('busy');
    expect(err.retryable).toBe(true);
    expect(fake.count({ method: 'POST' })).toBe(5);
  });

  it('reports a snapshot Hetzner failed to make, with its reason', async () => {
    const { fake, provider } = await setup();
    fake.failNextSnapshot('disk could not be read');
    const created = await provider.create(SERVER, marker(10));
    const s = await provider.status(SERVER, { providerSnapshotId: created.providerSnapshotId, pendingRef: created.pendingRef, marker: marker(10) });
    expect(s).toMatchObject({ state: 'failed', reason: 'Hetzner could not create the snapshot: disk could not be read.' });
  });

  it('on a 429 with Retry-After, waits that long and goes on', async () => {
    const { fake, provider, clock } = await setup();
    fake.inject(1, { kind: '429', headers: { 'Retry-After': '9' } }, { method: 'POST' });
    await provider.create(SERVER, marker(11));
    expect(clock.sleeps).toEqual([9000]);
    expect(fake.count({ method: 'POST' })).toBe(2);
  });

  it('on an exhausted bucket, waits for one request to come back, not for the full reset', async () => {
    // 60 per hour: one request back per minute; the bucket is full again an hour later.
    const { fake, provider, clock } = await setup({ fake: { rateLimitPerHour: 60 } });
    const { providerSnapshotId } = await provider.create(SERVER, marker(12));
    for (let i = 0; i < 59; i += 1) await provider.status(SERVER, { providerSnapshotId, marker: marker(12) });
    expect(clock.sleeps).toEqual([]);
    const start = clock.now();
    await provider.status(SERVER, { providerSnapshotId, marker: marker(12) });
    expect(clock.sleeps).toEqual([60_000]);
    expect(clock.now() - start).toBe(60_000);
    expect(fake.count()).toBe(62); // 60 fine, one 429, one after the wait
  });

  it('hands a wait longer than the maximum back to the engine as rate_limited', async () => {
    const { fake, provider, clock } = await setup({ fake: { rateLimitPerHour: 6 } });
    const { providerSnapshotId } = await provider.create(SERVER, marker(13));
    for (let i = 0; i < 5; i += 1) await provider.status(SERVER, { providerSnapshotId, marker: marker(13) });
    const err = await caught(provider.status(SERVER, { providerSnapshotId, marker: marker(13) }));
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(600_000); // one request per 10 minutes
    expect(clock.sleeps).toEqual([]);
    expect(fake.count()).toBe(7);
  });

  it('finds ours by label among many snapshots across pages, ignoring look-alikes', async () => {
    const { fake, provider } = await setup();
    for (let i = 0; i < 130; i += 1) {
      // Snapshots that share our labels but are not ours: other ids, and another site's #42.
      fake.addImage({ description: `ss-${i}-other`, labels: { 'ss-snapshot-id': String(i), 'managed-by': 'scheduled-snapshots' } });
      fake.addImage({ description: `ss-42-elsewhere-${i}`, labels: { 'ss-snapshot-id': '42', 'managed-by': 'scheduled-snapshots' }, created_from: { id: 4711, name: 'web1' } });
      fake.addImage({ description: 'ss-42-web1-20261127T0300Z', labels: {}, created_from: { id: 4711, name: 'web1' } });
    }
    fake.addImage({ description: 'ss-42-web1-20261127T0300Z', labels: { 'ss-snapshot-id': '42', 'managed-by': 'scheduled-snapshots' }, created_from: { id: 9999, name: 'other' } });
    const oursId = fake.addImage({
      description: 'ss-42-web1-20261127T0300Z',
      labels: { 'ss-snapshot-id': '42', 'managed-by': 'scheduled-snapshots' },
      created_from: { id: 4711, name: 'web1' },
      status: 'creating',
    });
    const found = await provider.findByMarker(SERVER, marker(42));
    expect(found).toMatchObject({ providerSnapshotId: String(oursId), state: 'creating' });
    const pages = fake.requests.filter((r) => r.path === '/v1/images');
    // 133 images carry our labels (ours last): three pages of 50.
    expect(pages.map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);
    expect(pages.every((r) => r.query.get('per_page') === '50' && r.query.get('type') === 'snapshot')).toBe(true);
    expect(pages.every((r) => r.query.get('label_selector') === 'ss-snapshot-id=42,managed-by=scheduled-snapshots')).toBe(true);

    expect(await provider.findByMarker(SERVER, marker(4242))).toBeNull();
  });

  it('follows a snapshot whose id was never stored (crash after create) by its marker', async () => {
    const { provider } = await setup();
    const created = await provider.create(SERVER, marker(16));
    expect(await provider.status(SERVER, { providerSnapshotId: null, marker: marker(16) })).toMatchObject({
      providerSnapshotId: created.providerSnapshotId,
    });
    expect((await provider.status(SERVER, { providerSnapshotId: null, marker: marker(17) })).state).toBe('gone');
  });

  it('deletes after a failed first attempt', async () => {
    const { fake, provider } = await setup();
    const { providerSnapshotId } = await provider.create(SERVER, marker(14));
    fake.inject(1, { kind: '5xx', status: 503 }, { method: 'DELETE' });
    expect(await provider.delete(SERVER, providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.count({ method: 'DELETE' })).toBe(2);
    expect(fake.images()).toEqual([]);
  });

  it('refuses to delete a protected image with a sentence saying what to do', async () => {
    const { fake, provider } = await setup();
    const id = fake.addImage({ description: 'mine', labels: {} });
    fake.protectImage(id);
    const err = await caught(provider.delete(SERVER, String(id)));
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/remove the protection/);
    expect(fake.images()).toHaveLength(1);
  });

  it('resolves a panel snapshot id to the image', async () => {
    const { fake, provider } = await setup();
    const id = fake.addImage({ description: 'from the panel' });
    expect(await provider.resolvePanelSnapshotId!(SERVER, String(id))).toMatchObject({ providerSnapshotId: String(id), state: 'available' });
    expect((await caught(provider.resolvePanelSnapshotId!(SERVER, '123'))).code).toBe('not_found');
  });

  it('never sends more requests than its budget allows, measured at the fake (real clock)', async () => {
    // Real time here: the fake stamps arrivals with its own clock, so the budget is checked
    // where the provider would count. 10 per second keeps the test near two seconds.
    fake = await startFakeHetzner();
    fake.addServer(4711, 'web1');
    const provider = createHetznerProvider(
      'hetzner',
      { type: 'hetzner', token: fake.token, apiUrl: fake.url, budget: { perHour: null, perSecond: 10 } },
      adapterContext({ log: silentLogger }),
    );
    const { providerSnapshotId } = await provider.create(SERVER, marker(15));
    await Promise.all(Array.from({ length: 24 }, () => provider.status(SERVER, { providerSnapshotId, marker: marker(15) })));
    expect(fake.count()).toBe(25);
    expect(fake.peakInWindow(1000)).toBeLessThanOrEqual(10);
    expect(fake.peakInWindow(1000)).toBeGreaterThanOrEqual(8); // and it does use its budget
  });
});
