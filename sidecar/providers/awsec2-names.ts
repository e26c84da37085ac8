/**
 * How our AMIs are named and tagged, and what we read back from an image: pure helpers of the
 * EC2 adapter (awsec2.ts), kept apart so the adapter stays small.
 */
import type { Image } from '@aws-sdk/client-ec2';
import { cleanMessage } from './awsec2-errors.js';
import type { ProviderSnapshot, SnapshotMarker } from './types.js';

/** An AWS region name (us-east-1, us-gov-west-1); anything else is not used as a region. */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Tag keys we put on every AMI and EBS snapshot we create. */
export const AWS_TAG_SNAPSHOT_ID = 'ss:snapshot-id';
export const AWS_TAG_MANAGED_BY = 'ss:managed-by';
export const AWS_MANAGED_BY = 'scheduled-snapshots';

/** AMI names: 3–128 characters of letters, digits and ()[] ./-'@_ (CreateImage's rule). */
export function amiName(marker: SnapshotMarker): string {
  const cleaned = marker.name.replace(/[^A-Za-z0-9()[\] ./'@_-]/g, '-').slice(0, 128);
  return cleaned.length >= 3 ? cleaned : `ss-${marker.snapshotId}`.padEnd(3, '-');
}

/** `pendingRef` of an image we created: when CreateImage was answered (ms since the epoch, this machine's clock). */
const CREATED_AT = 'created-at:';
export const createdRef = (at: number): string => `${CREATED_AT}${at}`;
export function createdAtOf(pendingRef: string | null | undefined): number | null {
  if (!pendingRef?.startsWith(CREATED_AT)) return null;
  const at = Number(pendingRef.slice(CREATED_AT.length));
  return Number.isFinite(at) ? at : null;
}

export function tagValue(image: Image, key: string): string | undefined {
  return image.Tags?.find((t) => t.Key === key)?.Value;
}

export function snapshotIdsOf(image: Image): string[] {
  const ids: string[] = [];
  for (const m of image.BlockDeviceMappings ?? []) if (m.Ebs?.SnapshotId) ids.push(m.Ebs.SnapshotId);
  return ids;
}

/** An AMI's state as ours: `onUnknown` hears of a state AWS may add later (taken as still creating). */
export function snapshotOfImage(image: Image, secrets: string[], onUnknown: (id: string, state: string | undefined) => void): ProviderSnapshot {
  const id = image.ImageId ?? '';
  switch (image.State) {
    case 'pending':
    case 'transient':
      return { providerSnapshotId: id, state: 'creating', sizeBytes: null };
    case 'available':
    case 'disabled': // still exists and still costs storage; it can be deleted
      return { providerSnapshotId: id, state: 'available', sizeBytes: null };
    case 'failed':
    case 'invalid':
    case 'error': {
      const why = cleanMessage(image.StateReason?.Message ?? image.StateReason?.Code ?? '', secrets);
      return {
        providerSnapshotId: id,
        state: 'failed',
        reason: why ? `AWS could not create the image: ${why}` : `AWS could not create the image (state ${image.State}).`,
      };
    }
    case 'deregistered':
      return { providerSnapshotId: id, state: 'gone' };
    default:
      onUnknown(id, image.State);
      return { providerSnapshotId: id, state: 'creating', sizeBytes: null };
  }
}
