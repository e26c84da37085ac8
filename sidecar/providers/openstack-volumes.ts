/**
 * The volume snapshots behind an OpenStack image of a volume-backed (boot-from-volume) server.
 *
 * Nova's createImage on such a server snapshots each volume in Cinder and makes a zero-byte
 * Glance image whose `block_device_mapping` property (a JSON string) names those snapshots.
 * They hold the data and are billed on their own: the image is ready once they are, its size
 * is theirs, and deleting the image must delete them too (Cinder v3), or they stay, untracked.
 */
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { HttpResponse } from './http/client.js';
import { parseBody } from './http/failures.js';
import type { GlanceImage } from './openstack.js';
import type { OpenstackSession } from './openstack-session.js';
import { ProviderError, type ProviderSnapshot } from './types.js';

const cinderSnapshotSchema = z.object({ snapshot: z.object({ id: z.string(), status: z.string(), size: z.number().nullable().optional() }) });

/** How long the volume snapshot ids an ownership list saw serve the delete that follows it. */
const REMEMBER_MS = 10 * 60_000;

export function createVolumeSnapshots(authed: OpenstackSession['authed'], log: Logger, now: () => number) {
  /** The Cinder snapshot ids an image's `block_device_mapping` names (none for an ordinary image). */
  function volumeSnapshotIds(img: GlanceImage): string[] {
    let bdm: unknown = img.block_device_mapping;
    if (typeof bdm === 'string') {
      try {
        bdm = JSON.parse(bdm);
      } catch {
        log.warn({ imageId: img.id }, 'unreadable block_device_mapping on a Glance image');
        return [];
      }
    }
    if (!Array.isArray(bdm)) return [];
    return bdm
      .filter((m): m is { snapshot_id: string } => !!m && typeof m === 'object' && typeof (m as { snapshot_id?: unknown }).snapshot_id === 'string')
      .map((m) => m.snapshot_id);
  }

  /** An image that is active in Glance is ready once its volume snapshots are; its size is theirs. */
  async function withVolumes(img: GlanceImage, snap: ProviderSnapshot): Promise<ProviderSnapshot> {
    const ids = snap.state === 'available' ? volumeSnapshotIds(img) : [];
    if (ids.length === 0) return snap;
    let gib = 0;
    for (const id of ids) {
      let res: HttpResponse<unknown>;
      try {
        res = await authed('Cinder', { method: 'GET', url: `/snapshots/${encodeURIComponent(id)}` });
      } catch (err) {
        if (err instanceof ProviderError && err.status === 404) {
          return { providerSnapshotId: img.id, state: 'failed', reason: `OpenStack Cinder no longer has volume snapshot ${id} that image ${img.id} is made of.` };
        }
        throw err;
      }
      const v = parseBody(cinderSnapshotSchema, res.data, 'OpenStack Cinder', `volume snapshot ${id}`).snapshot;
      if (v.status === 'creating') return { providerSnapshotId: img.id, state: 'creating', sizeBytes: null };
      if (v.status !== 'available') {
        return { providerSnapshotId: img.id, state: 'failed', reason: `OpenStack Cinder reports volume snapshot ${id} of this image as ${v.status}.` };
      }
      gib += v.size ?? 0;
    }
    return { ...snap, sizeBytes: gib * 1024 ** 3 };
  }

  /** Delete the image's volume snapshots first: a retry still finds them through the image. */
  async function deleteVolumeSnapshots(ids: string[]): Promise<void> {
    const left: string[] = [];
    for (const id of ids) {
      try {
        await authed('Cinder', { method: 'DELETE', url: `/snapshots/${encodeURIComponent(id)}` });
      } catch (err) {
        if (err instanceof ProviderError && err.status === 404) continue;
        if (err instanceof ProviderError && err.retryable) throw err;
        log.warn({ snapshotId: id, code: err instanceof ProviderError ? err.code : 'unknown' }, 'Cinder volume snapshot not deleted');
        left.push(id);
      }
    }
    if (left.length > 0) {
      throw new ProviderError('failed', `OpenStack Cinder did not delete volume snapshot${left.length > 1 ? 's' : ''} ${left.join(', ')} of this image, so the image was kept: delete ${left.length > 1 ? 'them' : 'it'} (openstack volume snapshot delete), then try again.`);
    }
  }

  /**
   * The ownership read before a delete lists the image (describeMany); its volume snapshot ids
   * (set when Nova made the image, never changed) are kept so the delete need not read it again.
   */
  const listed = new Map<string, { ids: string[]; at: number }>();
  function rememberListedVolumes(img: GlanceImage): void {
    listed.delete(img.id);
    listed.set(img.id, { ids: volumeSnapshotIds(img), at: now() });
    if (listed.size > 20_000) listed.delete(listed.keys().next().value!);
  }
  function takeListedVolumes(imageId: string): string[] | null {
    const r = listed.get(imageId);
    listed.delete(imageId);
    return r && now() - r.at < REMEMBER_MS ? r.ids : null;
  }

  return { volumeSnapshotIds, withVolumes, deleteVolumeSnapshots, rememberListedVolumes, takeListedVolumes };
}
