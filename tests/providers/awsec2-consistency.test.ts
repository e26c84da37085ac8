/**
 * EC2 is eventually consistent (docs/providers.md): right after CreateImage, DescribeImages may
 * answer InvalidAMIID.NotFound for the new image. The adapter must read that as "not visible
 * yet" within its grace window — for polls and for the adoption after InvalidAMIName.Duplicate —
 * page through DescribeImages, count a disabled AMI as existing, and name every permission
 * CreateImage needs. First against the adapter, then through the engine.
 */
import { afterEach, beforeEach, describe, expect, it, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { silentLogger } from '../../sidecar/log.js';
import { createAwsec2Provider, type Awsec2Config } from '../../sidecar/providers/awsec2.js';
import { ProviderError, type Provider, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { startFakeEc2, type FakeEc2 } from '../fakes/awsec2.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { adapterContext } from '../helpers/provider-context.js';
import { driverSpec, engineTestbed, eventsOf, settle, takeNow } from '../helpers/providers.js';
import { sidecarFor } from '../helpers/sidecar.js';

const ACCESS_KEY = 'AKIAFAKEFAKEFAKE0001';
const server: ServerRef = { serverId: 7, instanceId: 'i-0abc1234def567890', region: 'eu-west-1', name: 'web1' };
const marker = (id = 42): SnapshotMarker => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

describe('the EC2 adapter and eventual consistency', () => {
  let fake: FakeEc2;
  let nowMs: number;
  beforeEach(async () => {
    nowMs = Date.parse('2026-11-27T03:00:00Z');
    fake = await startFakeEc2({ accessKeyId: ACCESS_KEY, invisibleForMs: 20_000, now: () => nowMs });
    fake.addInstance(server.instanceId);
  });
  afterEach(async () => { await fake.close(); });

  function provider(over: Partial<Awsec2Config> = {}): Provider {
    return createAwsec2Provider('awsec2', { type: 'awsec2', accessKeyId: ACCESS_KEY, secretAccessKey: 'secret-secret', region: 'eu-west-1', apiUrl: fake.url, ...over },
      adapterContext({ log: silentLogger, sleep: async () => {}, now: () => nowMs }));
  }

  it('when the new image answers NotFound within the grace window, then it is still creating, and available once AWS shows it', async () => {
    const p = provider({ visibilityGraceMs: 60_000 });
    const created = await p.create(server, marker());
    nowMs += 1_000;
    const early = await p.status(server, { providerSnapshotId: created.providerSnapshotId, pendingRef: created.pendingRef, marker: marker() });
    expect(early).toMatchObject({ providerSnapshotId: created.providerSnapshotId, state: 'creating' });
    expect(fake.requests.filter((r) => r.action === 'DescribeImages')).toHaveLength(1); // it really answered NotFound
    nowMs += 30_000;
    const later = await p.status(server, { providerSnapshotId: created.providerSnapshotId, pendingRef: created.pendingRef, marker: marker() });
    expect(later.state).toBe('available');
  });

  it('when the image is still not found after the grace window, then it is gone', async () => {
    fake.invisibleForMs = 10 * 60_000;
    const p = provider({ visibilityGraceMs: 60_000 });
    const created = await p.create(server, marker());
    nowMs += 61_000;
    const snap = await p.status(server, { providerSnapshotId: created.providerSnapshotId, pendingRef: created.pendingRef, marker: marker() });
    expect(snap.state).toBe('gone');
  });

  it('when a retried CreateImage meets the duplicate name of an image AWS does not show yet, then that image is adopted as creating, not failed', async () => {
    const p = provider();
    // The first answer is lost; the adapter's own retry meets InvalidAMIName.Duplicate for an
    // image that DescribeImages does not show yet.
    fake.inject(1, { kind: 'reset-after', action: 'CreateImage' });
    const again = await p.create(server, marker());
    expect(fake.count('CreateImage')).toBe(2);
    const made = fake.images();
    expect(made).toHaveLength(1);
    expect(again).toMatchObject({ providerSnapshotId: made[0]!.imageId, state: 'creating' });
    nowMs += 25_000;
    const snap = await p.status(server, { providerSnapshotId: again.providerSnapshotId, pendingRef: again.pendingRef, marker: marker() });
    expect(snap.state).toBe('available');
  });

  it('when our AMI is disabled, then it still counts as existing (available), never gone', async () => {
    const img = fake.putImage({ name: marker().name, instanceId: server.instanceId, state: 'disabled' });
    const snap = await provider().status(server, { providerSnapshotId: img.imageId, marker: marker() });
    expect(snap.state).toBe('available');
    expect(fake.requests.at(-1)?.params.get('IncludeDisabled')).toBe('true');
  });

  it('when DescribeImages answers in pages, then findByMarker follows NextToken to our image', async () => {
    fake.pageSize = 2;
    // Other images that pass the name filter cannot exist (names are unique), so page by a state-less list:
    // the fake pages whatever matches; pad the match set with same-named deregistered copies.
    for (let i = 0; i < 4; i++) fake.putImage({ name: marker().name, instanceId: server.instanceId, state: 'deregistered' });
    const mine = fake.putImage({ name: marker().name, instanceId: server.instanceId, state: 'available' });
    const found = await provider().findByMarker(server, marker());
    expect(found).toMatchObject({ providerSnapshotId: mine.imageId, state: 'available' });
    const pages = fake.requests.filter((r) => r.action === 'DescribeImages');
    expect(pages.length).toBe(3);
    expect(pages[0]!.params.get('MaxResults')).toBe('100');
    expect(pages[1]!.params.get('NextToken')).toBe('2');
  });

  it('when the key may not create images, then the sentence names ec2:CreateImage and ec2:CreateTags', async () => {
    fake.unauthorizedActions.add('CreateImage');
    const err = await provider().create(server, marker()).then(() => null, (e: unknown) => e as ProviderError);
    expect(err?.code).toBe('permission');
    expect(err?.message).toBe('The AWS access key for provider "awsec2" is not allowed to call ec2:CreateImage and ec2:CreateTags (to tag the image while it is made): add those permissions to its IAM policy and try again.');
  });
});

describe('EC2 eventual consistency through the engine', () => {
  let t: TestDatabase;
  const bed = engineTestbed((db) => { t = db; });

  test('when DescribeImages answers NotFound for the first 30 s after CreateImage, then the snapshot ends available with its AMI id and is never failed', async () => {
    const spec = driverSpec('awsec2');
    const d = await spec.start();
    bed.defer(() => d.close());
    const clock = databaseClock();
    // The fake's time follows the engine's clock, so moving the engine moves EC2's lag too.
    d.fake.now = () => Date.now() + clock.__test__offsetMs;
    d.fake.invisibleForMs = 30_000;
    const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });

    const id = await takeNow(sc, serverId);
    const { snap } = await settle(sc, clock, id, { stepMs: 5_000, maxRounds: 40 });
    expect(snap?.status).toBe('available');
    expect(snap?.providerSnapshotId).toBe(d.fake.images()[0]!.imageId);
    expect(d.fake.images()).toHaveLength(1);
    const notFound = d.fake.requests.filter((r) => r.action === 'DescribeImages').length;
    expect(notFound).toBeGreaterThan(1); // polled through the lag
    expect((await eventsOf(sc, id)).map((e) => e.action)).not.toContain('failed');
  });
});
