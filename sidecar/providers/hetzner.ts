/**
 * Hetzner Cloud adapter (`https://api.hetzner.cloud/v1`).
 *
 * A snapshot is an image of type `snapshot`, made by the server action `create_image`.
 * Hetzner gives the image id at once and keeps labels, so our marker is complete here:
 * description = marker name, labels `ss-snapshot-id=<id>` and `managed-by=scheduled-snapshots`,
 * found again with a label selector.
 */
import { z } from 'zod';
import type { ProviderContext } from './context.js';
import { bearerClient, restTuningShape } from './http/config.js';
import { bodyErrorCode, type HttpFailure, parseBody, providerMessage } from './http/failures.js';
import { parseRetryAfter, type ResponseHeaders } from './http/rate-limit.js';
import { MARKER_LABEL_ID, MARKER_LABEL_MANAGED_BY, MARKER_MANAGED_BY_VALUE, markerIdOfLabels, markerLabels, markerLabelSelector } from './marker.js';
import {
  ProviderError,
  type CreateResult,
  type Provider,
  type ProviderSnapshot,
  type ProviderSnapshotState,
  type ServerRef,
  type SnapshotFacts,
  type SnapshotMarker,
} from './types.js';

export const HETZNER_API_URL = 'https://api.hetzner.cloud/v1';
const NAME = 'Hetzner';
/** Hetzner's maximum page size for list calls. */
const PER_PAGE = 50;
/** Enough for 10,000 of our snapshots carrying one id; stops a misbehaving endpoint from looping. */
const MAX_PAGES = 200;

export const hetznerConfigSchema = z.object({
  type: z.literal('hetzner'),
  /** Project API token with read-write permission. */
  token: z.string().min(1, 'token is required (a Hetzner Cloud project API token with read-write permission)'),
  ...restTuningShape,
});
export type HetznerConfig = z.infer<typeof hetznerConfigSchema>;

const imageSchema = z.object({
  id: z.number(),
  status: z.string(),
  description: z.string().nullable().optional(),
  image_size: z.number().nullable().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  created_from: z.object({ id: z.number() }).nullable().optional(),
});
type HetznerImage = z.infer<typeof imageSchema>;

const actionSchema = z.object({
  id: z.number(),
  status: z.string(),
  error: z.object({ code: z.string().optional(), message: z.string().optional() }).nullable().optional(),
});

const createResponseSchema = z.object({ image: imageSchema, action: actionSchema });
const listResponseSchema = z.object({
  images: z.array(imageSchema),
  meta: z.object({ pagination: z.object({ next_page: z.number().nullable() }) }),
});

/**
 * Hetzner's RateLimit-Reset is when the bucket is *full* again (up to an hour away), while
 * the next request is allowed as soon as one request has been refilled — one second at the
 * standard 3600/h. Waiting for the full reset would turn every 429 into an hour's delay.
 */
export function hetznerRateLimitDelay(headers: ResponseHeaders, now: number): number | null {
  const untilFull = parseRetryAfter(headers, now);
  const limit = Number(headers['ratelimit-limit']);
  if (headers['retry-after'] !== undefined || untilFull === null || !Number.isFinite(limit) || limit <= 0) return untilFull;
  return Math.min(untilFull, Math.ceil(3_600_000 / limit));
}

/** Hetzner's error codes (in `{ error: { code } }`) turned into our classes and sentences. */
function describeHetznerFailure(f: HttpFailure): ProviderError | undefined {
  const code = bodyErrorCode(f.body);
  const said = providerMessage(f.body);
  const opts = { status: f.status, params: { provider: NAME, attempts: f.attempts, ...(code ? { providerCode: code } : {}) } };
  if (f.status === 401 || code === 'unauthorized') {
    return new ProviderError('auth', `${NAME} refused the token: check it in the providers file and that it has read-write permission.`, opts);
  }
  switch (code) {
    case 'forbidden':
    case 'token_readonly':
      return new ProviderError('permission', `${NAME} refused the token: check it has read-write permission.`, opts);
    case 'protected':
      return new ProviderError('invalid', `${NAME} protects this image from deletion: remove the protection in the Hetzner console first.`, opts);
    case 'resource_limit_exceeded':
      return new ProviderError('failed', `${NAME} says the project has reached a limit${said ? ` (${said})` : ''}: delete old snapshots or ask Hetzner to raise it.`, opts);
    case 'locked':
    case 'conflict':
      return new ProviderError('busy', `${NAME} is busy with another action on this server.`, opts);
    case 'invalid_input':
    case 'json_error':
      return new ProviderError('invalid', `${NAME} refused the request as invalid${said ? `: ${said}` : ''}.`, opts);
    case 'rate_limit_exceeded':
      return new ProviderError('rate_limited', `${NAME} is rate limiting our requests.`, { ...opts, retry: { kind: 'tried again', subject: 'they' } });
    case 'maintenance':
    case 'unavailable':
    case 'service_error':
    case 'server_error':
    case 'timeout':
      return new ProviderError('transient', `${NAME} is unavailable for now (${code}).`, opts);
    default:
      return undefined; // the generic sentence in http/failures.ts
  }
}

/**
 * A 404 that Hetzner itself answered, with its `not_found` body: the thing is gone. A 404
 * without that body (a wrong apiUrl, a proxy) must not be read as "already deleted".
 */
function isGone(res: { status: number; data: unknown }): boolean {
  if (res.status !== 404) return false;
  if (bodyErrorCode(res.data) === 'not_found') return true;
  throw new ProviderError('bad_response', `${NAME} answered 404 without its error body: check apiUrl in the providers file.`, { status: 404 });
}

function stateOf(image: HetznerImage): ProviderSnapshotState {
  if (image.status === 'available') return 'available';
  if (image.status === 'creating') return 'creating';
  return 'failed'; // `unavailable`
}

function snapshotOf(image: HetznerImage): ProviderSnapshot {
  const state = stateOf(image);
  return {
    providerSnapshotId: String(image.id),
    state,
    // Hetzner reports GB (10^9 bytes), null while creating.
    sizeBytes: image.image_size == null ? null : Math.round(image.image_size * 1e9),
    reason: state === 'failed' ? `${NAME} marks image ${image.id} as ${image.status}.` : null,
    name: image.description ?? null,
  };
}

/** Hetzner ids are integers; anything else is a configuration mistake worth naming. */
function numericId(value: string, what: string): string {
  if (!/^\d+$/.test(value)) throw new ProviderError('invalid', `${NAME} ${what} ids are numbers; "${value.slice(0, 40)}" is not one.`);
  return value;
}

export function createHetznerProvider(slug: string, config: HetznerConfig, ctx: ProviderContext): Provider {
  const baseURL = (config.apiUrl ?? HETZNER_API_URL).replace(/\/+$/, '');
  const log = ctx.log.child({ provider: slug, type: 'hetzner' });
  const http = bearerClient({
    type: 'hetzner', baseURL, token: config.token, budgetKey: config.token, config, ctx, log,
    providerName: NAME, describeFailure: describeHetznerFailure, rateLimitDelay: hetznerRateLimitDelay,
  });

  async function getImage(id: string): Promise<HetznerImage | null> {
    const res = await http.request({ method: 'GET', url: `/images/${numericId(id, 'image')}`, acceptStatuses: [404] });
    if (isGone(res)) return null;
    return parseBody(z.object({ image: imageSchema }), res.data, NAME, `image ${id}`).image;
  }

  async function findByMarker(server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null> {
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const res = await http.request({
        method: 'GET',
        url: '/images',
        params: { type: 'snapshot', label_selector: markerLabelSelector(marker), page, per_page: PER_PAGE },
      });
      const body = parseBody(listResponseSchema, res.data, NAME, 'the image list');
      // The labels narrow it down; the unique name and the source server make it certain
      // (another site sharing this project could have a snapshot with our numeric id).
      const ours = body.images.find(
        (i) =>
          i.description === marker.name &&
          (i.created_from == null || String(i.created_from.id) === server.instanceId),
      );
      if (ours) return snapshotOf(ours);
      if (body.meta.pagination.next_page === null) return null;
    }
    log.warn({ marker: marker.name }, 'gave up paging Hetzner images');
    return null;
  }

  return {
    slug,
    type: 'hetzner',
    displayName: 'Hetzner Cloud',
    capabilities: {
      create: true,
      delete: true,
      labels: true,
      slotsPerServer: null,
      notes: [
        'Hetzner snapshots carry the labels managed-by=scheduled-snapshots and ss-snapshot-id; keep them so a snapshot can be found again after a restart.',
        'Hetzner bills snapshots by size every month until they are deleted.',
      ],
    },

    async create(server, marker): Promise<CreateResult> {
      const serverId = numericId(server.instanceId, 'server');
      try {
        const res = await http.request({
          method: 'POST',
          url: `/servers/${serverId}/actions/create_image`,
          data: { type: 'snapshot', description: marker.name, labels: markerLabels(marker) },
          // Locked = another action runs on the server; the request was refused, so resending is safe.
          retryWhen: (f) => bodyErrorCode(f.body) === 'locked' || bodyErrorCode(f.body) === 'conflict',
          describeFailure: (f) =>
            f.status === 404
              ? new ProviderError('not_found', `${NAME} has no server ${serverId}: was it deleted?`, { status: 404 })
              : undefined,
        });
        const { image, action } = parseBody(createResponseSchema, res.data, NAME, 'the new snapshot');
        const snap = snapshotOf(image);
        return { providerSnapshotId: snap.providerSnapshotId, pendingRef: String(action.id), state: snap.state, sizeBytes: snap.sizeBytes };
      } catch (err) {
        // After a 5xx, a timeout or an unreadable answer Hetzner may still have started the
        // snapshot: look for our marker before the engine tries again.
        if (err instanceof ProviderError && (err.code === 'transient' || err.code === 'bad_response')) {
          const found = await findByMarker(server, marker).catch(() => null);
          if (found) {
            log.info({ marker: marker.name }, 'create answered badly but the snapshot exists');
            return { providerSnapshotId: found.providerSnapshotId, state: found.state, sizeBytes: found.sizeBytes };
          }
        }
        throw err;
      }
    },

    async status(server, ref): Promise<ProviderSnapshot> {
      if (!ref.providerSnapshotId) {
        return (
          (await findByMarker(server, ref.marker)) ?? {
            providerSnapshotId: '',
            state: 'gone',
            reason: `${NAME} has no snapshot labelled for ${ref.marker.name}.`,
          }
        );
      }
      const image = await getImage(ref.providerSnapshotId);
      if (image) return snapshotOf(image);
      // A failed create_image leaves no image behind; its action says why.
      if (ref.pendingRef && /^\d+$/.test(ref.pendingRef)) {
        const res = await http.request({ method: 'GET', url: `/actions/${ref.pendingRef}`, acceptStatuses: [404] });
        if (!isGone(res)) {
          const { action } = parseBody(z.object({ action: actionSchema }), res.data, NAME, `action ${ref.pendingRef}`);
          if (action.status === 'error') {
            const why = action.error?.message ? `: ${action.error.message.replace(/[.\s]+$/, '')}` : '';
            return { providerSnapshotId: ref.providerSnapshotId, state: 'failed', reason: `${NAME} could not create the snapshot${why}.` };
          }
        }
      }
      return { providerSnapshotId: ref.providerSnapshotId, state: 'gone', reason: `${NAME} no longer has image ${ref.providerSnapshotId}.` };
    },

    findByMarker,

    async delete(_server, providerSnapshotId): Promise<{ alreadyGone: boolean }> {
      const res = await http.request({
        method: 'DELETE',
        url: `/images/${numericId(providerSnapshotId, 'image')}`,
        acceptStatuses: [404],
      });
      return { alreadyGone: isGone(res) };
    },

    async resolvePanelSnapshotId(_server, hostId): Promise<ProviderSnapshot> {
      const image = await getImage(hostId);
      if (!image) throw new ProviderError('not_found', `${NAME} has no image ${hostId}: was it deleted?`, { status: 404 });
      return snapshotOf(image);
    },

    async describe(_server, providerSnapshotId): Promise<SnapshotFacts | null> {
      const image = await getImage(providerSnapshotId);
      return image ? factsOf(image) : null;
    },

    /**
     * Up to 50 of ours per request: `label_selector=managed-by=…,ss-snapshot-id in (…)` (a
     * set-based selector). Listing an image counts as reading it, like GET /images/{id}.
     */
    async describeMany(refs): Promise<Map<string, SnapshotFacts>> {
      const out = new Map<string, SnapshotFacts>();
      for (let i = 0; i < refs.length; i += PER_PAGE) {
        const ids = refs.slice(i, i + PER_PAGE).map((r) => r.snapshotId);
        const selector = `${MARKER_LABEL_MANAGED_BY}=${MARKER_MANAGED_BY_VALUE},${MARKER_LABEL_ID} in (${ids.join(',')})`;
        const res = await http.request({ method: 'GET', url: '/images', params: { type: 'snapshot', label_selector: selector, page: 1, per_page: PER_PAGE } });
        const body = parseBody(listResponseSchema, res.data, NAME, 'the image list');
        for (const image of body.images) out.set(String(image.id), factsOf(image));
      }
      return out;
    },

    /** Our snapshots by Hetzner's own filter: `label_selector=managed-by=scheduled-snapshots`. */
    async *listOurs(): AsyncIterable<SnapshotFacts> {
      const selector = `${MARKER_LABEL_MANAGED_BY}=${MARKER_MANAGED_BY_VALUE}`;
      for (let page = 1; page <= MAX_PAGES; page += 1) {
        const res = await http.request({ method: 'GET', url: '/images', params: { type: 'snapshot', label_selector: selector, page, per_page: PER_PAGE } });
        const body = parseBody(listResponseSchema, res.data, NAME, 'the image list');
        for (const image of body.images) yield factsOf(image);
        if (body.meta.pagination.next_page === null) return;
      }
      log.warn('gave up paging Hetzner images while listing ours');
    },
  };
}

/** Whose an image is: our labels, its description, and `created_from` (the source server). */
function factsOf(image: HetznerImage): SnapshotFacts {
  return {
    ...snapshotOf(image),
    name: image.description ?? null,
    markerSnapshotId: markerIdOfLabels(image.labels),
    sourceInstanceId: image.created_from ? String(image.created_from.id) : null,
  };
}
