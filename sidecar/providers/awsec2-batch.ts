/**
 * EC2's batched status reads (Provider.describeMany): DescribeImages with `Owners=self` and the
 * filter `image-id` naming up to BATCH images, one call per region (a region is its own API
 * endpoint), every page (MaxResults / NextToken), `IncludeDisabled` so a disabled AMI is not
 * taken for gone. Not `ImageIds`: one id AWS does not know (yet, or any more) fails the whole
 * call with `InvalidAMIID.NotFound`, while a filter simply leaves it out.
 *
 * Eventual consistency: a new AMI can be missing from DescribeImages for a while after
 * CreateImage. A missing image younger than `visibilityGraceMs` is still `creating`, exactly
 * what a single read would answer; an older one is left out of the answer, so its step reads
 * it on its own and that read decides whether it is gone.
 *
 * Deleting an AMI needs its EBS snapshot ids, which a deregistered image no longer tells: the
 * ownership read before a delete remembers them (they never change once the image exists), so
 * the delete itself does not read the image a second time.
 */
import type { Image } from '@aws-sdk/client-ec2';
import { AWS_REGION, createdAtOf, snapshotIdsOf } from './awsec2-names.js';
import type { BatchReadOptions, BatchReadRef, SnapshotFacts } from './types.js';

/** Ids per DescribeImages call: EC2 takes up to 200 values in one filter. */
export const EC2_BATCH = 200;
/** How long a remembered list of EBS snapshot ids serves the delete that follows its read. */
const REMEMBER_MS = 10 * 60_000;
const REMEMBER_MAX = 20_000;

export interface Ec2BatchDeps {
  /** The entry's own region, for servers without one. */
  defaultRegion: string | undefined;
  visibilityGraceMs: number;
  now: () => number;
  /** Every page of DescribeImages (owner self) with these filters, in this region. */
  pages(region: string, filters: { Name: string; Values: string[] }[]): AsyncIterable<Image>;
  factsOf(image: Image): SnapshotFacts;
}

export function createEc2BatchReads(deps: Ec2BatchDeps) {
  const regionOf = (ref: Pick<BatchReadRef, 'region'>): string =>
    (ref.region && AWS_REGION.test(ref.region) ? ref.region : deps.defaultRegion) ?? '';
  const remembered = new Map<string, { snapshotIds: string[]; at: number }>();

  function remember(image: Image): void {
    if (!image.ImageId) return;
    remembered.delete(image.ImageId);
    remembered.set(image.ImageId, { snapshotIds: snapshotIdsOf(image), at: deps.now() });
    if (remembered.size > REMEMBER_MAX) remembered.delete(remembered.keys().next().value!);
  }

  const batchReads: BatchReadOptions = { size: EC2_BATCH, groupOf: regionOf };

  async function describeMany(refs: ReadonlyArray<BatchReadRef>): Promise<Map<string, SnapshotFacts>> {
    const out = new Map<string, SnapshotFacts>();
    const byRegion = new Map<string, BatchReadRef[]>();
    for (const ref of refs) {
      if (!ref.providerSnapshotId) continue;
      const region = regionOf(ref);
      if (!region) continue; // its own read says what is missing
      byRegion.set(region, [...(byRegion.get(region) ?? []), ref]);
    }
    for (const [region, group] of byRegion) {
      for (let i = 0; i < group.length; i += EC2_BATCH) {
        const part = group.slice(i, i + EC2_BATCH);
        const asked = new Map(part.map((r) => [r.providerSnapshotId!, r]));
        for await (const image of deps.pages(region, [{ Name: 'image-id', Values: [...asked.keys()] }])) {
          const ref = image.ImageId ? asked.get(image.ImageId) : undefined;
          // A deregistered image lingers for a while: its own read says it is gone.
          if (!ref || image.State === 'deregistered') continue;
          out.set(image.ImageId!, { ...deps.factsOf(image), region });
          if (ref.purpose === 'delete') remember(image);
        }
        for (const [id, ref] of asked) {
          const createdAt = createdAtOf(ref.pendingRef);
          if (out.has(id) || ref.purpose !== 'follow' || createdAt === null || deps.now() - createdAt >= deps.visibilityGraceMs) continue;
          out.set(id, { providerSnapshotId: id, state: 'creating', sizeBytes: null, name: ref.name ?? null, markerSnapshotId: null, sourceInstanceId: null, region });
        }
      }
    }
    return out;
  }

  /** The EBS snapshot ids the ownership read saw for this image just before its delete, if fresh. */
  function takeSnapshotIds(imageId: string): string[] | null {
    const r = remembered.get(imageId);
    remembered.delete(imageId);
    return r && deps.now() - r.at < REMEMBER_MS ? r.snapshotIds : null;
  }

  return { batchReads, describeMany, takeSnapshotIds };
}
