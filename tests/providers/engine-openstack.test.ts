/**
 * OpenStack through the engine, in each way Nova answers createImage (docs/providers.md): with
 * microversion ≥ 2.45 the image id is in the body; older clouds ignore the header and put it
 * at the end of the Location header; some refuse 2.45 outright with 406, after which the
 * adapter asks the old way and keeps doing so.
 */
import { describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { NOVA_MICROVERSION } from '../../sidecar/providers/openstack.js';
import { AUTH_REQUESTS, type FakeOpenstack } from '../fakes/openstack.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { driverSpec, engineTestbed, settle, takeNow } from '../helpers/providers.js';
import { sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
const bed = engineTestbed((db) => { t = db; });

const spec = driverSpec('openstack');
const CREATE_IMAGE = { method: 'POST', path: /\/servers\/[^/]+\/action$/ };

/** The createImage requests Nova received, by whether they asked for microversion 2.45. */
function createImageRequests(fake: FakeOpenstack): Array<'2.45' | 'none'> {
  return fake.requests
    .filter((r) => r.method === CREATE_IMAGE.method && CREATE_IMAGE.path.test(r.path))
    .map((r) => (r.headers['openstack-api-version'] === NOVA_MICROVERSION ? '2.45' : 'none'));
}

describe.each([
  // mode, what Nova does, the createImage requests we expect for two snapshots
  ['modern', 'answers { image_id } to microversion 2.45', ['2.45', '2.45']],
  ['legacy', 'ignores the header and answers with a Location header', ['2.45', '2.45']],
  ['max-2.44', 'refuses 2.45 with 406, so we ask without it (and keep doing so)', ['2.45', 'none', 'none']],
] as const)('OpenStack Nova in %s mode', (mode, what, expected) => {
  test(`when Nova ${what}, then snapshots through the engine end available with the image Nova made`, async () => {
    const d = await spec.start();
    bed.defer(() => d.close());
    const fake = d.fake;
    fake.microversions = mode;
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });

    const made: string[] = [];
    for (let i = 0; i < 2; i++) {
      const id = await takeNow(sc, serverId);
      const { snap } = await settle(sc, clock, id);
      expect(snap?.status).toBe('available');
      made.push(snap!.providerSnapshotId!);
      const image = fake.images().find((img) => img.id === snap!.providerSnapshotId);
      expect(image).toMatchObject({ status: 'active', instance_uuid: d.instanceId, properties: { ss_snapshot_id: String(id), ss_managed_by: 'scheduled-snapshots' } });
      expect(snap!.sizeBytes).toBe(image!.size);
    }
    expect(new Set(made).size).toBe(2);
    expect(fake.images()).toHaveLength(2);
    expect(createImageRequests(fake)).toEqual(expected);
    expect(fake.count(AUTH_REQUESTS)).toBe(1); // one login, reused
  });
});
