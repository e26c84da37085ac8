/**
 * OpenStack beyond the plain case (docs/providers.md): a volume-backed (boot-from-volume)
 * server's image is a zero-byte Glance image whose `block_device_mapping` points at Cinder
 * volume snapshots — their size is the snapshot's size, and deleting the image must delete
 * them too, or they stay billed. Keystone v3 application credentials and domain/project ids
 * log in as well as a user's password with names.
 */
import { afterEach, beforeEach, describe, expect, it, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { silentLogger } from '../../sidecar/log.js';
import { createOpenstackProvider, openstackConfigSchema, type OpenstackConfig } from '../../sidecar/providers/openstack.js';
import { ProviderError, type ServerRef } from '../../sidecar/providers/types.js';
import { AUTH_REQUESTS, DEFAULT_DOMAIN_ID, OPENSTACK_TEST_APP_CREDENTIAL, PROJECT_ID, startFakeOpenstack, type FakeOpenstack } from '../fakes/openstack.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { adapterContext } from '../helpers/provider-context.js';
import { driverSpec, engineTestbed, settle, snapshotOf, takeNow } from '../helpers/providers.js';
import { api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

const SERVER_ID = '5f0a1e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const server: ServerRef = { serverId: 1, instanceId: SERVER_ID, region: null, name: 'web1' };
const marker = { snapshotId: 11, name: 'ss-11-web1-20261127T0300Z' };
const GIB = 1024 ** 3;

describe('Keystone logins', () => {
  let fake: FakeOpenstack;
  beforeEach(async () => { fake = await startFakeOpenstack(); fake.addServer(SERVER_ID); });
  afterEach(async () => { await fake.close(); });
  const base = () => ({ type: 'openstack' as const, authUrl: fake.authUrl, region: 'RegionOne' });

  it('when the entry has an application credential, then the login sends it (no scope) and snapshots work', async () => {
    const p = createOpenstackProvider('os', { ...base(), applicationCredentialId: OPENSTACK_TEST_APP_CREDENTIAL.id, applicationCredentialSecret: OPENSTACK_TEST_APP_CREDENTIAL.secret }, adapterContext({ log: silentLogger }));
    const made = await p.create(server, marker);
    expect(made.state).toBe('creating');
    const login = fake.requests.find((r) => AUTH_REQUESTS.path!.test(r.path))!.body as { auth: Record<string, unknown> };
    expect(login.auth).toEqual({ identity: { methods: ['application_credential'], application_credential: OPENSTACK_TEST_APP_CREDENTIAL } });
  });

  it('when the application credential is refused, then the sentence names its fields, never the secret', async () => {
    const p = createOpenstackProvider('os', { ...base(), applicationCredentialId: OPENSTACK_TEST_APP_CREDENTIAL.id, applicationCredentialSecret: 'wrong-secret-000' }, adapterContext({ log: silentLogger }));
    const err = await p.create(server, marker).then(() => null, (e: unknown) => e as ProviderError);
    expect(err?.code).toBe('auth');
    expect(err?.message).toBe('OpenStack (Keystone) refused the application credential for provider "os": check applicationCredentialId and applicationCredentialSecret in the providers file (and that the credential has not expired).');
  });

  it('when domains and the project are given by id, then the login uses the ids', async () => {
    const { username, password } = fake.user;
    const p = createOpenstackProvider('os', { ...base(), username, password, userDomainId: DEFAULT_DOMAIN_ID, projectId: PROJECT_ID }, adapterContext({ log: silentLogger }));
    expect((await p.create(server, marker)).state).toBe('creating');
    const login = fake.requests.find((r) => AUTH_REQUESTS.path!.test(r.path))!.body as { auth: { identity: { password: { user: unknown } }; scope: unknown } };
    expect(login.auth.identity.password.user).toEqual({ name: username, domain: { id: DEFAULT_DOMAIN_ID }, password });
    expect(login.auth.scope).toEqual({ project: { id: PROJECT_ID } });
  });

  it('when neither a password login nor an application credential is complete, then the schema names the missing field', () => {
    const first = (c: Partial<OpenstackConfig>) => openstackConfigSchema.safeParse({ type: 'openstack', authUrl: 'https://keystone.example', region: 'R', ...c }).error?.issues[0];
    expect(first({})).toMatchObject({ path: ['username'], message: 'username is required (or use applicationCredentialId and applicationCredentialSecret)' });
    expect(first({ applicationCredentialId: 'x' })).toMatchObject({ path: ['applicationCredentialSecret'] });
    expect(first({ username: 'u', password: 'p', userDomainId: 'default', projectName: 'web' })).toMatchObject({ path: ['projectDomainName'], message: 'projectDomainName (or projectDomainId) is required' });
  });
});

describe('a volume-backed server through the engine', () => {
  let t: TestDatabase;
  const bed = engineTestbed((db) => { t = db; });

  test('when the server boots from volumes, then the snapshot is available once its Cinder snapshots are, with their size, and Trash deletes the image and every volume snapshot', async () => {
    const spec = driverSpec('openstack');
    const d = await spec.start();
    bed.defer(() => d.close());
    d.fake.addServer(d.instanceId, { volumeBacked: [20, 5] });
    d.fake.pendingPolls = 2;
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });

    const id = await takeNow(sc, serverId);
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    const [image] = d.fake.images();
    expect(image!.size).toBe(0); // Glance's own size says nothing here
    expect(snap).toMatchObject({ providerSnapshotId: image!.id, sizeBytes: 25 * GIB });
    const volumes = d.fake.volumeSnapshots();
    expect(volumes.map((v) => v.status)).toEqual(['available', 'available']);

    expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBe(202);
    await runUntilIdle(sc);
    expect(await snapshotOf(sc, id)).toBeNull();
    expect(d.fake.images()).toEqual([]);
    expect(d.fake.volumeSnapshots()).toEqual([]);
    expect(d.fake.count({ method: 'DELETE', path: new RegExp(`^/volume/v3/${PROJECT_ID}/snapshots/`) })).toBe(2);
  });

  test('when a volume snapshot cannot be deleted, then the image is kept (so a retry still finds them) and the sentence names the snapshot', async () => {
    const spec = driverSpec('openstack');
    const d = await spec.start();
    bed.defer(() => d.close());
    d.fake.addServer(d.instanceId, { volumeBacked: [10] });
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });
    const id = await takeNow(sc, serverId);
    expect((await settle(sc, clock, id)).snap?.status).toBe('available');

    const [volume] = d.fake.volumeSnapshots();
    d.fake.inject(1, { kind: '5xx', status: 400 }, { method: 'DELETE', path: /^\/volume\/v3\// });
    expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBe(202);
    await runUntilIdle(sc);
    const after = await snapshotOf(sc, id);
    expect(after?.status).toBe('delete_failed');
    expect(after?.lastError).toContain(`OpenStack Cinder did not delete volume snapshot ${volume!.id} of this image, so the image was kept`);
    expect(d.fake.images()).toHaveLength(1);
  });
});
