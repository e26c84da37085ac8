/**
 * EC2's batched status reads: the AMIs the engine follows and the ones it checks before a
 * delete are read with DescribeImages by the `image-id` filter, one call per region and page,
 * instead of one DescribeImages per image — and a new AMI EC2 does not show yet stays
 * `creating` within the visibility grace, as a single read would say.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { silentLogger } from '../../sidecar/log.js';
import { createAwsec2Provider } from '../../sidecar/providers/awsec2.js';
import type { Provider } from '../../sidecar/providers/types.js';
import { startFakeEc2, type Ec2Request, type FakeEc2 } from '../fakes/awsec2.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { adapterContext } from '../helpers/provider-context.js';
import { roundsUntilAvailable, takeNow } from '../helpers/providers.js';
import { api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

const ACCESS_KEY = 'AKIAFAKEFAKEFAKE0001';
const regionOf = (r: Ec2Request): string => /Credential=[^/]+\/\d+\/([^/]+)\//.exec(r.authorization ?? '')?.[1] ?? '';
const describes = (rs: readonly Ec2Request[]) => rs.filter((r) => r.action === 'DescribeImages');
const byId = (rs: readonly Ec2Request[]) => describes(rs).filter((r) => r.params.has('ImageId.1'));

describe('EC2 batched reads through the engine', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(); });
  afterAll(async () => { await t.drop(); });

  test('when 60 AMIs in two regions are creating, then one round of status reads is one DescribeImages per region, and the deletes check ownership from the same kind of list', async () => {
    const fake = await startFakeEc2({ accessKeyId: ACCESS_KEY });
    fake.pendingPolls = 2; // the first answers still show each new AMI pending
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, concurrency: 100, sleep: async () => {}, providers: { awsec2: { type: 'awsec2', accessKeyId: ACCESS_KEY, secretAccessKey: 'secret-secret-secret', region: 'us-east-1', apiUrl: fake.url } } });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 60; i++) {
        const instance = `i-0${(0xa000 + i).toString(16)}00000000000`;
        fake.addInstance(instance);
        const server = await addServer(t, { title: `ec2-${i}`, provider: 'awsec2', instanceId: instance, region: i < 40 ? 'us-east-1' : 'eu-west-1' });
        ids.push(await takeNow(sc, server));
      }
      await runUntilIdle(sc);
      expect(fake.count('CreateImage')).toBe(60);

      // Real time passes while the test makes 60 snapshots, so a few may have been read already;
      // from here every round reads all that are still creating.
      const rounds = await roundsUntilAvailable(sc, clock, ids, () => fake.requests, (round, states) => {
        expect(states.every((s) => s === 'creating' || s === 'available')).toBe(true);
        // On a slow machine one region's may all be done already: the round reads the others.
        const regions = [...new Set(states.flatMap((s, i) => (s === 'creating' ? [i < 40 ? 'us-east-1' : 'eu-west-1'] : [])))].sort();
        // One list per region (40 + 20 ids fit one filter each), never a DescribeImages by ImageId.
        expect(describes(round).map(regionOf).sort()).toEqual(regions);
        expect(byId(round)).toHaveLength(0);
        for (const r of describes(round)) expect(r.params.get('Filter.1.Name')).toBe('image-id');
      });
      // At least one round read them in lists (how many the engine did in real time meanwhile varies with the machine).
      expect(rounds).toBeGreaterThanOrEqual(1);

      const mark = fake.requests.length;
      for (const id of ids) expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBeLessThan(300);
      await runUntilIdle(sc);
      const deletes = fake.requests.slice(mark);
      expect(deletes.filter((r) => r.action === 'DeregisterImage')).toHaveLength(60);
      // Ownership from lists (a few per region as the claims come), and the delete itself does
      // not read the image again: it kept the EBS snapshot ids from that list.
      expect(byId(deletes)).toHaveLength(0);
      expect(describes(deletes).length).toBeLessThanOrEqual(6);
      expect(fake.images().filter((i) => i.state !== 'deregistered')).toHaveLength(0);
      expect(fake.snapshots()).toHaveLength(0);
    } finally {
      await sc.stop(0);
      await fake.close();
    }
  });
});

describe('the EC2 adapter\'s describeMany', () => {
  let fake: FakeEc2;
  let nowMs: number;
  beforeEach(async () => {
    nowMs = Date.parse('2026-11-27T03:00:00Z');
    fake = await startFakeEc2({ accessKeyId: ACCESS_KEY, invisibleForMs: 30_000, now: () => nowMs });
  });
  afterEach(async () => { await fake.close(); });

  const provider = (): Provider => createAwsec2Provider('awsec2', { type: 'awsec2', accessKeyId: ACCESS_KEY, secretAccessKey: 'secret-secret', region: 'eu-west-1', apiUrl: fake.url, visibilityGraceMs: 60_000 },
    adapterContext({ log: silentLogger, sleep: async () => {}, now: () => nowMs }));

  test('when some new AMIs are not visible yet and one was never there, then the visible ones are read, the new ones stay creating, and the unknown one is left to its own read', async () => {
    const p = provider();
    const server = (i: number) => ({ serverId: i, instanceId: `i-0${(0xb000 + i).toString(16)}00000000000`, region: 'eu-west-1', name: `web${i}` });
    for (let i = 0; i < 3; i++) fake.addInstance(server(i).instanceId);
    const old = await p.create(server(0), { snapshotId: 1, name: 'ss-1-web0-20261127T0300Z' });
    nowMs += 40_000; // the first one is visible now
    const fresh = await p.create(server(1), { snapshotId: 2, name: 'ss-2-web1-20261127T0300Z' });
    nowMs += 1_000;
    const refs = [
      { snapshotId: 1, providerSnapshotId: old.providerSnapshotId, pendingRef: old.pendingRef, name: 'ss-1-web0-20261127T0300Z', region: 'eu-west-1', purpose: 'follow' as const },
      { snapshotId: 2, providerSnapshotId: fresh.providerSnapshotId, pendingRef: fresh.pendingRef, name: 'ss-2-web1-20261127T0300Z', region: 'eu-west-1', purpose: 'follow' as const },
      // An id AWS does not know: `ImageIds` would fail the whole call with InvalidAMIID.NotFound.
      { snapshotId: 3, providerSnapshotId: 'ami-0000000000000dead', pendingRef: null, name: 'ss-3-web2-20261127T0300Z', region: 'eu-west-1', purpose: 'follow' as const },
    ];
    const facts = await p.describeMany!(refs);
    expect(facts.get(old.providerSnapshotId!)).toMatchObject({ state: 'available', markerSnapshotId: 1, sourceInstanceId: server(0).instanceId });
    expect(facts.get(fresh.providerSnapshotId!)).toMatchObject({ state: 'creating' });
    expect(facts.has('ami-0000000000000dead')).toBe(false);
    expect(describes(fake.requests)).toHaveLength(1);
    expect(byId(fake.requests)).toHaveLength(0);
  });

  test('when more than 200 AMIs are asked for, then they go in filters of at most 200 values (EC2 refuses more)', async () => {
    const p = provider();
    const refs = Array.from({ length: 450 }, (_, i) => ({ snapshotId: i + 1, providerSnapshotId: `ami-${(0x100000 + i).toString(16)}`, region: 'eu-west-1', purpose: 'delete' as const }));
    const facts = await p.describeMany!(refs);
    expect(facts.size).toBe(0);
    expect(describes(fake.requests).map((r) => [...r.params.keys()].filter((k) => k.startsWith('Filter.1.Value.')).length)).toEqual([200, 200, 50]);
  });
});
