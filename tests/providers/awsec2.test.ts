/**
 * The AWS EC2 adapter against a local EC2 Query API (tests/fakes/awsec2.ts), through the real
 * SDK (signing, XML parsing). Waits go through a recorded sleep: no real waiting, except the
 * one request timeout test, which waits for the client's own timeout event.
 */
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../sidecar/log.js';
import { awsec2ConfigSchema, createAwsec2Provider, type Awsec2Config } from '../../sidecar/providers/awsec2.js';
import type { ProviderContext } from '../../sidecar/providers/context.js';
import { ProviderError, type Provider, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { startFakeEc2, type FakeEc2 } from '../fakes/awsec2.js';
import { adapterContext } from '../helpers/provider-context.js';

const ACCESS_KEY = 'AKIAFAKEFAKEFAKE0001';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSECRET';
const SESSION = 'FwoGZXIvYXdzEXAMPLESESSIONTOKENxyz';
const server: ServerRef = { serverId: 7, instanceId: 'i-0abc1234def567890', region: 'eu-west-1', name: 'web1' };
const marker = (id = 42): SnapshotMarker => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

let fake: FakeEc2;
let sleeps: number[];

function ctx(extra: Partial<ProviderContext> = {}): ProviderContext {
  return adapterContext({ log: silentLogger, sleep: async (ms) => void sleeps.push(ms), ...extra });
}

function provider(over: Partial<Awsec2Config> = {}, c: ProviderContext = ctx()): Provider {
  return createAwsec2Provider(
    'awsec2',
    { type: 'awsec2', accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, region: 'eu-west-1', apiUrl: fake.url, ...over },
    c,
  );
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
  sleeps = [];
  fake = await startFakeEc2({ accessKeyId: ACCESS_KEY });
  fake.addInstance(server.instanceId, 2);
});

afterEach(async () => {
  await fake.close();
});

describe('config', () => {
  it('when secretAccessKey is missing, then the schema names it', () => {
    const r = awsec2ConfigSchema.safeParse({ type: 'awsec2', accessKeyId: 'a', region: 'us-east-1' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues.map((i) => i.path))).toContain('secretAccessKey');
  });

  it('when apiUrl is not a URL or a field is misspelt, then the schema refuses it', () => {
    const base = { type: 'awsec2', accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1' };
    expect(awsec2ConfigSchema.safeParse({ ...base, apiUrl: 'not a url' }).success).toBe(false);
    expect(awsec2ConfigSchema.safeParse({ ...base, secretKey: 'b' }).success).toBe(false);
    expect(awsec2ConfigSchema.safeParse({ ...base, apiUrl: 'http://127.0.0.1:9999' }).success).toBe(true);
  });
});

describe('create and follow', () => {
  it('when a snapshot is taken, then CreateImage carries the name, NoReboot and tags for image and snapshots, and status follows pending to available', async () => {
    fake.pendingPolls = 2;
    const p = provider();
    const created = await p.create(server, marker());
    expect(created.state).toBe('creating');
    expect(created.providerSnapshotId).toMatch(/^ami-[0-9a-f]+$/);

    const call = fake.requests.find((r) => r.action === 'CreateImage')!;
    expect(call.params.get('InstanceId')).toBe(server.instanceId);
    expect(call.params.get('Name')).toBe(marker().name);
    expect(call.params.get('NoReboot')).toBe('true');
    expect(call.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/eu-west-1/ec2/aws4_request`));

    const [image] = fake.images();
    expect(image!.tags).toMatchObject({ 'ss:snapshot-id': '42', 'ss:managed-by': 'scheduled-snapshots' });
    expect(fake.snapshots()).toHaveLength(2);
    for (const s of fake.snapshots()) expect(s.tags).toMatchObject({ 'ss:snapshot-id': '42', 'ss:managed-by': 'scheduled-snapshots' });

    const ref = { providerSnapshotId: created.providerSnapshotId, marker: marker() };
    expect((await p.status(server, ref)).state).toBe('creating');
    expect((await p.status(server, ref)).state).toBe('creating');
    expect(await p.status(server, ref)).toMatchObject({ providerSnapshotId: created.providerSnapshotId, state: 'available' });
  });

  it('when the schedule asks for a reboot (noReboot false), then NoReboot=false is sent', async () => {
    await provider().create(server, { ...marker(), options: { noReboot: false } });
    expect(fake.requests.find((r) => r.action === 'CreateImage')!.params.get('NoReboot')).toBe('false');
  });

  it('when a session token is configured, then it is sent as X-Amz-Security-Token', async () => {
    await provider({ sessionToken: SESSION }).create(server, marker());
    expect(fake.requests[0]!.securityToken).toBe(SESSION);
  });

  it('when AWS fails the image, then status is failed with AWS\'s reason as a sentence', async () => {
    fake.failNextImage('Instance store volumes could not be copied');
    const p = provider();
    const created = await p.create(server, marker());
    const st = await p.status(server, { providerSnapshotId: created.providerSnapshotId, marker: marker() });
    expect(st.state).toBe('failed');
    expect(st.reason).toBe('AWS could not create the image: Instance store volumes could not be copied');
  });

  it('when the image no longer exists, then status says gone', async () => {
    const st = await provider().status(server, { providerSnapshotId: 'ami-0000000000000dead', marker: marker() });
    expect(st).toEqual({ providerSnapshotId: 'ami-0000000000000dead', state: 'gone' });
  });

  it('when status is asked without an id, then the image is found by its name', async () => {
    const created = await provider().create(server, marker());
    const st = await provider().status(server, { providerSnapshotId: null, marker: marker() });
    expect(st.providerSnapshotId).toBe(created.providerSnapshotId);
  });
});

describe('errors', () => {
  it('when the access key is wrong, then an auth error says what to check and is not retried', async () => {
    const err = await providerError(provider({ accessKeyId: 'AKIAWRONGWRONGWRONG1' }).create(server, marker()));
    expect(err.code).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/check accessKeyId and secretAccessKey/);
    expect(fake.count('CreateImage')).toBe(1);
  });

  it('when the key lacks ec2:CreateImage, then a permission error names the permission', async () => {
    fake.unauthorizedActions.add('CreateImage');
    const err = await providerError(provider().create(server, marker()));
    expect(err.code).toBe('permission');
    expect(err.message).toContain('ec2:CreateImage');
    expect(err.message).not.toContain('Zm9v'); // AWS's encoded blob stays out of our sentence
  });

  it('when the instance does not exist, then not_found says so', async () => {
    const err = await providerError(provider().create({ ...server, instanceId: 'i-000000000000dead0' }, marker()));
    expect(err.code).toBe('not_found');
    expect(err.message).toMatch(/no EC2 instance/);
  });

  it('when the instance is in a state that cannot be imaged, then busy (retryable) after the attempts', async () => {
    fake.inject(4, { kind: 'error', action: 'CreateImage', status: 400, code: 'IncorrectInstanceState', message: 'The instance is not in a valid state for this operation.' });
    const err = await providerError(provider().create(server, marker()));
    expect(err.code).toBe('busy');
    expect(err.retryable).toBe(true);
    expect(fake.count('CreateImage')).toBe(4);
    expect(fake.images()).toHaveLength(0);
  });

  it('when AWS throttles twice, then the call is retried after growing, jittered waits and succeeds', async () => {
    fake.inject(2, { kind: 'throttle', action: 'CreateImage' });
    // The jitter fixed near its top, so the doubling shows; its bottom is half the base.
    const created = await provider({ backoffBaseMs: 1000 }, ctx({ random: () => 0.999 })).create(server, marker());
    expect(created.state).toBe('creating');
    expect(fake.count('CreateImage')).toBe(3);
    expect(fake.images()).toHaveLength(1);
    expect(sleeps).toEqual([999, 1998]);
  });

  it('when AWS keeps throttling, then rate_limited reaches the engine with a retry hint after maxAttempts calls', async () => {
    fake.inject(10, { kind: 'throttle' });
    const err = await providerError(provider({ maxAttempts: 3, backoffBaseMs: 100, backoffCapMs: 150 }).create(server, marker()));
    expect(err.code).toBe('rate_limited');
    expect(err.retryable).toBe(true);
    // The shared backoff: never below half the base, never above the cap.
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(50);
    expect(err.retryAfterMs).toBeLessThanOrEqual(150);
    expect(fake.count()).toBe(3);
    expect(sleeps.every((s) => s <= 150)).toBe(true);
  });

  it('when AWS answers 500 until the attempts run out, then a transient error is raised', async () => {
    fake.inject(4, { kind: '5xx', action: 'DescribeImages' });
    const err = await providerError(provider().status(server, { providerSnapshotId: 'ami-00000000000001000', marker: marker() }));
    expect(err.code).toBe('transient');
    expect(err.message).toMatch(/temporary problem/);
    expect(fake.count('DescribeImages')).toBe(4);
  });

  it('when AWS answers a body that is not XML, then bad_response says so without the body', async () => {
    fake.inject(1, { kind: 'malformed', action: 'DescribeImages' });
    const err = await providerError(provider().findByMarker(server, marker()));
    expect(err.code).toBe('bad_response');
    expect(err.message).not.toContain('502');
  });

  it('when AWS does not answer, then the request times out as transient', async () => {
    fake.inject(2, { kind: 'hang' });
    const err = await providerError(provider({ requestTimeoutMs: 150, maxAttempts: 2 }).findByMarker(server, marker()));
    expect(err.code).toBe('transient');
    expect(fake.count()).toBe(2);
  });

  it('when the secret is configured, then it appears in no error and no log line, even at debug level', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'debug',
      destination: new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } }),
    });
    fake.inject(2, { kind: 'throttle' });
    fake.unauthorizedActions.add('DeregisterImage');
    const p = provider({ sessionToken: SESSION }, ctx({ log }));
    const created = await p.create(server, marker());
    const errors = [
      await providerError(p.delete(server, created.providerSnapshotId!)),
      await providerError(provider({ secretAccessKey: SECRET, accessKeyId: 'AKIAWRONGWRONGWRONG1' }, ctx({ log })).create(server, marker(3))),
    ];
    expect(lines.length).toBeGreaterThan(0);
    const everything = lines.join('\n') + errors.map((e) => `${e.message}\n${inspect(e, { depth: 10 })}\n${JSON.stringify(e)}`).join('\n');
    for (const secret of [SECRET, SESSION]) expect(everything).not.toContain(secret);
  });
});

describe('recovery after a crash', () => {
  it('when the sidecar died after CreateImage but before storing the id, then findByMarker finds the image and no second one is made', async () => {
    const before = provider();
    const lost = await before.create(server, marker());

    const after = provider(); // a fresh process
    const found = await after.findByMarker(server, marker());
    expect(found).toMatchObject({ providerSnapshotId: lost.providerSnapshotId });
    expect(fake.images()).toHaveLength(1);
    expect(fake.count('CreateImage')).toBe(1);
  });

  it('when nothing was created for the marker, then findByMarker answers null', async () => {
    await provider().create(server, marker(41));
    expect(await provider().findByMarker(server, marker())).toBeNull();
  });

  it('when CreateImage went through but the answer was lost, then the retry hits InvalidAMIName.Duplicate and adopts the first image', async () => {
    fake.inject(1, { kind: 'reset-after', action: 'CreateImage' });
    const created = await provider().create(server, marker());
    expect(fake.count('CreateImage')).toBe(2);
    expect(fake.images()).toHaveLength(1);
    expect(created.providerSnapshotId).toBe(fake.images()[0]!.imageId);
  });

  it('when the engine repeats create for the same marker, then the existing AMI is adopted', async () => {
    fake.pendingPolls = 0;
    const first = await provider().create(server, marker());
    await provider().status(server, { providerSnapshotId: first.providerSnapshotId, marker: marker() });
    const again = await provider().create(server, marker());
    expect(again).toMatchObject({ providerSnapshotId: first.providerSnapshotId, state: 'available' });
    expect(fake.images()).toHaveLength(1);
  });

  it('when an AMI with our name belongs to another snapshot id, then it is not adopted', async () => {
    fake.putImage({ name: marker().name, instanceId: server.instanceId, tags: { 'ss:snapshot-id': '999', 'ss:managed-by': 'scheduled-snapshots' } });
    const err = await providerError(provider().create(server, marker()));
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/already exists .* not made by Scheduled Snapshots/);
  });
});

describe('delete', () => {
  it('when an image is deleted, then DeregisterImage is sent with DeleteAssociatedSnapshots and the image and its EBS snapshots are gone', async () => {
    const p = provider();
    const created = await p.create(server, marker());
    await provider().create(server, marker(43)); // another image of ours stays
    expect(await p.delete(server, created.providerSnapshotId!)).toEqual({ alreadyGone: false });
    const dereg = fake.requests.find((r) => r.action === 'DeregisterImage')!;
    expect(dereg.params.get('DeleteAssociatedSnapshots')).toBe('true');
    expect(fake.images().map((i) => i.imageId)).not.toContain(created.providerSnapshotId);
    expect(fake.images()).toHaveLength(1);
    expect(fake.snapshots()).toHaveLength(2); // only the other image's two
    expect(fake.count('DeleteSnapshot')).toBe(0);
  });

  it('when the image is already gone, then delete counts it as deleted', async () => {
    const p = provider();
    const created = await p.create(server, marker());
    await p.delete(server, created.providerSnapshotId!);
    expect(await p.delete(server, created.providerSnapshotId!)).toEqual({ alreadyGone: true });
    expect(await p.delete(server, 'ami-0000000000000beef')).toEqual({ alreadyGone: true });
  });

  it('when AWS still lists the image as deregistered, then status says gone, delete says already gone, and findByMarker prefers a live copy', async () => {
    fake.keepDeregistered = true;
    const p = provider();
    const first = await p.create(server, marker());
    await p.delete(server, first.providerSnapshotId!);
    expect(fake.images()[0]!.state).toBe('deregistered');
    expect((await p.status(server, { providerSnapshotId: first.providerSnapshotId, marker: marker() })).state).toBe('gone');
    expect(await p.delete(server, first.providerSnapshotId!)).toEqual({ alreadyGone: true });
    expect((await p.findByMarker(server, marker()))?.state).toBe('gone');

    const second = await p.create(server, marker()); // the name is free again
    expect(second.providerSnapshotId).not.toBe(first.providerSnapshotId);
    expect(await p.findByMarker(server, marker())).toMatchObject({ providerSnapshotId: second.providerSnapshotId, state: 'available' });
  });

  it('when DeregisterImage fails past the retries, then delete fails as transient and a later delete succeeds', async () => {
    const p = provider();
    const created = await p.create(server, marker());
    fake.inject(4, { kind: '5xx', action: 'DeregisterImage' });
    const err = await providerError(p.delete(server, created.providerSnapshotId!));
    expect(err.code).toBe('transient');
    expect(fake.images()).toHaveLength(1);

    expect(await p.delete(server, created.providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.images()).toHaveLength(0);
    expect(fake.snapshots()).toHaveLength(0);
  });

  it('when the endpoint does not know DeleteAssociatedSnapshots, then the image is deregistered and each EBS snapshot deleted', async () => {
    fake.deleteAssociatedSnapshots = 'unknown-parameter';
    const p = provider();
    const created = await p.create(server, marker());
    expect(await p.delete(server, created.providerSnapshotId!)).toEqual({ alreadyGone: false });
    expect(fake.images()).toHaveLength(0);
    expect(fake.snapshots()).toHaveLength(0);
    expect(fake.count('DeregisterImage')).toBe(2);
    expect(fake.count('DeleteSnapshot')).toBe(2);
  });

  it('when the endpoint ignores DeleteAssociatedSnapshots, then the snapshots it left are deleted one by one', async () => {
    fake.deleteAssociatedSnapshots = 'ignored';
    const p = provider();
    const created = await p.create(server, marker());
    await p.delete(server, created.providerSnapshotId!);
    expect(fake.snapshots()).toHaveLength(0);
    expect(fake.count('DeleteSnapshot')).toBe(2);
  });

  it('when AWS reports one associated snapshot not deleted, then only that one is deleted with DeleteSnapshot', async () => {
    const p = provider();
    const created = await p.create(server, marker());
    const [first, second] = fake.images()[0]!.snapshotIds;
    fake.associatedSnapshotFailures.set(second!, 'internal-error');
    await p.delete(server, created.providerSnapshotId!);
    expect(fake.snapshots()).toHaveLength(0);
    const deleted = fake.requests.filter((r) => r.action === 'DeleteSnapshot').map((r) => r.params.get('SnapshotId'));
    expect(deleted).toEqual([second]);
    expect(deleted).not.toContain(first);
  });

  it('when the key may not delete EBS snapshots, then the error names the snapshots left behind', async () => {
    fake.deleteAssociatedSnapshots = 'ignored';
    fake.unauthorizedActions.add('DeleteSnapshot');
    const p = provider();
    const created = await p.create(server, marker());
    const ids = fake.images()[0]!.snapshotIds;
    const err = await providerError(p.delete(server, created.providerSnapshotId!));
    expect(err.code).toBe('permission');
    expect(err.message).toContain('ec2:DeleteSnapshot');
    for (const id of ids) expect(err.message).toContain(id);
    expect(fake.images()).toHaveLength(0);
  });
});

describe('regions of one account (reconciliation and the ownership check)', () => {
  const scopeRegion = (r: { authorization: string | undefined }) => /Credential=[^/]+\/\d+\/([^/]+)\//.exec(r.authorization ?? '')?.[1];

  it('when reconciliation names the regions our servers and records use, then each is listed with the tag filter, the entry\'s own region too, and every found AMI says where it was listed', async () => {
    const p = provider();
    const made = await p.create(server, marker(42));
    fake.requests.length = 0;
    const facts = [];
    for await (const f of p.listOurs!(['us-east-1', 'not a region'])) facts.push(f);
    const listings = fake.requests.filter((r) => r.action === 'DescribeImages' && [...r.params.values()].includes('tag:ss:managed-by'));
    expect(listings.map(scopeRegion).sort()).toEqual(['eu-west-1', 'us-east-1']);
    // The fake holds one set of images for every region, so each listing sees the AMI.
    expect(facts.map((f) => [f.providerSnapshotId, f.region, f.markerSnapshotId]).sort()).toEqual([
      [made.providerSnapshotId, 'eu-west-1', 42], [made.providerSnapshotId, 'us-east-1', 42],
    ]);
  });

  it('when the ownership check describes an AMI, then it asks in the region of the record\'s server', async () => {
    const p = provider();
    const made = await p.create(server, marker(43));
    fake.requests.length = 0;
    const facts = await p.describe!({ ...server, region: 'ap-southeast-2' }, made.providerSnapshotId!);
    expect(facts?.sourceInstanceId).toBe(server.instanceId);
    expect(fake.requests.filter((r) => r.action === 'DescribeImages').map(scopeRegion)).toEqual(['ap-southeast-2']);
  });
});
