/**
 * The Vultr adapter against a local fake of the Vultr API v2 (tests/fakes/vultr.ts).
 * Time is virtual except where the budget is measured at the fake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../sidecar/log.js';
import { createVultrProvider, vultrConfigSchema, type VultrConfig } from '../../sidecar/providers/vultr.js';
import { ProviderError, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { startFakeVultr, type FakeVultr, type FakeVultrOptions } from '../fakes/vultr.js';
import { adapterContext } from '../helpers/provider-context.js';

function virtualClock(start = Date.parse('2026-11-27T03:00:00Z')) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

const INSTANCE = 'cb676a46-66fd-4dfb-b839-443f2e6c0b60';
const SERVER: ServerRef = { serverId: 7, instanceId: INSTANCE, region: 'ewr', name: 'web1' };
const marker = (id: number): SnapshotMarker => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

let fake: FakeVultr | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(opts: { fake?: FakeVultrOptions; config?: Partial<VultrConfig> } = {}) {
  const clock = virtualClock();
  fake = await startFakeVultr({ now: clock.now, ...opts.fake });
  fake.addInstance(INSTANCE, 'web1');
  const config = vultrConfigSchema.parse({ type: 'vultr', apiKey: fake.apiKey, apiUrl: fake.url, ...opts.config });
  const provider = createVultrProvider('vultr-v2', config, adapterContext({ log: silentLogger, now: clock.now, sleep: clock.sleep }));
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

describe('vultrConfigSchema', () => {
  it('requires apiKey (not token)', () => {
    expect(vultrConfigSchema.safeParse({ type: 'vultr', token: 'x' }).success).toBe(false);
    expect(vultrConfigSchema.parse({ type: 'vultr', apiKey: 'x' }).apiKey).toBe('x');
  });
});

describe('Vultr adapter', () => {
  it('creates a snapshot described with our marker, follows pending to complete, and deletes it', async () => {
    const { fake, provider } = await setup({ fake: { pendingPolls: 3 } });
    const created = await provider.create(SERVER, marker(42));
    expect(created).toMatchObject({ state: 'creating' });
    expect(fake.requests.find((r) => r.method === 'POST')?.body).toEqual({ instance_id: INSTANCE, description: 'ss-42-web1-20261127T0300Z' });

    const ref = { providerSnapshotId: created.providerSnapshotId, marker: marker(42) };
    expect((await provider.status(SERVER, ref)).state).toBe('creating');
    expect((await provider.status(SERVER, ref)).state).toBe('creating');
    const done = await provider.status(SERVER, ref);
    expect(done).toMatchObject({ providerSnapshotId: created.providerSnapshotId, state: 'available', sizeBytes: 26_843_545_600 });

    expect(await provider.delete(SERVER, created.providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.snapshots()).toEqual([]);
  });

  it('answers alreadyGone for a snapshot that no longer exists', async () => {
    const { provider } = await setup();
    expect(await provider.delete(SERVER, '0b3a1c9e-0000-4000-8000-000000000000')).toEqual({ alreadyGone: true });
  });

  it('says plainly when the API key is refused, without the key', async () => {
    const { fake } = await setup();
    const wrong = createVultrProvider('vultr-v2', { type: 'vultr', apiKey: 'WRONGKEY', apiUrl: fake.url }, adapterContext({ log: silentLogger }));
    const err = await caught(wrong.create(SERVER, marker(1)));
    expect(err.code).toBe('auth');
    expect(err.message).toBe('Vultr refused the API key: check apiKey in the providers file.');
    expect(fake.count()).toBe(1);
  });

  it('names a missing instance', async () => {
    const { fake, provider } = await setup();
    const gone = 'deadbeef-0000-4000-8000-000000000000';
    const err = await caught(provider.create({ ...SERVER, instanceId: gone }, marker(1)));
    expect(err.code).toBe('not_found');
    expect(err.message).toBe(`Vultr has no instance ${gone}: was it deleted?`);
    expect(fake.snapshots()).toEqual([]);
  });

  it('passes on Vultr\'s reason when it refuses a create for an instance that exists', async () => {
    const { fake, provider } = await setup({ fake: { snapshotLimit: 1 } });
    await provider.create(SERVER, marker(1));
    const err = await caught(provider.create(SERVER, marker(2)));
    expect(err.code).toBe('invalid');
    expect(err.message).toBe('Vultr refused the request as invalid: Snapshot limit reached for this account.');
    expect(fake.count({ method: 'GET', path: /^\/v2\/instances\// })).toBe(1); // it checked the instance
  });

  it('refuses an id that could change the request path, without calling Vultr', async () => {
    const { fake, provider } = await setup();
    const err = await caught(provider.status(SERVER, { providerSnapshotId: '../../v2/account', marker: marker(1) }));
    expect(err.code).toBe('invalid');
    expect(fake.count()).toBe(0);
  });

  it('turns a malformed body into bad_response', async () => {
    const { fake, provider } = await setup();
    const { providerSnapshotId } = await provider.create(SERVER, marker(2));
    fake.inject(1, { kind: 'malformed' }, { method: 'GET' });
    const err = await caught(provider.status(SERVER, { providerSnapshotId, marker: marker(2) }));
    expect(err.code).toBe('bad_response');
    expect(err.message).not.toContain('comp');
  });

  it('retries 5xx on a read, and gives up after five with a transient error', async () => {
    const { fake, provider } = await setup();
    const { providerSnapshotId } = await provider.create(SERVER, marker(3));
    fake.inject(2, { kind: '5xx', status: 502 }, { method: 'GET' });
    expect((await provider.status(SERVER, { providerSnapshotId, marker: marker(3) })).state).toBe('available');
    expect(fake.count({ method: 'GET' })).toBe(3);

    fake.inject(5, { kind: '5xx', status: 500 }, { method: 'GET' });
    const err = await caught(provider.status(SERVER, { providerSnapshotId, marker: marker(3) }));
    expect(err.code).toBe('transient');
    expect(fake.count({ method: 'GET' })).toBe(8);
  });

  it('on a 429 without headers (Vultr sends none), backs off with jitter and goes on', async () => {
    const { fake, provider, clock } = await setup();
    fake.inject(1, { kind: '429' }, { method: 'POST' });
    await provider.create(SERVER, marker(4));
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(0);
    expect(clock.sleeps[0]).toBeLessThan(500);
    expect(fake.count({ method: 'POST' })).toBe(2);
    expect(fake.snapshots()).toHaveLength(1);
  });

  it('when the answer to a create is lost, finds the snapshot by description instead of making another', async () => {
    const { fake, provider } = await setup({ config: { timeoutMs: 500 } });
    fake.inject(1, { kind: 'lost' }, { method: 'POST' });
    const created = await provider.create(SERVER, marker(5));
    expect(fake.count({ method: 'POST' })).toBe(1);
    expect(fake.snapshots()).toHaveLength(1);
    expect(created.providerSnapshotId).toBe(fake.snapshots()[0]!.id);
  });

  it('does not resend a create after a 5xx', async () => {
    const { fake, provider } = await setup();
    fake.inject(1, { kind: '5xx', status: 503 }, { method: 'POST' });
    const err = await caught(provider.create(SERVER, marker(6)));
    expect(err.code).toBe('transient');
    expect(fake.count({ method: 'POST' })).toBe(1);
  });

  for (const mode of ['exact', 'substring', 'ignored'] as const) {
    it(`finds ours by exact description across pages, ignoring look-alikes (list filter: ${mode})`, async () => {
      const { fake, provider } = await setup({ fake: { descriptionFilter: mode } });
      for (let i = 0; i < 250; i += 1) {
        fake.addSnapshot({ description: `nightly backup ${i}` });
        fake.addSnapshot({ description: `ss-42-web1-20261127T0300Z copy ${i}` }); // contains ours
      }
      fake.addSnapshot({ description: 'SS-42-WEB1-20261127T0300Z' });
      const ours = fake.addSnapshot({ description: 'ss-42-web1-20261127T0300Z', status: 'pending' });
      const found = await provider.findByMarker(SERVER, marker(42));
      expect(found).toMatchObject({ providerSnapshotId: ours, state: 'creating' });
      const lists = fake.requests.filter((r) => r.path === '/v2/snapshots' && r.method === 'GET');
      expect(lists.every((r) => r.query.get('description') === 'ss-42-web1-20261127T0300Z')).toBe(true);
      // 502 snapshots at 100 a page when the filter does nothing; fewer pages otherwise.
      expect(lists).toHaveLength({ exact: 1, substring: 3, ignored: 6 }[mode]);
      expect(lists.slice(1).every((r) => (r.query.get('cursor') ?? '') !== '')).toBe(true);

      expect(await provider.findByMarker(SERVER, marker(7))).toBeNull();
    });
  }

  it('follows a snapshot whose id was never stored (crash after create) by its description', async () => {
    const { provider } = await setup();
    const created = await provider.create(SERVER, marker(9));
    expect(await provider.status(SERVER, { providerSnapshotId: null, marker: marker(9) })).toMatchObject({
      providerSnapshotId: created.providerSnapshotId,
    });
    expect((await provider.status(SERVER, { providerSnapshotId: null, marker: marker(10) })).state).toBe('gone');
  });

  it('deletes after a failed first attempt', async () => {
    const { fake, provider } = await setup();
    const { providerSnapshotId } = await provider.create(SERVER, marker(8));
    fake.inject(1, { kind: '5xx', status: 500 }, { method: 'DELETE' });
    expect(await provider.delete(SERVER, providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.count({ method: 'DELETE' })).toBe(2);
    expect(fake.snapshots()).toEqual([]);
  });

  it('resolves a panel snapshot id to the snapshot', async () => {
    const { fake, provider } = await setup();
    const id = fake.addSnapshot({ description: 'taken in the panel' });
    expect(await provider.resolvePanelSnapshotId!(SERVER, id)).toMatchObject({ providerSnapshotId: id, state: 'available' });
  });

  it('with the default budget, never trips Vultr\'s 30 per second, measured at the fake (real clock)', async () => {
    fake = await startFakeVultr();
    fake.addInstance(INSTANCE);
    const id = fake.addSnapshot({ description: 'x' });
    const provider = createVultrProvider('vultr-v2', { type: 'vultr', apiKey: fake.apiKey, apiUrl: fake.url }, adapterContext({ log: silentLogger }));
    await Promise.all(Array.from({ length: 70 }, () => provider.status(SERVER, { providerSnapshotId: id, marker: marker(1) })));
    expect(fake.count()).toBe(70); // no 429 was answered (it would have been retried)
    expect(fake.peakInWindow(1000)).toBeLessThanOrEqual(30);
  });
});
