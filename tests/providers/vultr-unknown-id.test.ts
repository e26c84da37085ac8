/**
 * Vultr's reference lists both 400 and 404 for a snapshot id it does not know
 * (docs/providers.md), and neither proves the snapshot is gone. The adapter confirms absence
 * through the snapshot list before it says "already deleted" or "vanished". Adapter first,
 * then through the engine.
 */
import { afterEach, describe, expect, it, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { silentLogger } from '../../sidecar/log.js';
import { createVultrProvider } from '../../sidecar/providers/vultr.js';
import { ProviderError, type Provider, type ServerRef } from '../../sidecar/providers/types.js';
import { startFakeVultr, type FakeVultr } from '../fakes/vultr.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { adapterContext } from '../helpers/provider-context.js';
import { driverSpec, engineTestbed, settle, snapshotOf, takeNow } from '../helpers/providers.js';
import { api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

const INSTANCE = 'cb676a46-66fd-4dfb-b839-443f2e6c0b60';
const SERVER: ServerRef = { serverId: 7, instanceId: INSTANCE, region: 'ewr', name: 'web1' };
const marker = { snapshotId: 5, name: 'ss-5-web1-20261127T0300Z' };

describe('the Vultr adapter and unknown snapshot ids', () => {
  let fake: FakeVultr;
  let provider: Provider;
  afterEach(async () => { await fake.close(); });
  async function setup() {
    fake = await startFakeVultr();
    fake.addInstance(INSTANCE, 'web1');
    provider = createVultrProvider('vultr-v2', { type: 'vultr', apiKey: fake.apiKey, apiUrl: fake.url }, adapterContext({ log: silentLogger, sleep: async () => {} }));
  }

  it('when Vultr answers 404 for a snapshot its list still shows, then status reads it from the list (not gone)', async () => {
    await setup();
    const id = fake.addSnapshot({ description: marker.name, status: 'complete', size: 1000 });
    fake.refuse(id, 404);
    const snap = await provider.status(SERVER, { providerSnapshotId: id, marker });
    expect(snap).toMatchObject({ providerSnapshotId: id, state: 'available' });
    expect(fake.count({ method: 'GET', path: /^\/v2\/snapshots$/ })).toBe(1);
    expect(fake.requests.at(-1)?.query.get('description')).toBe(marker.name);
  });

  it('when Vultr answers 400 for a snapshot that is not listed, then status says gone and delete says already gone', async () => {
    await setup();
    const id = '0e4c5a55-1111-4000-8000-000000000000';
    fake.refuse(id, 400);
    expect((await provider.status(SERVER, { providerSnapshotId: id, marker })).state).toBe('gone');
    expect(await provider.delete(SERVER, id)).toEqual({ alreadyGone: true });
  });

  it('when Vultr answers 404 to a DELETE but still lists the snapshot, then the delete is not taken as done (retryable)', async () => {
    await setup();
    const id = fake.addSnapshot({ description: marker.name, status: 'complete', size: 1000 });
    fake.refuse(id, 404);
    const err = await provider.delete(SERVER, id).then(() => null, (e: unknown) => e as ProviderError);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'transient', retryable: true });
    expect(err!.message).toBe(`Vultr answered that snapshot ${id} does not exist, but still lists it; it will be tried again later.`);
    expect(fake.snapshots().map((s) => s.id)).toContain(id);
  });
});

describe('Vultr unknown ids through the engine', () => {
  let t: TestDatabase;
  const bed = engineTestbed((db) => { t = db; });

  async function bringUp() {
    const spec = driverSpec('vultr');
    const d = await spec.start();
    bed.defer(() => d.close());
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });
    const id = await takeNow(sc, serverId);
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    return { d, sc, id, stored: snap!.providerSnapshotId! };
  }

  test('when a snapshot deleted in the Vultr panel answers 400 and is not listed, then Trash removes the record as already gone', async () => {
    const { d, sc, id, stored } = await bringUp();
    await d.removeOutside(stored);
    d.fake.refuse(stored, 400);
    expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBe(202);
    await runUntilIdle(sc);
    expect(await snapshotOf(sc, id)).toBeNull();
  });

  test('when Vultr answers 404 to the delete of a snapshot it still lists, then the record stays and the delete is retried, never reported done', async () => {
    const { d, sc, id, stored } = await bringUp();
    d.fake.refuse(stored, 404);
    expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBe(202);
    await runUntilIdle(sc);
    const snap = await snapshotOf(sc, id);
    expect(snap?.status).toBe('deleting');
    expect(snap?.lastError).toMatch(/^Vultr answered that snapshot \S+ does not exist, but still lists it; it will be tried again later\. \(attempt 1 of 8; retrying\)$/);
    expect(d.fake.snapshots().map((s) => s.id)).toEqual([stored]);
  });
});
