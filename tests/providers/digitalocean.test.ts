/**
 * The DigitalOcean adapter against a local fake of the DigitalOcean API
 * (tests/fakes/digitalocean.ts). Time is virtual except where the budget is measured at the fake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../sidecar/log.js';
import {
  createDigitaloceanProvider,
  digitaloceanConfigSchema,
  type DigitaloceanConfig,
} from '../../sidecar/providers/digitalocean.js';
import { ProviderError, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { startFakeDigitalOcean, type FakeDigitalOcean, type FakeDigitalOceanOptions } from '../fakes/digitalocean.js';
import { adapterContext } from '../helpers/provider-context.js';

function virtualClock(start = Date.parse('2026-11-27T03:00:00Z')) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleeps,
    advance(ms: number) {
      t += ms;
    },
    onSleep: undefined as undefined | ((ms: number) => void),
    async sleep(ms: number) {
      sleeps.push(ms);
      t += ms;
      this.onSleep?.(ms);
    },
  };
}

const SERVER: ServerRef = { serverId: 7, instanceId: '3164444', region: 'fra1', name: 'web1' };
const marker = (id: number): SnapshotMarker => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

let fake: FakeDigitalOcean | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(opts: { fake?: FakeDigitalOceanOptions; config?: Partial<DigitaloceanConfig> } = {}) {
  const clock = virtualClock();
  fake = await startFakeDigitalOcean({ now: clock.now, ...opts.fake });
  fake.addDroplet(3164444, 'web1');
  const config = digitaloceanConfigSchema.parse({ type: 'digitalocean', token: fake.token, apiUrl: fake.url, ...opts.config });
  const provider = createDigitaloceanProvider('digital-ocean', config, adapterContext({
    log: silentLogger,
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

describe('digitaloceanConfigSchema', () => {
  it('requires a token; tag may be a tag name or false', () => {
    expect(digitaloceanConfigSchema.safeParse({ type: 'digitalocean' }).success).toBe(false);
    expect(digitaloceanConfigSchema.safeParse({ type: 'digitalocean', token: 't', tag: 'has space' }).success).toBe(false);
    expect(digitaloceanConfigSchema.parse({ type: 'digitalocean', token: 't', tag: false }).tag).toBe(false);
  });
});

describe('DigitalOcean adapter', () => {
  it('creates through an action, resolves the real snapshot id by name when it completes, tags it, and deletes it', async () => {
    const { fake, provider } = await setup({ fake: { pendingPolls: 2 } });
    const created = await provider.create(SERVER, marker(42));
    expect(created.providerSnapshotId).toBeNull();
    expect(created.state).toBe('creating');
    expect(created.pendingRef).toMatch(/^\d+$/);
    const post = fake.requests.find((r) => r.method === 'POST');
    expect(post?.path).toBe('/v2/droplets/3164444/actions');
    expect(post?.body).toEqual({ type: 'snapshot', name: 'ss-42-web1-20261127T0300Z' });

    const ref = { providerSnapshotId: null, pendingRef: created.pendingRef, marker: marker(42) };
    expect(await provider.status(SERVER, ref)).toMatchObject({ providerSnapshotId: '', state: 'creating' });
    const done = await provider.status(SERVER, ref);
    const stored = fake.snapshots();
    expect(stored).toHaveLength(1);
    expect(done).toMatchObject({ providerSnapshotId: String(stored[0]!.id), state: 'available' });
    expect(done.sizeBytes).toBeGreaterThan(0);
    expect(stored[0]!.tags).toEqual(['scheduled-snapshots']);

    expect(await provider.status(SERVER, { providerSnapshotId: done.providerSnapshotId, marker: marker(42) })).toMatchObject({ state: 'available' });
    expect(await provider.delete(SERVER, done.providerSnapshotId)).toEqual({ alreadyGone: false });
    expect(fake.snapshots()).toEqual([]);
    expect(await provider.delete(SERVER, done.providerSnapshotId)).toEqual({ alreadyGone: true });
    expect((await provider.status(SERVER, { providerSnapshotId: done.providerSnapshotId, marker: marker(42) })).state).toBe('gone');
  });

  it('says plainly when the token is refused', async () => {
    const { fake } = await setup();
    const wrong = createDigitaloceanProvider('do', { type: 'digitalocean', token: 'dop_v1_wrong', apiUrl: fake.url }, adapterContext({ log: silentLogger }));
    const err = await caught(wrong.create(SERVER, marker(1)));
    expect(err.code).toBe('auth');
    expect(err.message).toBe('DigitalOcean refused the token: check token in the providers file.');
    expect(fake.count()).toBe(1);
  });

  it('names a missing droplet', async () => {
    const { provider } = await setup();
    const err = await caught(provider.create({ ...SERVER, instanceId: '999' }, marker(1)));
    expect(err.code).toBe('not_found');
    expect(err.message).toBe('DigitalOcean has no droplet 999: was it deleted?');
  });

  it('when the droplet is busy with another action, then create hands the wait to the engine without resending, and snapshots once the action is over', async () => {
    const { fake, provider, clock } = await setup();
    const other = fake.startSnapshotAction(3164444, 'taken-in-the-panel');
    const err = await caught(provider.create(SERVER, marker(2)));
    expect(err).toMatchObject({ code: 'busy', retryable: true, retryAfterMs: 60_000 });
    expect(fake.count({ method: 'POST' })).toBe(1);
    expect(clock.sleeps).toHaveLength(0);
    fake.finishAction(other);
    const created = await provider.create(SERVER, marker(2));
    expect(created.pendingRef).toMatch(/^\d+$/);
    expect(fake.count({ method: 'POST' })).toBe(2);
  });

  it('when busyWaitMs is set, then the busy wait asks for that long', async () => {
    const { fake } = await setup();
    const provider = createDigitaloceanProvider('do', { type: 'digitalocean', token: fake.token, apiUrl: fake.url, busyWaitMs: 5_000 }, adapterContext({ log: silentLogger }));
    fake.startSnapshotAction(3164444, 'long-running');
    const err = await caught(provider.create(SERVER, marker(3)));
    expect(err).toMatchObject({ code: 'busy', retryable: true, retryAfterMs: 5_000 });
    expect(err.params.wait).toBe(true);
  });

  it('turns a malformed body into bad_response', async () => {
    const { fake, provider } = await setup();
    const created = await provider.create(SERVER, marker(4));
    fake.inject(1, { kind: 'malformed' }, { method: 'GET' });
    const err = await caught(provider.status(SERVER, { providerSnapshotId: null, pendingRef: created.pendingRef, marker: marker(4) }));
    expect(err.code).toBe('bad_response');
    expect(err.message).not.toMatch(/html|Gateway/);
  });

  it('retries 5xx while following the action, and gives up after five with transient', async () => {
    const { fake, provider } = await setup({ fake: { pendingPolls: 5 } });
    const created = await provider.create(SERVER, marker(5));
    const ref = { providerSnapshotId: null, pendingRef: created.pendingRef, marker: marker(5) };
    fake.inject(2, { kind: '5xx', status: 503 }, { method: 'GET', path: /^\/v2\/actions\// });
    expect((await provider.status(SERVER, ref)).state).toBe('creating');
    expect(fake.count({ path: /^\/v2\/actions\// })).toBe(3);

    fake.inject(5, { kind: '5xx', status: 500 }, { method: 'GET', path: /^\/v2\/actions\// });
    const err = await caught(provider.status(SERVER, ref));
    expect(err.code).toBe('transient');
    expect(fake.count({ path: /^\/v2\/actions\// })).toBe(8);
  });

  it('reports an errored snapshot action as failed', async () => {
    const { fake, provider } = await setup();
    fake.failNextSnapshot();
    const created = await provider.create(SERVER, marker(6));
    const s = await provider.status(SERVER, { providerSnapshotId: null, pendingRef: created.pendingRef, marker: marker(6) });
    expect(s.state).toBe('failed');
    expect(s.reason).toBe(`DigitalOcean reports the snapshot action ${created.pendingRef} as errored.`);
  });

  it('on a burst 429, waits for retry-after and goes on', async () => {
    // Budget off so the fake's 5-per-minute limit is what answers.
    const { fake, provider, clock } = await setup({ fake: { perMinute: 5 }, config: { budget: { perHour: null, perMinute: null } } });
    const id = String(fake.addSnapshot({ dropletId: 3164444, name: 'x' }));
    for (let i = 0; i < 5; i += 1) await provider.status(SERVER, { providerSnapshotId: id, marker: marker(7) });
    expect(clock.sleeps).toEqual([]);
    await provider.status(SERVER, { providerSnapshotId: id, marker: marker(7) });
    expect(clock.sleeps).toEqual([60_000]);
    expect(fake.count()).toBe(7); // the sixth was refused once, then answered
  });

  it('when the hourly limit is spent, hands the wait until ratelimit-reset back to the engine', async () => {
    const { fake, provider, clock } = await setup({ fake: { perHour: 3 }, config: { budget: { perHour: null, perMinute: null } } });
    const id = String(fake.addSnapshot({ dropletId: 3164444, name: 'x' }));
    const ref = { providerSnapshotId: id, marker: marker(8) };
    await provider.status(SERVER, ref);
    clock.advance(60_000);
    await provider.status(SERVER, ref);
    await provider.status(SERVER, ref);
    const err = await caught(provider.status(SERVER, ref));
    expect(err.code).toBe('rate_limited');
    // The oldest request (at t0) leaves the hour window an hour later; a minute has passed.
    expect(err.retryAfterMs).toBe(3_540_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('finds ours by name across pages of the droplet\'s snapshots, staying on apiUrl', async () => {
    const { fake, provider } = await setup();
    fake.addDroplet(555, 'other');
    for (let i = 0; i < 450; i += 1) {
      fake.addSnapshot({ dropletId: 3164444, name: i % 2 ? `nightly-${i}` : `ss-42-web1-20261127T0300Z-copy-${i}` });
    }
    fake.addSnapshot({ dropletId: 555, name: 'ss-42-web1-20261127T0300Z' }); // another droplet's
    const ours = fake.addSnapshot({ dropletId: 3164444, name: 'ss-42-web1-20261127T0300Z' });
    expect(await provider.findByMarker(SERVER, marker(42))).toMatchObject({ providerSnapshotId: String(ours), state: 'available' });
    const pages = fake.requests.filter((r) => r.path === '/v2/droplets/3164444/snapshots');
    expect(pages.map((r) => [r.query.get('page'), r.query.get('per_page')])).toEqual([
      ['1', '200'],
      ['2', '200'],
      ['3', '200'],
    ]);
    expect(await provider.findByMarker(SERVER, marker(43))).toBeNull();
  });

  it('finds ours after the droplet was destroyed, through the account-wide list', async () => {
    const { fake, provider } = await setup();
    fake.addDroplet(555, 'other');
    fake.addSnapshot({ dropletId: 555, name: 'ss-42-web1-20261127T0300Z' });
    for (let i = 0; i < 210; i += 1) fake.addSnapshot({ dropletId: 555, name: `other-${i}` });
    const ours = fake.addSnapshot({ dropletId: 3164444, name: 'ss-42-web1-20261127T0300Z' });
    fake.removeDroplet(3164444);
    expect(await provider.findByMarker(SERVER, marker(42))).toMatchObject({ providerSnapshotId: String(ours) });
    expect(fake.count({ path: /^\/v2\/snapshots$/ })).toBe(2);
  });

  it('deletes after a failed first attempt', async () => {
    const { fake, provider } = await setup();
    const id = fake.addSnapshot({ dropletId: 3164444, name: 'ss-9-web1' });
    fake.inject(1, { kind: '5xx', status: 502 }, { method: 'DELETE' });
    expect(await provider.delete(SERVER, String(id))).toEqual({ alreadyGone: false });
    expect(fake.count({ method: 'DELETE' })).toBe(2);
    expect(fake.snapshots()).toEqual([]);
  });

  it('still reports the snapshot available when tagging it fails', async () => {
    const { fake, provider } = await setup();
    const created = await provider.create(SERVER, marker(10));
    fake.inject(1, { kind: '5xx', status: 500 }, { path: /^\/v2\/tags/ });
    const s = await provider.status(SERVER, { providerSnapshotId: null, pendingRef: created.pendingRef, marker: marker(10) });
    expect(s.state).toBe('available');
    expect(fake.snapshots()[0]!.tags).toEqual([]);
  });

  describe('resolvePanelSnapshotId', () => {
    it('follows the host\'s action id to the snapshot that action made, not an older one', async () => {
      const { fake, provider, clock } = await setup({ fake: { pendingPolls: 2 } });
      const older = fake.addSnapshot({ dropletId: 3164444, name: 'web1-backup-tab' });
      clock.advance(15 * 60_000);
      const action = fake.startSnapshotAction(3164444, 'web1-backup-tab');
      expect(await provider.resolvePanelSnapshotId!(SERVER, String(action))).toMatchObject({ providerSnapshotId: '', state: 'creating' });
      clock.advance(3 * 60_000);
      fake.finishAction(action);
      const resolved = await provider.resolvePanelSnapshotId!(SERVER, String(action));
      const made = fake.snapshots().find((s) => s.id !== older)!;
      expect(resolved).toMatchObject({ providerSnapshotId: String(made.id), state: 'available' });
      expect(made.tags).toEqual([]); // not ours: not tagged
    });

    it('accepts a snapshot id too, and says when it is neither', async () => {
      const { fake, provider } = await setup();
      const id = fake.addSnapshot({ dropletId: 3164444, name: 'x' });
      expect(await provider.resolvePanelSnapshotId!(SERVER, String(id))).toMatchObject({ providerSnapshotId: String(id) });
      expect((await caught(provider.resolvePanelSnapshotId!(SERVER, '12345'))).code).toBe('not_found');
    });

    it('refuses an action that belongs to another droplet', async () => {
      const { fake, provider } = await setup();
      fake.addDroplet(555);
      const action = fake.startSnapshotAction(555, 'x');
      expect((await caught(provider.resolvePanelSnapshotId!(SERVER, String(action)))).code).toBe('invalid');
    });
  });

  it('with the default budget, never trips the 250 per minute limit (sequential, virtual clock)', async () => {
    const { fake, provider, clock } = await setup();
    const id = fake.addSnapshot({ dropletId: 3164444, name: 'x' });
    for (let i = 0; i < 260; i += 1) await provider.status(SERVER, { providerSnapshotId: String(id), marker: marker(1) });
    expect(fake.count()).toBe(260); // no request was refused and sent again
    expect(fake.peakInWindow(60_000)).toBeLessThanOrEqual(250);
    expect(clock.sleeps.length).toBeGreaterThan(0);
  });

  it('never sends more than its budget, measured at the fake (real clock, concurrent)', async () => {
    fake = await startFakeDigitalOcean();
    fake.addDroplet(3164444);
    const id = fake.addSnapshot({ dropletId: 3164444, name: 'x' });
    const provider = createDigitaloceanProvider(
      'do',
      { type: 'digitalocean', token: fake.token, apiUrl: fake.url, budget: { perSecond: 10 } },
      adapterContext({ log: silentLogger }),
    );
    await Promise.all(Array.from({ length: 24 }, () => provider.status(SERVER, { providerSnapshotId: String(id), marker: marker(1) })));
    expect(fake.count()).toBe(24);
    expect(fake.peakInWindow(1000)).toBeLessThanOrEqual(10);
    expect(fake.peakInWindow(1000)).toBeGreaterThanOrEqual(8);
  });
});
