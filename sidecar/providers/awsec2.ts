/**
 * AWS EC2 adapter: a server snapshot is an AMI made with CreateImage.
 *
 * Uses the official SDK (it signs with SigV4 and parses the Query API's XML), not our HTTP client (http/).
 * The SDK's own retries are switched off (`maxAttempts: 1`) because they sleep on a real
 * timer the tests cannot control and know nothing of our backoff budget; this file retries
 * throttling and transient failures itself with capped exponential backoff and jitter, via
 * `ctx.sleep`, and hands anything still failing to the engine as a ProviderError.
 *
 * Marking: the AMI's Name is the marker name (unique per account and region, which is what
 * makes a retried CreateImage safe: the second call fails `InvalidAMIName.Duplicate` and we
 * adopt the first image), and the AMI and its EBS snapshots carry the tags below.
 *
 * Regions: WPCloudDeploy keeps every EC2 server under the one slug `awsec2` with its own
 * region, so each call goes to the server's region (ServerRef.region), falling back to the
 * entry's `region`; one SDK client per region, made on first use and kept.
 *
 * Credentials go only into the SDK's static credential provider. Nothing here logs the
 * config, and errors are rebuilt as our own sentences (awsec2-errors.ts): the SDK error object (which holds the
 * raw response) is never attached as a cause.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  EC2Client,
  CreateImageCommand,
  DescribeImagesCommand,
  DeregisterImageCommand,
  DeleteSnapshotCommand,
  type Image,
} from '@aws-sdk/client-ec2';
import { backoffMs } from '../backoff.js';
import { errorCode, GONE_AMI_CODES, PARAMETER_CODES, toProviderError, type AwsErrorShape } from './awsec2-errors.js';
import { realSleep, type ProviderContext } from './context.js';
import {
  ProviderError,
  type CreateResult,
  type Provider,
  type ProviderCapabilities,
  type ProviderSnapshot,
  type ServerRef,
  type SnapshotFacts,
  type SnapshotMarker,
} from './types.js';

import { createEc2BatchReads, EC2_BATCH } from './awsec2-batch.js';
import { awsec2ConfigSchema, type Awsec2Config } from './awsec2-config.js';
import { amiName, AWS_MANAGED_BY, AWS_REGION, AWS_TAG_MANAGED_BY, AWS_TAG_SNAPSHOT_ID, createdAtOf, createdRef, snapshotIdsOf, snapshotOfImage, tagValue } from './awsec2-names.js';

export { awsec2ConfigSchema, type Awsec2Config };
export { amiName, AWS_MANAGED_BY, AWS_TAG_MANAGED_BY, AWS_TAG_SNAPSHOT_ID };

const CAPABILITIES: ProviderCapabilities = {
  create: true,
  delete: true,
  labels: true,
  slotsPerServer: null,
  notes: [
    'AWS snapshots are AMIs: deleting one deregisters the image and deletes its EBS snapshots.',
    'By default the instance is not rebooted while the image is made, so open files may be caught mid-write.',
  ],
};

/** Page size for DescribeImages by name (AWS asks callers to paginate it). */
const PAGE_SIZE = 100;

export function createAwsec2Provider(slug: string, input: Awsec2Config, ctx: ProviderContext): Provider {
  const config = awsec2ConfigSchema.parse(input);
  const log = ctx.log.child({ provider: slug, type: 'awsec2' });
  const sleep = ctx.sleep ?? realSleep;
  const random = ctx.random ?? Math.random;
  const now = ctx.now ?? Date.now;
  const secrets = [config.secretAccessKey, config.sessionToken ?? '', config.accessKeyId];

  const clients = new Map<string, EC2Client>();
  const regionOfCall = new AsyncLocalStorage<string>();
  /** The region the current call works in (set by `inRegion` around every public method). */
  const currentRegion = (): string => regionOfCall.getStore() ?? config.region ?? '';
  const newClient = (region: string) => new EC2Client({
    region,
    ...(config.apiUrl ? { endpoint: config.apiUrl.replace(/\/+$/, '') } : {}),
    credentials: {
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}),
    },
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: config.requestTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  // The functions below send through `client`; it picks the client of the current call's region.
  const client = {
    send: ((command: Parameters<EC2Client['send']>[0]) => {
      const region = currentRegion();
      let c = clients.get(region);
      if (!c) clients.set(region, (c = newClient(region)));
      return c.send(command);
    }) as EC2Client['send'],
  };
  function inRegion<T>(server: ServerRef, fn: () => Promise<T>): Promise<T> {
    // Only a value shaped like an AWS region (us-east-1, us-gov-west-1) counts; anything else falls back.
    const region = server.region && AWS_REGION.test(server.region) ? server.region : config.region;
    if (!region) {
      return Promise.reject(new ProviderError('invalid', `Server #${server.serverId} has no AWS region in the panel and provider "${slug}" has no "region" in the providers file: set one of them.`));
    }
    return regionOfCall.run(region, fn);
  }


  /** The AWS error code (and raw message) behind each ProviderError we made, for callers that branch on it. */
  const awsDetail = new WeakMap<ProviderError, { code: string; message: string }>();
  function awsCodeOf(err: unknown): string | undefined {
    return err instanceof ProviderError ? awsDetail.get(err)?.code : undefined;
  }

  /**
   * One EC2 call with our retries. `rate_limited` / `transient` / `busy` are tried up to
   * `maxAttempts` times; the last error goes to the engine with the next backoff as its hint.
   */
  async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const wait = backoffMs(attempt + 1, config.backoffBaseMs, config.backoffCapMs, random);
        const pe = toProviderError(err, action, wait, { slug, region: currentRegion(), secrets });
        if (!(err instanceof ProviderError)) awsDetail.set(pe, { code: errorCode(err), message: String((err as AwsErrorShape)?.message ?? '') });
        log.debug({ action, attempt, code: errorCode(err), requestId: (err as AwsErrorShape)?.$metadata?.requestId, retryable: pe.retryable }, 'ec2 call failed');
        if (!pe.retryable || attempt + 1 >= config.maxAttempts) throw pe;
        await sleep(wait);
      }
    }
  }

  const toSnapshot = (image: Image): ProviderSnapshot =>
    snapshotOfImage(image, secrets, (id, state) => log.warn({ imageId: id, state }, 'unknown AMI state, treating as still creating'));

  async function describeById(imageId: string): Promise<Image | null> {
    try {
      // IncludeDisabled: a disabled AMI still exists (and still costs storage); it is not gone.
      const out = await call('DescribeImages', () => client.send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDisabled: true })));
      return out.Images?.find((i) => i.ImageId === imageId) ?? null;
    } catch (err) {
      const code = awsCodeOf(err);
      if (code !== undefined && (GONE_AMI_CODES.has(code) || code === 'InvalidAMIID.Malformed')) return null;
      throw err;
    }
  }

  /** Our images (owner self) matching these filters, every page (NextToken). */
  async function* describePages(filters: { Name: string; Values: string[] }[], pageSize = PAGE_SIZE): AsyncIterable<Image> {
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const out = await call('DescribeImages', () =>
        client.send(new DescribeImagesCommand({ Owners: ['self'], Filters: filters, IncludeDisabled: true, MaxResults: pageSize, ...(token ? { NextToken: token } : {}) })),
      );
      yield* out.Images ?? [];
      nextToken = out.NextToken || undefined;
    } while (nextToken);
  }

  async function describeByName(name: string): Promise<Image[]> {
    const found: Image[] = [];
    for await (const img of describePages([{ Name: 'name', Values: [name] }])) if (img.Name === name) found.push(img);
    return found;
  }

  /** An image is ours for this marker when its name matches and its tags (if any) agree. */
  function belongsTo(image: Image, marker: SnapshotMarker): boolean {
    if (image.Name !== amiName(marker)) return false;
    const idTag = tagValue(image, AWS_TAG_SNAPSHOT_ID);
    return idTag === undefined || idTag === String(marker.snapshotId);
  }

  async function findByMarker(_server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null> {
    const images = (await describeByName(amiName(marker))).filter((i) => belongsTo(i, marker));
    // A deregistered copy can linger in DescribeImages for a while; prefer a live one.
    const live = images.find((i) => i.State !== 'deregistered') ?? images[0];
    return live ? toSnapshot(live) : null;
  }

  async function adoptDuplicate(awsMessage: string, server: ServerRef, marker: SnapshotMarker): Promise<CreateResult> {
    // AWS names the existing image in the message ("… is already in use by AMI ami-…").
    const named = /ami-[0-9a-f]+/i.exec(awsMessage)?.[0];
    const image: Image | null = named ? await describeById(named) : null;
    if (image && !belongsTo(image, marker)) {
      throw new ProviderError('invalid', `An AMI named "${amiName(marker)}" already exists (${named}) and was not made by Scheduled Snapshots for this snapshot; rename or deregister it and try again.`);
    }
    if (!image) {
      const found = await findByMarker(server, marker);
      if (!found && named) {
        // AWS named the image but does not show it yet (eventual consistency): follow it by
        // that id (AWS said it carries our marker name).
        log.info({ imageId: named }, 'adopted an AMI that is not visible yet after duplicate name');
        return { providerSnapshotId: named, pendingRef: createdRef(now()), state: 'creating', sizeBytes: null };
      }
      if (!found) throw new ProviderError('failed', `AWS says an AMI named "${amiName(marker)}" already exists, but it could not be found in this account.`);
      log.info({ imageId: found.providerSnapshotId }, 'adopted existing AMI after duplicate name');
      return { providerSnapshotId: found.providerSnapshotId, state: found.state, sizeBytes: null };
    }
    log.info({ imageId: image.ImageId }, 'adopted existing AMI after duplicate name');
    const snap = toSnapshot(image);
    return { providerSnapshotId: snap.providerSnapshotId, state: snap.state, sizeBytes: null };
  }

  async function create(server: ServerRef, marker: SnapshotMarker): Promise<CreateResult> {
    const name = amiName(marker);
    const tags = [
      { Key: AWS_TAG_SNAPSHOT_ID, Value: String(marker.snapshotId) },
      { Key: AWS_TAG_MANAGED_BY, Value: AWS_MANAGED_BY },
      { Key: 'Name', Value: name },
    ];
    try {
      const out = await call('CreateImage', () =>
        client.send(
          new CreateImageCommand({
            InstanceId: server.instanceId,
            Name: name,
            Description: `Scheduled Snapshots ${name}`.slice(0, 255),
            NoReboot: marker.options?.noReboot ?? true,
            TagSpecifications: [
              { ResourceType: 'image', Tags: tags },
              { ResourceType: 'snapshot', Tags: tags },
            ],
          }),
        ),
      );
      if (!out.ImageId) throw new ProviderError('bad_response', 'AWS accepted CreateImage but did not say which image it made.');
      return { providerSnapshotId: out.ImageId, pendingRef: createdRef(now()), state: 'creating', sizeBytes: null };
    } catch (err) {
      // A retried or repeated CreateImage (the first one went through): the name is ours.
      if (awsCodeOf(err) === 'InvalidAMIName.Duplicate') {
        return adoptDuplicate(awsDetail.get(err as ProviderError)?.message ?? '', server, marker);
      }
      throw err;
    }
  }

  async function status(
    server: ServerRef,
    ref: { providerSnapshotId: string | null; pendingRef?: string | null; marker: SnapshotMarker },
  ): Promise<ProviderSnapshot> {
    if (!ref.providerSnapshotId) {
      const found = await findByMarker(server, ref.marker);
      if (!found) throw new ProviderError('failed', `AWS has no image named "${amiName(ref.marker)}": it was never created.`);
      return found;
    }
    const image = await describeById(ref.providerSnapshotId);
    if (image) return toSnapshot(image);
    const createdAt = createdAtOf(ref.pendingRef);
    if (createdAt !== null && now() - createdAt < config.visibilityGraceMs) {
      // Not visible yet: EC2 can answer NotFound for a new image for a while.
      return { providerSnapshotId: ref.providerSnapshotId, state: 'creating', sizeBytes: null };
    }
    return { providerSnapshotId: ref.providerSnapshotId, state: 'gone' };
  }

  async function deleteSnapshots(snapshotIds: string[]): Promise<void> {
    const left: string[] = [];
    for (const snapshotId of snapshotIds) {
      try {
        await call('DeleteSnapshot', () => client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })));
      } catch (err) {
        const code = awsCodeOf(err);
        if (code === 'InvalidSnapshot.NotFound') continue;
        if (code === 'InvalidSnapshot.InUse') {
          // Shared with another AMI (ours or not): that image still needs it.
          log.info({ snapshotId }, 'EBS snapshot still used by another image, kept');
          continue;
        }
        log.warn({ snapshotId, code: err instanceof ProviderError ? err.code : 'unknown' }, 'EBS snapshot not deleted');
        left.push(snapshotId);
        if (err instanceof ProviderError && (err.code === 'auth' || err.code === 'permission')) {
          throw new ProviderError('permission', `The image was deregistered, but the access key for provider "${slug}" may not delete its EBS snapshots (ec2:DeleteSnapshot): add that permission, then delete ${snapshotIds.join(', ')} in the EC2 console (Snapshots).`, { status: err.status });
        }
      }
    }
    if (left.length > 0) {
      throw new ProviderError('failed', `The image was deregistered but AWS did not delete EBS snapshot${left.length > 1 ? 's' : ''} ${left.join(', ')}: delete ${left.length > 1 ? 'them' : 'it'} in the EC2 console (Snapshots).`);
    }
  }

  async function deleteImage(_server: ServerRef, imageId: string): Promise<{ alreadyGone: boolean }> {
    // Read the EBS snapshot ids first: once the AMI is deregistered they cannot be looked up by
    // image. The ownership read just before the delete saw them already (awsec2-batch.ts).
    let snapshotIds = batch.takeSnapshotIds(imageId);
    if (snapshotIds === null) {
      const image = await describeById(imageId);
      if (!image || image.State === 'deregistered') return { alreadyGone: true };
      snapshotIds = snapshotIdsOf(image);
    }

    let notDeleted: string[];
    try {
      const out = await call('DeregisterImage', () =>
        client.send(new DeregisterImageCommand({ ImageId: imageId, DeleteAssociatedSnapshots: true })),
      );
      if (out.DeleteSnapshotResults === undefined) {
        // The endpoint ignored the option (older or EC2-compatible clouds): delete them ourselves.
        notDeleted = snapshotIds;
      } else {
        const results = out.DeleteSnapshotResults;
        notDeleted = results.filter((r) => r.ReturnCode !== 'success' && r.ReturnCode !== 'skipped').map((r) => r.SnapshotId ?? '').filter(Boolean);
        // Snapshots we knew of but the answer did not mention are treated as not deleted.
        for (const id of snapshotIds) if (!results.some((r) => r.SnapshotId === id)) notDeleted.push(id);
      }
    } catch (err) {
      const code = awsCodeOf(err) ?? '';
      if (GONE_AMI_CODES.has(code)) return { alreadyGone: true };
      if (!PARAMETER_CODES.has(code)) throw err;
      // DeleteAssociatedSnapshots not understood here: deregister plainly, then delete each snapshot.
      log.info({ imageId }, 'DeleteAssociatedSnapshots not supported, deleting EBS snapshots one by one');
      try {
        await call('DeregisterImage', () => client.send(new DeregisterImageCommand({ ImageId: imageId })));
      } catch (err2) {
        if (GONE_AMI_CODES.has(awsCodeOf(err2) ?? '')) return { alreadyGone: true };
        throw err2;
      }
      notDeleted = snapshotIds;
    }
    if (notDeleted.length > 0) await deleteSnapshots(notDeleted);
    return { alreadyGone: false };
  }

  const batch = createEc2BatchReads({
    defaultRegion: config.region, visibilityGraceMs: config.visibilityGraceMs, now,
    pages: (region, filters) => pagesIn(region, filters, EC2_BATCH), factsOf: (image) => factsOf(image),
  });

  return {
    slug,
    type: 'awsec2',
    displayName: 'AWS EC2',
    capabilities: CAPABILITIES,
    create: (server, marker) => inRegion(server, () => create(server, marker)),
    status: (server, ref) => inRegion(server, () => status(server, ref)),
    findByMarker: (server, marker) => inRegion(server, () => findByMarker(server, marker)),
    delete: (server, imageId) => inRegion(server, () => deleteImage(server, imageId)),
    describe: (server, imageId) => inRegion(server, () => describeImage(imageId)),
    describeMany: batch.describeMany,
    batchReads: batch.batchReads,
    listOurs,
  };

  /** The AMI's tags and `SourceInstanceId` (the instance CreateImage was called on). */
  async function describeImage(imageId: string): Promise<SnapshotFacts | null> {
    const image = await describeById(imageId);
    return image && image.State !== 'deregistered' ? factsOf(image) : null;
  }

  /**
   * DescribeImages with the filter `tag:ss:managed-by=scheduled-snapshots`, every page, in
   * each region reconciliation names (the regions our servers and records use) and the
   * entry's own.
   */
  async function* listOurs(regions: readonly string[] = []): AsyncIterable<SnapshotFacts> {
    const all = new Set([...regions, config.region ?? ''].filter((r) => AWS_REGION.test(r)));
    for (const region of all) {
      for await (const image of pagesIn(region, [{ Name: `tag:${AWS_TAG_MANAGED_BY}`, Values: [AWS_MANAGED_BY] }])) {
        if (image.State !== 'deregistered') yield { ...factsOf(image), region };
      }
    }
  }

  /** describePages in one region: a region is one call context, so each page is fetched inside it. */
  async function* pagesIn(region: string, filters: { Name: string; Values: string[] }[], pageSize?: number): AsyncIterable<Image> {
    const pages = describePages(filters, pageSize)[Symbol.asyncIterator]();
    for (;;) {
      const next = await regionOfCall.run(region, () => pages.next());
      if (next.done) return;
      yield next.value;
    }
  }

  function factsOf(image: Image): SnapshotFacts {
    const idTag = tagValue(image, AWS_TAG_SNAPSHOT_ID);
    const ours = tagValue(image, AWS_TAG_MANAGED_BY) === AWS_MANAGED_BY && idTag !== undefined && /^\d{1,15}$/.test(idTag);
    return { ...toSnapshot(image), name: image.Name ?? null, markerSnapshotId: ours ? Number(idTag) : null, sourceInstanceId: image.SourceInstanceId ?? null };
  }
}
