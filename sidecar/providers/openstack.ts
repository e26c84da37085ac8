/**
 * OpenStack adapter (Keystone v3 + Nova + Glance): a server snapshot is a Glance image made
 * with Nova's `createImage` server action.
 *
 * Session (openstack-session.ts): password authentication scoped to the project gives a token (`X-Subject-Token`)
 * and a service catalog; we take the `compute` and `image` endpoints of the configured
 * region and interface (`public` by default). The token is reused until shortly before its
 * `expires_at`; a 401 from Nova or Glance (token revoked, clock skew) triggers exactly one
 * new authentication and one resend — never a loop.
 *
 * Create: `POST {compute}/servers/{id}/action {createImage}` with
 * `OpenStack-API-Version: compute 2.45`, where Nova answers `{ image_id }`. Clouds older than
 * 2.45 either ignore the header or refuse it with 406; either way the id then comes from the
 * `Location` header (a 406 means nothing happened, so the request is sent once more without
 * the header, and later creates skip it). Our snapshot id travels as image metadata, which
 * Glance shows as image properties, and the image name is the marker name.
 *
 * A create that fails ambiguously (5xx, timeout, reset: Nova may have acted) is followed at
 * once by a look for our image by name in Glance, so an accepted request is adopted instead of
 * repeated.
 */
import { z } from 'zod';
import type { ProviderContext } from './context.js';
import type { HttpResponse } from './http/client.js';
import { restTuningShape } from './http/config.js';
import { parseBody } from './http/failures.js';
import { createOpenstackSession } from './openstack-session.js';
import { createVolumeSnapshots } from './openstack-volumes.js';
import {
  ProviderError,
  type CreateResult,
  type Provider,
  type ProviderCapabilities,
  type BatchReadRef,
  type ProviderSnapshot,
  type ServerRef,
  type SnapshotFacts,
  type SnapshotMarker,
} from './types.js';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const optionalText = z.string().min(1).optional();

export const openstackConfigSchema = z.object({
  type: z.literal('openstack'),
  /** Keystone, without `/v3` (a trailing `/v3` is tolerated and dropped). */
  authUrl: httpUrl,
  /**
   * Either a Keystone v3 application credential (id + secret; it carries its own project
   * scope), or a user and password scoped to a project. Domains and the project may be given
   * by name or by id.
   */
  applicationCredentialId: optionalText,
  applicationCredentialSecret: optionalText,
  username: optionalText,
  password: optionalText,
  userDomainName: optionalText,
  userDomainId: optionalText,
  projectName: optionalText,
  projectId: optionalText,
  projectDomainName: optionalText,
  projectDomainId: optionalText,
  region: z.string().min(1, 'region is required'),
  /** Which catalog endpoints to use. */
  interface: z.enum(['public', 'internal', 'admin']).default('public'),
  /** `apiUrl` overrides the compute (Nova) endpoint from the catalog; also budget, timeoutMs, maxRateLimitWaitMs. */
  ...restTuningShape,
  /** Overrides the image (Glance) endpoint from the catalog. */
  imageUrl: httpUrl.optional(),
  /** Overrides the block-storage (Cinder v3, with the project id) endpoint from the catalog. */
  volumeUrl: httpUrl.optional(),
  /** Start a new session this long before the token's `expires_at`. */
  tokenRefreshMarginMs: z.number().int().min(0).max(3_600_000).default(120_000),
}).strict().superRefine((c, ctx) => {
  const missing = (field: string, message: string): void => void ctx.addIssue({ code: 'custom', path: [field], message });
  if (c.applicationCredentialId || c.applicationCredentialSecret) {
    if (!c.applicationCredentialId) missing('applicationCredentialId', 'applicationCredentialId is required with applicationCredentialSecret');
    if (!c.applicationCredentialSecret) missing('applicationCredentialSecret', 'applicationCredentialSecret is required with applicationCredentialId');
    return;
  }
  if (!c.username) missing('username', 'username is required (or use applicationCredentialId and applicationCredentialSecret)');
  else if (!c.password) missing('password', 'password is required');
  else if (!c.userDomainName && !c.userDomainId) missing('userDomainName', 'userDomainName (or userDomainId) is required');
  else if (!c.projectName && !c.projectId) missing('projectName', 'projectName (or projectId) is required');
  else if (!c.projectId && !c.projectDomainName && !c.projectDomainId) missing('projectDomainName', 'projectDomainName (or projectDomainId) is required');
});

export type OpenstackConfig = z.input<typeof openstackConfigSchema>;

/** Image metadata keys (Glance properties) that mark an image as ours. */
export const OPENSTACK_META_SNAPSHOT_ID = 'ss_snapshot_id';
export const OPENSTACK_META_MANAGED_BY = 'ss_managed_by';
export const OPENSTACK_MANAGED_BY = 'scheduled-snapshots';
export const NOVA_MICROVERSION = 'compute 2.45';

const CAPABILITIES: ProviderCapabilities = {
  create: true,
  delete: true,
  labels: true,
  slotsPerServer: null,
  notes: ['OpenStack snapshots are Glance images of the server; deleting one deletes the image.'],
};

const imageSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullable().optional(),
  status: z.string(),
  size: z.number().nullable().optional(),
});
export type GlanceImage = z.infer<typeof imageSchema>;

/** Image ids per list request (`id=in:…`): 100 UUIDs keep the URL under 4 KB. */
const BATCH = 100;

const imageListSchema = z.object({
  images: z.array(imageSchema),
  next: z.string().optional(),
});

/** Image name: Glance allows up to 255 characters. */
export function openstackImageName(marker: SnapshotMarker): string {
  return marker.name.slice(0, 255);
}

export function createOpenstackProvider(slug: string, input: OpenstackConfig, ctx: ProviderContext): Provider {
  const config = openstackConfigSchema.parse(input);
  const log = ctx.log.child({ provider: slug, type: 'openstack' });
  const { currentSession, authed } = createOpenstackSession(slug, config, ctx, log);
  const { volumeSnapshotIds, withVolumes, deleteVolumeSnapshots, rememberListedVolumes, takeListedVolumes } = createVolumeSnapshots(authed, log, ctx.now ?? Date.now);

  // ------------------------------------------------------------------ images

  function toSnapshot(img: GlanceImage): ProviderSnapshot {
    switch (img.status) {
      case 'queued':
      case 'saving':
      case 'uploading':
      case 'importing':
        return { providerSnapshotId: img.id, state: 'creating', sizeBytes: null };
      case 'active':
      case 'deactivated': // still there (and billed); an admin switched it off
        return { providerSnapshotId: img.id, state: 'available', sizeBytes: img.size ?? null };
      case 'killed':
        return { providerSnapshotId: img.id, state: 'failed', reason: 'OpenStack could not save the image (status killed).' };
      case 'deleted':
      case 'pending_delete':
        return { providerSnapshotId: img.id, state: 'gone' };
      default:
        log.warn({ imageId: img.id, status: img.status }, 'unknown Glance image status, treating as still creating');
        return { providerSnapshotId: img.id, state: 'creating', sizeBytes: null };
    }
  }

  async function getImage(imageId: string): Promise<GlanceImage | null> {
    try {
      const res = await authed('Glance', { method: 'GET', url: `/v2/images/${encodeURIComponent(imageId)}` });
      return parseBody(imageSchema, res.data, 'OpenStack Glance', 'the image');
    } catch (err) {
      if (err instanceof ProviderError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * `next` from Glance is a path under the image endpoint (`/v2/images?marker=…`). A link to
   * another origin (absolute or `//host/…`) is never followed: paging stops there, so a
   * misbehaving endpoint cannot send our token elsewhere.
   */
  function nextPath(next: string, imageUrl: string): string | null {
    const base = new URL(imageUrl);
    let u: URL;
    try {
      u = new URL(next, base);
    } catch {
      return null;
    }
    if (u.origin !== base.origin) {
      log.warn({ origin: u.origin }, 'Glance pagination link points at another origin; not followed');
      return null;
    }
    const basePath = base.pathname.replace(/\/+$/, '');
    const path = u.pathname.startsWith(basePath) ? u.pathname.slice(basePath.length) : u.pathname;
    return (path.startsWith('/') ? path : `/${path}`) + u.search;
  }

  async function imagesNamed(name: string): Promise<GlanceImage[]> {
    const s = await currentSession();
    const found: GlanceImage[] = [];
    let url: string | null = `/v2/images?${new URLSearchParams({ name, ...(s.projectId ? { owner: s.projectId } : {}), limit: '100' }).toString()}`;
    for (let page = 0; url && page < 1000; page++) {
      const res: HttpResponse<unknown> = await authed('Glance', { method: 'GET', url });
      const list = parseBody(imageListSchema, res.data, 'OpenStack Glance', 'the image list');
      for (const img of list.images) if (img.name === name) found.push(img);
      url = list.next ? nextPath(list.next, s.imageUrl) : null;
    }
    return found;
  }

  function belongsTo(img: GlanceImage, marker: SnapshotMarker): boolean {
    const id = img[OPENSTACK_META_SNAPSHOT_ID];
    return img.name === openstackImageName(marker) && (id === undefined || String(id) === String(marker.snapshotId));
  }

  async function findByMarker(_server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null> {
    const images = (await imagesNamed(openstackImageName(marker))).filter((i) => belongsTo(i, marker));
    const live = images.find((i) => i.status !== 'deleted' && i.status !== 'pending_delete') ?? images[0];
    return live ? withVolumes(live, toSnapshot(live)) : null;
  }

  // ------------------------------------------------------------------ create

  /** Set once a cloud refused microversion 2.45 with 406: later creates go without it. */
  let legacyCompute = false;

  function imageIdFrom(res: HttpResponse<unknown>): string | null {
    const fromBody = (res.data as { image_id?: unknown } | undefined)?.image_id;
    if (typeof fromBody === 'string' && fromBody) return fromBody;
    const location = res.headers.location;
    if (location) {
      const m = /\/images\/([^/?#]+)\/?(?:[?#].*)?$/.exec(location);
      if (m?.[1]) return decodeURIComponent(m[1]);
    }
    return null;
  }

  async function create(server: ServerRef, marker: SnapshotMarker): Promise<CreateResult> {
    const name = openstackImageName(marker);
    const send = (withMicroversion: boolean): Promise<HttpResponse<unknown>> =>
      authed('Nova', {
        method: 'POST',
        url: `/servers/${encodeURIComponent(server.instanceId)}/action`,
        headers: withMicroversion ? { 'OpenStack-API-Version': NOVA_MICROVERSION } : {},
        data: {
          createImage: {
            name,
            metadata: { [OPENSTACK_META_SNAPSHOT_ID]: String(marker.snapshotId), [OPENSTACK_META_MANAGED_BY]: OPENSTACK_MANAGED_BY },
          },
        },
      });

    let res: HttpResponse<unknown>;
    try {
      try {
        res = await send(!legacyCompute);
      } catch (err) {
        // 406: "Version 2.45 is not supported by the API" — nothing was done; ask the old way.
        if (!(err instanceof ProviderError && err.status === 406) || legacyCompute) throw err;
        log.info('Nova does not offer microversion 2.45; using the Location header');
        legacyCompute = true;
        res = await send(false);
      }
    } catch (err) {
      // 5xx / timeout / reset: Nova may have made the image. 409: the server may be busy
      // saving our own image (create repeated after a crash). Either way, look for it first.
      if (err instanceof ProviderError && (err.code === 'transient' || err.code === 'busy')) {
        const found = await findByMarker(server, marker).catch(() => null);
        if (found) {
          log.info({ imageId: found.providerSnapshotId, code: err.code }, 'createImage failed, but the image exists: adopted');
          return { providerSnapshotId: found.providerSnapshotId, state: found.state, sizeBytes: null };
        }
      }
      throw err;
    }
    const imageId = imageIdFrom(res);
    if (!imageId) {
      // Accepted, but neither body nor Location names the image: find it by its name.
      const found = await findByMarker(server, marker);
      if (found) return { providerSnapshotId: found.providerSnapshotId, state: found.state, sizeBytes: null };
      throw new ProviderError('bad_response', 'OpenStack Nova accepted createImage but did not say which image it made (no image_id, no Location).');
    }
    return { providerSnapshotId: imageId, state: 'creating', sizeBytes: null };
  }

  // ------------------------------------------------------------------ status, delete

  async function status(
    server: ServerRef,
    ref: { providerSnapshotId: string | null; pendingRef?: string | null; marker: SnapshotMarker },
  ): Promise<ProviderSnapshot> {
    if (!ref.providerSnapshotId) {
      const found = await findByMarker(server, ref.marker);
      if (!found) throw new ProviderError('failed', `OpenStack has no image named "${openstackImageName(ref.marker)}": it was never created.`);
      return found;
    }
    const img = await getImage(ref.providerSnapshotId);
    return img ? withVolumes(img, toSnapshot(img)) : { providerSnapshotId: ref.providerSnapshotId, state: 'gone' };
  }

  async function deleteImage(_server: ServerRef, imageId: string): Promise<{ alreadyGone: boolean }> {
    // A volume-backed server's image only points at Cinder snapshots: deleting the image
    // alone would leave them, billed and untracked. The ownership list read just before names
    // them already (describeMany); otherwise the image is read for them.
    let volumeIds = takeListedVolumes(imageId);
    if (volumeIds === null) {
      const img = await getImage(imageId);
      if (!img || img.status === 'deleted') return { alreadyGone: true };
      volumeIds = volumeSnapshotIds(img);
    }
    await deleteVolumeSnapshots(volumeIds);
    try {
      await authed('Glance', { method: 'DELETE', url: `/v2/images/${encodeURIComponent(imageId)}` });
      return { alreadyGone: false };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (err.status === 404) return { alreadyGone: true };
      // Glance refuses to delete a protected image with a 403 whose body is often plain text:
      // ask the image itself rather than parse the refusal.
      if (err.status === 403) {
        const img = await getImage(imageId).catch(() => null);
        if (img?.protected === true) {
          throw new ProviderError('invalid', 'The image is protected in OpenStack: unprotect it (openstack image set --unprotected) and try again.', { status: 403 });
        }
      }
      throw err;
    }
  }

  return {
    slug,
    type: 'openstack',
    displayName: 'OpenStack',
    capabilities: CAPABILITIES,
    create,
    status,
    findByMarker,
    delete: deleteImage,
    describe: (_server, imageId) => describeImage(imageId),
    describeMany,
    batchReads: { size: BATCH },
    listOurs,
  };

  /**
   * Up to BATCH images per request with Glance's `in:` operator, `GET /v2/images?id=in:a,b,…`,
   * every page (`next`). An image followed to available that is made of Cinder snapshots is
   * ready once they are (withVolumes, as a single read); one about to be deleted leaves the
   * ids of its volume snapshots for the delete. A deleted image is left out: its own read says so.
   */
  async function describeMany(refs: ReadonlyArray<BatchReadRef>): Promise<Map<string, SnapshotFacts>> {
    const s = await currentSession();
    const out = new Map<string, SnapshotFacts>();
    const withIds = refs.filter((r) => r.providerSnapshotId);
    for (let i = 0; i < withIds.length; i += BATCH) {
      const asked = new Map(withIds.slice(i, i + BATCH).map((r) => [r.providerSnapshotId!, r]));
      let url: string | null = `/v2/images?${new URLSearchParams({ id: `in:${[...asked.keys()].join(',')}`, ...(s.projectId ? { owner: s.projectId } : {}), limit: String(BATCH) }).toString()}`;
      for (let page = 0; url && page < 100; page++) {
        const res: HttpResponse<unknown> = await authed('Glance', { method: 'GET', url });
        const list = parseBody(imageListSchema, res.data, 'OpenStack Glance', 'the image list');
        for (const img of list.images) {
          const ref = asked.get(img.id);
          const facts = factsOf(img);
          if (!ref || facts.state === 'gone') continue;
          if (ref.purpose === 'delete') { rememberListedVolumes(img); out.set(img.id, facts); continue; }
          // A Cinder read that fails leaves this one to its own read, not the whole list.
          const snap = await withVolumes(img, toSnapshot(img)).catch(() => null);
          if (snap) out.set(img.id, { ...facts, ...snap });
        }
        url = list.next ? nextPath(list.next, s.imageUrl) : null;
      }
    }
    return out;
  }

  /** The Glance image's name, our metadata and `instance_uuid` (the server Nova made it from). */
  async function describeImage(imageId: string): Promise<SnapshotFacts | null> {
    const img = await getImage(imageId);
    return img && img.status !== 'deleted' && img.status !== 'pending_delete' ? factsOf(img) : null;
  }

  /** Glance filters the list on a custom property: `?ss_managed_by=scheduled-snapshots`, every page. */
  async function* listOurs(): AsyncIterable<SnapshotFacts> {
    const s = await currentSession();
    let url: string | null = `/v2/images?${new URLSearchParams({ [OPENSTACK_META_MANAGED_BY]: OPENSTACK_MANAGED_BY, ...(s.projectId ? { owner: s.projectId } : {}), limit: '100' }).toString()}`;
    for (let page = 0; url && page < 1000; page++) {
      const res: HttpResponse<unknown> = await authed('Glance', { method: 'GET', url });
      const list = parseBody(imageListSchema, res.data, 'OpenStack Glance', 'the image list');
      for (const img of list.images) {
        const facts = factsOf(img);
        if (facts.markerSnapshotId !== null && facts.state !== 'gone') yield facts;
      }
      url = list.next ? nextPath(list.next, s.imageUrl) : null;
    }
  }

  function factsOf(img: GlanceImage): SnapshotFacts {
    const id = img[OPENSTACK_META_SNAPSHOT_ID];
    const ours = img[OPENSTACK_META_MANAGED_BY] === OPENSTACK_MANAGED_BY && typeof id === 'string' && /^\d{1,15}$/.test(id);
    const source = img.instance_uuid;
    return { ...toSnapshot(img), name: img.name ?? null, markerSnapshotId: ours ? Number(id) : null, sourceInstanceId: typeof source === 'string' && source ? source : null };
  }
}
