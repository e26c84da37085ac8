/**
 * The Linode adapter against a local Linode API v4 (tests/fakes/linode.ts). Waits go through
 * a virtual clock: sleeping advances it, nothing really waits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../sidecar/log.js';
import type { ProviderContext } from '../../sidecar/providers/context.js';
import {
  createLinodeProvider,
  LINODE_NOT_ENABLED_MESSAGE,
  linodeConfigSchema,
  type LinodeConfig,
} from '../../sidecar/providers/linode.js';
import { ProviderError, type Provider, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { startFakeLinode, type FakeLinode } from '../fakes/linode.js';
import { adapterContext } from '../helpers/provider-context.js';

const T0 = Date.parse('2026-11-27T03:00:00Z');
const LINODE_ID = 4242;
const server: ServerRef = { serverId: 3, instanceId: String(LINODE_ID), region: 'eu-central', name: 'web1' };
const marker = (id = 42): SnapshotMarker => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

let fake: FakeLinode;
let clock: { t: number; sleeps: number[] };

function ctx(): ProviderContext {
  return adapterContext({
    log: silentLogger,
    now: () => clock.t,
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  });
}

function provider(over: Partial<LinodeConfig> = {}): Provider {
  return createLinodeProvider('linode', { type: 'linode', token: fake.token, apiUrl: fake.url, ...over }, ctx());
}

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

const CANCEL = { method: 'POST', path: /\/backups\/cancel$/ };
const TAKE = { method: 'POST', path: /\/backups$/ };

beforeEach(async () => {
  clock = { t: T0, sleeps: [] };
  fake = await startFakeLinode({ now: () => clock.t });
  fake.addLinode(LINODE_ID);
});

afterEach(async () => {
  await fake.close();
});

describe('config and capabilities', () => {
  it('when the token is missing, then the schema names it', () => {
    const r = linodeConfigSchema.safeParse({ type: 'linode' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['token']);
  });

  it('when the screens ask, then Linode says one slot, no delete, and explains both', () => {
    const caps = provider().capabilities;
    expect(caps).toMatchObject({ create: true, delete: false, slotsPerServer: 1 });
    expect(caps.notes.join(' ')).toMatch(/only the latest snapshot/);
    expect(caps.notes.join(' ')).toMatch(/cannot delete a single snapshot/);
  });
});

describe('create and follow', () => {
  it('when a snapshot is taken, then our label is sent, it supersedes the previous one, and status follows it to available', async () => {
    fake.pendingPolls = 2;
    const p = provider();
    const created = await p.create(server, marker());
    expect(created).toMatchObject({ state: 'creating', supersedesPrevious: true });
    expect(created.providerSnapshotId).toMatch(/^\d+$/);
    const take = fake.requests.find((r) => r.method === 'POST')!;
    expect(take.path).toBe(`/v4/linode/instances/${LINODE_ID}/backups`);
    expect(take.body).toEqual({ label: marker().name });
    expect(take.authorization).toBe(`Bearer ${fake.token}`);

    const ref = { providerSnapshotId: created.providerSnapshotId, marker: marker() };
    expect((await p.status(server, ref)).state).toBe('creating');
    expect((await p.status(server, ref)).state).toBe('creating');
    expect(await p.status(server, ref)).toMatchObject({ providerSnapshotId: created.providerSnapshotId, state: 'available' });
  });

  it('when a second snapshot finishes, then the first is gone at Linode and the second is the current one', async () => {
    fake.pendingPolls = 0;
    const p = provider();
    const first = await p.create(server, marker(1));
    await p.status(server, { providerSnapshotId: first.providerSnapshotId, marker: marker(1) });
    const second = await p.create(server, marker(2));
    expect(second.supersedesPrevious).toBe(true);
    expect((await p.status(server, { providerSnapshotId: second.providerSnapshotId, marker: marker(2) })).state).toBe('available');

    expect(await p.status(server, { providerSnapshotId: first.providerSnapshotId, marker: marker(1) })).toEqual({ providerSnapshotId: first.providerSnapshotId, state: 'gone' });
    expect(fake.backups(LINODE_ID).current?.label).toBe(marker(2).name);
  });

  it('when Linode fails or the user aborts the snapshot, then status says failed with a sentence', async () => {
    fake.pendingPolls = 0;
    fake.failNextSnapshot(LINODE_ID, 'userAborted');
    const p = provider();
    const created = await p.create(server, marker());
    const st = await p.status(server, { providerSnapshotId: created.providerSnapshotId, marker: marker() });
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/cancelled at Linode/);
  });
});

describe('errors', () => {
  it('when the Backup service is off, then not_enabled says where to turn it on', async () => {
    fake.addLinode(77, { backupsEnabled: false });
    const err = await providerError(provider().create({ ...server, instanceId: '77' }, marker()));
    expect(err.code).toBe('not_enabled');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(LINODE_NOT_ENABLED_MESSAGE);
    expect(err.message).toContain('enable it in Cloud Manager (Backups tab)');
  });

  it('when Linode words the refusal differently, then the Linode\'s own backups.enabled still identifies it', async () => {
    fake.addLinode(78, { backupsEnabled: false });
    fake.notEnabledReason = 'This operation requires the Backup add-on';
    const err = await providerError(provider().create({ ...server, instanceId: '78' }, marker()));
    expect(err.code).toBe('not_enabled');
    expect(fake.count({ method: 'GET', path: /\/instances\/78$/ })).toBe(1);
  });

  it('when another refusal happens while backups are on, then it stays invalid with Linode\'s reason', async () => {
    fake.inject(1, { kind: 'error', status: 400, reason: 'Label contains invalid characters' }, TAKE);
    const err = await providerError(provider().create(server, marker()));
    expect(err.code).toBe('invalid');
    expect(err.message).toBe('Linode refused the request: Label contains invalid characters.');
  });

  it('when a snapshot is already in progress, then busy (retryable) is reported', async () => {
    const p = provider();
    await p.create(server, marker(1));
    const err = await providerError(p.create(server, marker(2)));
    expect(err.code).toBe('busy');
    expect(err.retryable).toBe(true);
  });

  it('when the token is wrong, then auth says to check it; when it is read-only, then permission', async () => {
    const auth = await providerError(provider({ token: 'nope' }).create(server, marker()));
    expect(auth.code).toBe('auth');
    expect(auth.message).toMatch(/check "token"/);
    expect(auth.message).not.toContain('nope');

    fake.readOnlyTokens.add('read-only');
    const perm = await providerError(provider({ token: 'read-only' }).create(server, marker()));
    expect(perm.code).toBe('permission');
  });

  it('when the Linode does not exist or the id is not a number, then not_found', async () => {
    expect((await providerError(provider().create({ ...server, instanceId: '999' }, marker()))).code).toBe('not_found');
    expect((await providerError(provider().create({ ...server, instanceId: 'abc' }, marker()))).code).toBe('not_found');
    expect(fake.count({ path: /abc/ })).toBe(0);
  });

  it('when Linode answers 429 with Retry-After, then the adapter waits exactly that long on the virtual clock and succeeds', async () => {
    fake.inject(1, { kind: '429', headers: { 'Retry-After': '7' } }, TAKE);
    const created = await provider().create(server, marker());
    expect(created.state).toBe('creating');
    expect(clock.sleeps).toEqual([7000]);
    expect(fake.count(TAKE)).toBe(2);
  });

  it('when Linode answers 429 with only X-RateLimit-Reset, then the adapter waits until that reset', async () => {
    const reset = Math.ceil(T0 / 1000) + 12;
    fake.inject(1, { kind: '429', headers: { 'X-RateLimit-Reset': String(reset) } }, TAKE);
    await provider().create(server, marker());
    expect(clock.sleeps).toEqual([reset * 1000 - T0]);
  });

  it('when the reset is far away, then rate_limited reaches the engine with retryAfterMs instead of a long sleep', async () => {
    fake.inject(1, { kind: '429', headers: { 'Retry-After': '600' } }, TAKE);
    const err = await providerError(provider().create(server, marker()));
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(600_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('when reading a snapshot gets 5xx, then the read is retried with backoff and succeeds', async () => {
    const created = await provider().create(server, marker());
    fake.inject(2, { kind: '5xx', status: 502 }, { method: 'GET' });
    const st = await provider().status(server, { providerSnapshotId: created.providerSnapshotId, marker: marker() });
    expect(st.providerSnapshotId).toBe(created.providerSnapshotId);
    expect(clock.sleeps).toHaveLength(2);
    expect(fake.count({ method: 'GET' })).toBe(3);
  });

  it('when the snapshot request itself gets 5xx and Linode took nothing, then transient, sent once (a POST is never resent blindly)', async () => {
    fake.inject(10, { kind: '5xx', status: 502 }, TAKE);
    const err = await providerError(provider().create(server, marker()));
    expect(err.code).toBe('transient');
    expect(err.retryable).toBe(true);
    expect(fake.count(TAKE)).toBe(1);
    expect(fake.backups(LINODE_ID).inProgress).toBeNull();
  });

  it('when Linode answers a body that is not JSON, then bad_response, without quoting it', async () => {
    fake.inject(1, { kind: 'malformed' }, { method: 'GET' });
    const bad = await providerError(provider().status(server, { providerSnapshotId: '1', marker: marker() }));
    expect(bad.code).toBe('bad_response');
    expect(bad.message).not.toContain('"status"');
  });

  it('when Linode answers with the wrong shape, then bad_response names the missing field', async () => {
    fake.inject(1, { kind: 'error', status: 200, reason: 'x' }, { method: 'GET' });
    const bad = await providerError(provider().status(server, { providerSnapshotId: '1', marker: marker() }));
    expect(bad.code).toBe('bad_response');
    expect(bad.message).toMatch(/status/);
  });
});

describe('recovery after a crash', () => {
  it('when the sidecar died after the snapshot was requested, then findByMarker finds it (in progress or current) and no second one is taken', async () => {
    fake.pendingPolls = 1;
    const lost = await provider().create(server, marker());
    const after = provider();
    const found = await after.findByMarker(server, marker());
    expect(found).toMatchObject({ providerSnapshotId: lost.providerSnapshotId, state: 'creating' });
    expect((await after.findByMarker(server, marker()))?.state).toBe('available');
    expect(fake.count(TAKE)).toBe(1);
  });

  it('when Linode took the snapshot but the answer was lost (reset or 500), then create adopts it instead of failing', async () => {
    for (const kind of ['reset-after', '5xx-after'] as const) {
      fake.addLinode(LINODE_ID); // fresh slot
      fake.inject(1, { kind }, TAKE);
      const created = await provider().create(server, marker());
      const taken = fake.backups(LINODE_ID).inProgress;
      expect(taken?.label).toBe(marker().name);
      expect(created).toMatchObject({ providerSnapshotId: String(taken?.id), state: 'creating', supersedesPrevious: true });
    }
    expect(fake.count(TAKE)).toBe(2);
  });

  it('when create is repeated for a snapshot still in progress, then Linode\'s busy answer leads to adopting it, not to an error', async () => {
    fake.pendingPolls = 3;
    const first = await provider().create(server, marker());
    const again = await provider().create(server, marker());
    expect(again).toMatchObject({ providerSnapshotId: first.providerSnapshotId, state: 'creating' });
    expect(fake.count(TAKE)).toBe(2);
  });

  it('when another snapshot holds the slot, then findByMarker answers null', async () => {
    fake.pendingPolls = 0;
    await provider().create(server, marker(41));
    expect(await provider().findByMarker(server, marker())).toBeNull();
  });

  it('when status is asked without an id, then the snapshot is found by its label', async () => {
    const created = await provider().create(server, marker());
    expect((await provider().status(server, { providerSnapshotId: null, marker: marker() })).providerSnapshotId).toBe(created.providerSnapshotId);
  });
});

describe('delete', () => {
  it('when a snapshot is trashed, then unsupported explains it, and nothing is sent — above all never backups/cancel', async () => {
    fake.pendingPolls = 0;
    const p = provider();
    const created = await p.create(server, marker());
    await p.status(server, { providerSnapshotId: created.providerSnapshotId, marker: marker() });
    const before = fake.requests.length;

    const err = await providerError(p.delete(server, created.providerSnapshotId!));
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/^Linode cannot delete a single snapshot; /);
    expect(fake.requests.length).toBe(before);
    expect(fake.count(CANCEL)).toBe(0);
    expect(fake.backups(LINODE_ID).current?.id).toBe(Number(created.providerSnapshotId));
  });
});
