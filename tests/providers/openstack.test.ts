/**
 * The OpenStack adapter against a local Keystone + Nova + Glance (tests/fakes/openstack.ts).
 * The adapter and the fake share a virtual clock: sleeping advances it, and token expiry is
 * reached by moving it, never by waiting.
 */
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../sidecar/log.js';
import type { ProviderContext } from '../../sidecar/providers/context.js';
import {
  createOpenstackProvider,
  NOVA_MICROVERSION,
  openstackConfigSchema,
  type OpenstackConfig,
} from '../../sidecar/providers/openstack.js';
import { ProviderError, type Provider, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { AUTH_REQUESTS, PROJECT_ID, startFakeOpenstack, type FakeOpenstack } from '../fakes/openstack.js';
import { adapterContext } from '../helpers/provider-context.js';

const T0 = Date.parse('2026-11-27T03:00:00Z');
const SERVER_ID = '5f0a1e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const server: ServerRef = { serverId: 9, instanceId: SERVER_ID, region: 'RegionOne', name: 'web1' };
const marker = (id = 42): SnapshotMarker => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

const CREATE_IMAGE = { method: 'POST', path: /\/servers\/[^/]+\/action$/ };
const GLANCE = { path: /^\/image\// };

let fake: FakeOpenstack;
let clock: { t: number; sleeps: number[] };

function ctx(extra: Partial<ProviderContext> = {}): ProviderContext {
  return adapterContext({
    log: silentLogger,
    now: () => clock.t,
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
    ...extra,
  });
}

function config(over: Partial<OpenstackConfig> = {}): OpenstackConfig {
  return { type: 'openstack', authUrl: fake.authUrl, ...fake.user, region: 'RegionOne', ...over };
}

function provider(over: Partial<OpenstackConfig> = {}, c: ProviderContext = ctx()): Provider {
  return createOpenstackProvider('openstack', config(over), c);
}

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

beforeEach(async () => {
  clock = { t: T0, sleeps: [] };
  fake = await startFakeOpenstack({ now: () => clock.t });
  fake.addServer(SERVER_ID);
});

afterEach(async () => {
  await fake.close();
});

describe('config', () => {
  it('when a Keystone field is missing, then the schema names it', () => {
    const r = openstackConfigSchema.safeParse({ ...config(), projectDomainName: undefined });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['projectDomainName']);
  });

  it('when authUrl ends in /v3 anyway, then login still goes to /v3/auth/tokens once', async () => {
    await provider({ authUrl: `${fake.authUrl}/v3/` }).findByMarker(server, marker());
    expect(fake.count(AUTH_REQUESTS)).toBe(1);
    expect(fake.requests[0]!.path).toBe('/identity/v3/auth/tokens');
  });
});

describe('create and follow', () => {
  it('when Nova offers 2.45, then createImage asks for it, sends our name and metadata, and reads image_id from the body', async () => {
    fake.pendingPolls = 2;
    const p = provider();
    const created = await p.create(server, marker());
    expect(created.state).toBe('creating');

    const req = fake.requests.find((r) => r.method === 'POST' && CREATE_IMAGE.path.test(r.path))!;
    expect(req.path).toBe(`/compute/v2.1/servers/${SERVER_ID}/action`);
    expect(req.headers['openstack-api-version']).toBe(NOVA_MICROVERSION);
    expect(req.body).toEqual({ createImage: { name: marker().name, metadata: { ss_snapshot_id: '42', ss_managed_by: 'scheduled-snapshots' } } });
    const [img] = fake.images();
    expect(created.providerSnapshotId).toBe(img!.id);
    expect(img!.properties).toMatchObject({ ss_snapshot_id: '42' });

    const ref = { providerSnapshotId: created.providerSnapshotId, marker: marker() };
    expect((await p.status(server, ref)).state).toBe('creating'); // queued
    expect((await p.status(server, ref)).state).toBe('creating'); // saving
    expect(await p.status(server, ref)).toEqual({ providerSnapshotId: img!.id, state: 'available', sizeBytes: 2_147_483_648 });
  });

  it('when the cloud predates 2.45 and ignores the header, then the id comes from the Location header', async () => {
    fake.microversions = 'legacy';
    const created = await provider().create(server, marker());
    expect(created.providerSnapshotId).toBe(fake.images()[0]!.id);
    expect(fake.count(CREATE_IMAGE)).toBe(1);
    expect(fake.count(GLANCE)).toBe(0); // the id came from Location, not from a search by name
  });

  it('when the cloud refuses 2.45 with 406, then createImage is sent once more without it, and later creates skip it', async () => {
    fake.microversions = 'max-2.44';
    fake.addServer('other-server');
    const p = provider();
    const first = await p.create(server, marker(1));
    expect(first.providerSnapshotId).toBe(fake.images()[0]!.id);
    expect(fake.count(CREATE_IMAGE)).toBe(2);
    expect(fake.count(GLANCE)).toBe(0);
    expect(fake.images()).toHaveLength(1);

    await p.create({ ...server, instanceId: 'other-server' }, marker(2));
    expect(fake.count(CREATE_IMAGE)).toBe(3);
    expect(fake.requests.filter((r) => CREATE_IMAGE.path.test(r.path)).map((r) => r.headers['openstack-api-version'] ?? null)).toEqual([NOVA_MICROVERSION, null, null]);
  });

  it('when Glance kills the image, then status is failed; when it is missing, then gone', async () => {
    fake.pendingPolls = 0;
    fake.failNextImage();
    const p = provider();
    const created = await p.create(server, marker());
    const st = await p.status(server, { providerSnapshotId: created.providerSnapshotId, marker: marker() });
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/could not save the image/);
    expect(await p.status(server, { providerSnapshotId: 'no-such-image', marker: marker() })).toEqual({ providerSnapshotId: 'no-such-image', state: 'gone' });
  });

  it('when Glance shows the image as pending_delete, then status says gone', async () => {
    const img = fake.putImage({ name: 'x', status: 'pending_delete' });
    expect((await provider().status(server, { providerSnapshotId: img.id, marker: marker() })).state).toBe('gone');
  });
});

describe('session', () => {
  it('when several calls run inside the token\'s lifetime, then one login serves them all, concurrent ones included', async () => {
    const p = provider();
    const ref = { providerSnapshotId: 'some-image', marker: marker() };
    // Three calls before any session exists: they must share the one login.
    await Promise.all([p.status(server, ref), p.status(server, ref), p.findByMarker(server, marker())]);
    expect(fake.count(AUTH_REQUESTS)).toBe(1);
    await p.create(server, marker());
    clock.t += 30 * 60_000;
    await p.status(server, ref);
    expect(fake.count(AUTH_REQUESTS)).toBe(1);
  });

  it('when the token nears expires_at, then a new login happens before it is used again', async () => {
    const p = provider({ tokenRefreshMarginMs: 120_000 });
    await p.findByMarker(server, marker());
    clock.t += 3_600_000 - 120_000 - 1;
    await p.findByMarker(server, marker());
    expect(fake.count(AUTH_REQUESTS)).toBe(1);
    clock.t += 1;
    await p.findByMarker(server, marker());
    expect(fake.count(AUTH_REQUESTS)).toBe(2);
    expect(fake.count({ ...GLANCE, method: 'GET' })).toBe(3); // no request went out with a stale token
  });

  it('when the token is revoked, then one 401 leads to exactly one new login and one resend', async () => {
    const p = provider();
    await p.findByMarker(server, marker());
    fake.revokeTokens();
    expect(await p.findByMarker(server, marker())).toBeNull();
    expect(fake.count(AUTH_REQUESTS)).toBe(2);
    expect(fake.count(GLANCE)).toBe(3);
  });

  it('when Nova keeps answering 401 after the new login, then auth is reported and there is no second new login', async () => {
    const p = provider();
    await p.findByMarker(server, marker());
    fake.inject(5, { kind: '401' }, CREATE_IMAGE);
    const err = await providerError(p.create(server, marker()));
    expect(err.code).toBe('auth');
    expect(fake.count(AUTH_REQUESTS)).toBe(2);
    expect(fake.count(CREATE_IMAGE)).toBe(2);
    expect(fake.images()).toHaveLength(0);
  });

  it('when the password is wrong, then Keystone\'s refusal is an auth error naming the fields to check, never the password', async () => {
    const err = await providerError(provider({ password: 'wrong-Password-999' }).create(server, marker()));
    expect(err.code).toBe('auth');
    expect(err.message).toMatch(/check username, password/);
    expect(err.message).not.toContain('wrong-Password-999');
    expect(fake.count(AUTH_REQUESTS)).toBe(1);
  });

  it('when the region is not in the catalog, then the error names the region; apiUrl and imageUrl override the catalog', async () => {
    const err = await providerError(provider({ region: 'RegionNine' }).findByMarker(server, marker()));
    expect(err.code).toBe('invalid');
    expect(err.message).toContain('"RegionNine"');

    const p = provider({ region: 'RegionNine', apiUrl: `${fake.url}/compute/v2.1`, imageUrl: `${fake.url}/image/v2` });
    const created = await p.create(server, marker());
    expect((await p.status(server, { providerSnapshotId: created.providerSnapshotId, marker: marker() })).providerSnapshotId).toBe(created.providerSnapshotId);
  });

  it('when logs are written at debug level, then neither the password nor any token appears in them or in errors', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
    const p = provider({}, ctx({ log }));
    fake.inject(1, { kind: '429', headers: { 'Retry-After': '1' } }, GLANCE);
    const created = await p.create(server, marker());
    fake.revokeTokens();
    await p.status(server, { providerSnapshotId: created.providerSnapshotId, marker: marker() });
    const err = await providerError(provider({ password: fake.user.password + 'x' }, ctx({ log })).create(server, marker(2)));
    const tokens = fake.requests.map((r) => r.headers['x-auth-token']).filter((t): t is string => typeof t === 'string');
    expect(tokens.length).toBeGreaterThan(1);
    expect(lines.length).toBeGreaterThan(0);
    const everything = lines.join('\n') + err.message + inspect(err, { depth: 10 });
    for (const secret of [fake.user.password, ...tokens]) expect(everything).not.toContain(secret);
  });
});

describe('errors', () => {
  it('when the server is still saving its previous image, then Nova\'s 409 becomes busy (retryable) with Nova\'s words', async () => {
    const p = provider();
    await p.create(server, marker(1));
    const err = await providerError(p.create(server, marker(2)));
    expect(err.code).toBe('busy');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('task_state image_snapshot');
    expect(fake.images()).toHaveLength(1);
  });

  it('when the server does not exist, then not_found', async () => {
    const err = await providerError(provider().create({ ...server, instanceId: 'gone-server' }, marker()));
    expect(err.code).toBe('not_found');
  });

  it('when Glance answers 429 with Retry-After, then the adapter waits that long on the virtual clock and succeeds', async () => {
    fake.inject(1, { kind: '429', headers: { 'Retry-After': '4' } }, { ...GLANCE, method: 'GET' });
    expect(await provider().findByMarker(server, marker())).toBeNull();
    expect(clock.sleeps).toEqual([4000]);
  });

  it('when Nova answers 429 with a far reset, then rate_limited goes back to the engine without sleeping', async () => {
    fake.inject(1, { kind: '429', headers: { 'Retry-After': '900' } }, CREATE_IMAGE);
    const err = await providerError(provider().create(server, marker()));
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(900_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('when Glance answers a body that is not JSON, then bad_response', async () => {
    fake.inject(1, { kind: 'malformed' }, { ...GLANCE, method: 'GET' });
    expect((await providerError(provider().status(server, { providerSnapshotId: 'x', marker: marker() }))).code).toBe('bad_response');
  });
});

describe('recovery after a crash', () => {
  it('when the sidecar died after createImage, then findByMarker finds the image by name and no second one is made', async () => {
    const lost = await provider().create(server, marker());
    const found = await provider().findByMarker(server, marker());
    expect(found?.providerSnapshotId).toBe(lost.providerSnapshotId);
    const glanceList = fake.requests.filter((r) => r.path === '/image/v2/images').at(-1)!;
    expect(glanceList.query.get('name')).toBe(marker().name);
    expect(glanceList.query.get('owner')).toBe(PROJECT_ID);
    expect(fake.images()).toHaveLength(1);
    expect(fake.count(CREATE_IMAGE)).toBe(1);
  });

  it('when Nova made the image but the answer was lost (reset or 500), then create adopts it instead of failing or repeating', async () => {
    for (const [i, kind] of (['reset-after', '5xx-after'] as const).entries()) {
      const id = `server-${i}`;
      fake.addServer(id);
      fake.inject(1, { kind }, CREATE_IMAGE);
      const created = await provider().create({ ...server, instanceId: id }, marker(100 + i));
      const img = fake.images().find((x) => x.instance_uuid === id)!;
      expect(created.providerSnapshotId).toBe(img.id);
    }
    expect(fake.count(CREATE_IMAGE)).toBe(2);
    expect(fake.images()).toHaveLength(2);
  });

  it('when create is repeated while our image is still saving, then Nova\'s 409 leads to adopting it', async () => {
    const first = await provider().create(server, marker());
    const again = await provider().create(server, marker());
    expect(again.providerSnapshotId).toBe(first.providerSnapshotId);
    expect(fake.images()).toHaveLength(1);
  });

  it('when images with our name but another snapshot id come first, then findByMarker follows next to ours and skips theirs', async () => {
    fake.pageSize = 1;
    const ours = await provider().create(server, marker());
    clock.t += 1000;
    fake.putImage({ name: marker().name, properties: { ss_snapshot_id: '999' } });
    clock.t += 1000;
    fake.putImage({ name: marker().name, properties: { ss_snapshot_id: '998' } });
    const found = await provider().findByMarker(server, marker());
    expect(found?.providerSnapshotId).toBe(ours.providerSnapshotId);
    expect(fake.count({ method: 'GET', path: /^\/image\/v2\/images$/ })).toBe(3);
  });

  it('when an image with our name is in another project, then it is not ours', async () => {
    fake.putImage({ name: marker().name, owner: 'someone-else', properties: { ss_snapshot_id: '42' } });
    expect(await provider().findByMarker(server, marker())).toBeNull();
  });
});

describe('delete', () => {
  it('when an image is deleted, then Glance answers 204; deleting it again counts as already gone', async () => {
    const p = provider();
    const created = await p.create(server, marker());
    expect(await p.delete(server, created.providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.images()).toHaveLength(0);
    expect(await p.delete(server, created.providerSnapshotId!)).toEqual({ alreadyGone: true });
  });

  it('when Glance keeps failing, then delete is transient; a later delete succeeds', async () => {
    const p = provider();
    const created = await p.create(server, marker());
    fake.inject(5, { kind: '5xx', status: 503 }, { method: 'DELETE' });
    const err = await providerError(p.delete(server, created.providerSnapshotId!));
    expect(err.code).toBe('transient');
    expect(fake.images()).toHaveLength(1);
    expect(await p.delete(server, created.providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.images()).toHaveLength(0);
  });

  it('when the image is protected, then the error says how to unprotect it', async () => {
    const p = provider();
    const created = await p.create(server, marker());
    fake.protectImage(created.providerSnapshotId!);
    const err = await providerError(p.delete(server, created.providerSnapshotId!));
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/protected .* --unprotected/);
  });
});
