/**
 * Vultr adapter (API v2, `https://api.vultr.com`).
 *
 * Vultr snapshots have no labels, so the description carries our marker name (unique, it
 * contains our snapshot id) and is the only way to find one again. A snapshot is `pending`
 * until `complete`. Vultr's 30 requests/second limit is per client address, so the budget is
 * shared by every Vultr account this sidecar talks to through the same endpoint.
 */
import { z } from 'zod';
import type { ProviderContext } from './context.js';
import { bearerClient, restTuningShape } from './http/config.js';
import { type HttpFailure, parseBody, providerMessage } from './http/failures.js';
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
import { createListScan } from './list-scan.js';
import { markerIdOfName } from './marker.js';

export const VULTR_API_URL = 'https://api.vultr.com';
const NAME = 'Vultr';
const PER_PAGE = 100;
const MAX_PAGES = 500;
/** Vultr's largest page, for reading the whole list in batched reads. */
const SCAN_PAGE = 500;

export const vultrConfigSchema = z.object({
  type: z.literal('vultr'),
  /** Personal access token from the Vultr account's API settings. */
  apiKey: z.string().min(1, 'apiKey is required (a Vultr API key)'),
  ...restTuningShape,
});
export type VultrConfig = z.infer<typeof vultrConfigSchema>;

const snapshotSchema = z.object({
  id: z.string(),
  status: z.string(),
  description: z.string().nullable().optional(),
  size: z.number().nullable().optional(),
});
type VultrSnapshot = z.infer<typeof snapshotSchema>;

const listSchema = z.object({
  snapshots: z.array(snapshotSchema),
  meta: z.object({ total: z.number().optional(), links: z.object({ next: z.string().nullable().optional() }).optional() }).optional(),
});

function describeVultrFailure(f: HttpFailure): ProviderError | undefined {
  const opts = { status: f.status };
  if (f.status === 401) return new ProviderError('auth', `${NAME} refused the API key: check apiKey in the providers file.`, opts);
  if (f.status === 403) {
    return new ProviderError(
      'permission',
      `${NAME} refused the API key from this address: allow the sidecar's IP address in the key's access control list.`,
      opts,
    );
  }
  if (f.status === 400 || f.status === 422) {
    const said = providerMessage(f.body);
    return new ProviderError('invalid', `${NAME} refused the request as invalid${said ? `: ${said}` : ''}.`, opts);
  }
  return undefined;
}

/** Vultr's error body is `{ error, status }`; a 404 without it is a wrong URL, not a missing snapshot. */
function isGone(res: { status: number; data: unknown }): boolean {
  if (res.status !== 404) return false;
  const b = res.data as { error?: unknown; status?: unknown } | undefined;
  if (b && typeof b === 'object' && typeof b.error === 'string') return true;
  throw new ProviderError('bad_response', `${NAME} answered 404 without its error body: check apiUrl in the providers file.`, { status: 404 });
}

function stateOf(s: VultrSnapshot): ProviderSnapshotState {
  if (s.status === 'complete') return 'available';
  if (s.status === 'pending') return 'creating';
  if (s.status === 'deleted') return 'gone';
  return 'failed';
}

function snapshotOf(s: VultrSnapshot): ProviderSnapshot {
  const state = stateOf(s);
  return {
    providerSnapshotId: s.id,
    state,
    sizeBytes: state === 'available' && s.size ? s.size : null,
    reason: state === 'failed' ? `${NAME} reports snapshot ${s.id} as ${s.status}.` : null,
    name: s.description ?? null,
  };
}

/** Vultr ids are UUIDs; refuse anything that could change the path. */
function pathId(value: string, what: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new ProviderError('invalid', `"${value.slice(0, 40)}" is not a ${NAME} ${what} id.`);
  return value;
}

export function createVultrProvider(slug: string, config: VultrConfig, ctx: ProviderContext): Provider {
  const baseURL = (config.apiUrl ?? VULTR_API_URL).replace(/\/+$/, '');
  const log = ctx.log.child({ provider: slug, type: 'vultr' });
  // Per address, not per key: every Vultr account behind this endpoint shares one budget.
  // Vultr limits per source address, not per key: every key through one endpoint shares a budget.
  const http = bearerClient({
    type: 'vultr', baseURL, token: config.apiKey, budgetKey: '', config, ctx, log,
    providerName: NAME, describeFailure: describeVultrFailure,
  });

  /** The snapshot, or null when Vultr answers 400/404 for its id and the list (by `description` where known) does not show it either. */
  async function getSnapshot(id: string, description: string | null = null): Promise<VultrSnapshot | null> {
    const res = await http.request({ method: 'GET', url: `/v2/snapshots/${pathId(id, 'snapshot')}`, acceptStatuses: [400, 404] });
    if (res.status === 400 || isGone(res)) return stillListed(id, description);
    return parseBody(z.object({ snapshot: snapshotSchema }), res.data, NAME, `snapshot ${id}`).snapshot;
  }

  async function instanceExists(instanceId: string): Promise<boolean> {
    const res = await http.request({ method: 'GET', url: `/v2/instances/${pathId(instanceId, 'instance')}`, acceptStatuses: [404] });
    return !isGone(res);
  }

  /**
   * The first listed snapshot `pick` accepts, paging through `GET /v2/snapshots` (narrowed by
   * the `description` filter where we know the description).
   */
  async function listed(description: string | null, pick: (s: VultrSnapshot) => boolean): Promise<VultrSnapshot | null> {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const res = await http.request({
        method: 'GET',
        url: '/v2/snapshots',
        params: { ...(description === null ? {} : { description }), per_page: PER_PAGE, cursor },
      });
      const body = parseBody(listSchema, res.data, NAME, 'the snapshot list');
      const hit = body.snapshots.find(pick);
      if (hit) return hit;
      const next = body.meta?.links?.next;
      if (!next) return null;
      cursor = next;
    }
    log.warn({ description }, 'gave up paging Vultr snapshots');
    return null;
  }

  /**
   * Batched reads (describeMany): Vultr filters its list by one description at most, so the
   * batch is the account's whole list in pages of 500 — read only while that costs fewer
   * requests than a GET of each snapshot still missing (list-scan.ts).
   */
  const scan = createListScan<VultrSnapshot>({
    perPage: SCAN_PAGE, maxPages: MAX_PAGES, idOf: (s) => s.id,
    async page(cursor) {
      const res = await http.request({ method: 'GET', url: '/v2/snapshots', params: { per_page: SCAN_PAGE, ...(cursor ? { cursor } : {}) } });
      const body = parseBody(listSchema, res.data, NAME, 'the snapshot list');
      return { items: body.snapshots, total: body.meta?.total ?? null, next: body.meta?.links?.next || null };
    },
  });

  async function findByMarker(_server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null> {
    // Whatever the filter does (exact, substring, nothing), only an exact description is ours.
    const ours = await listed(marker.name, (s) => s.description === marker.name && s.status !== 'deleted');
    return ours ? snapshotOf(ours) : null;
  }

  /**
   * Vultr's reference lists both 400 and 404 for a snapshot id it does not know, and neither
   * proves the snapshot is gone: only its absence from the list does.
   */
  async function stillListed(id: string, description: string | null): Promise<VultrSnapshot | null> {
    return listed(description, (s) => s.id === id && s.status !== 'deleted');
  }

  return {
    slug,
    type: 'vultr',
    displayName: 'Vultr',
    capabilities: {
      create: true,
      delete: true,
      labels: false,
      slotsPerServer: null,
      notes: [
        'Vultr has no labels: our snapshots are recognised by their description (ss-…); do not edit it in the Vultr panel.',
      ],
    },

    async create(server, marker): Promise<CreateResult> {
      const instanceId = pathId(server.instanceId, 'instance');
      try {
        const res = await http.request({
          method: 'POST',
          url: '/v2/snapshots',
          data: { instance_id: instanceId, description: marker.name },
          acceptStatuses: [400, 404],
        });
        if (res.status === 400 || res.status === 404) {
          // Vultr does not document how it answers for an unknown instance: ask for the
          // instance, so "deleted server" and "invalid request" get the right sentence.
          if (!(await instanceExists(instanceId))) {
            throw new ProviderError('not_found', `${NAME} has no instance ${instanceId}: was it deleted?`, { status: res.status });
          }
          throw describeVultrFailure({ status: 400, body: res.data, method: 'POST', url: '/v2/snapshots', headers: res.headers, attempts: 1 })!;
        }
        const { snapshot } = parseBody(z.object({ snapshot: snapshotSchema }), res.data, NAME, 'the new snapshot');
        const snap = snapshotOf(snapshot);
        return { providerSnapshotId: snap.providerSnapshotId, state: snap.state, sizeBytes: snap.sizeBytes };
      } catch (err) {
        // After a 5xx, a timeout or an unreadable answer the snapshot may exist: look for it
        // before the engine tries again, so a retry never makes a second one.
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
            reason: `${NAME} has no snapshot described ${ref.marker.name}.`,
          }
        );
      }
      const snap = await getSnapshot(ref.providerSnapshotId, ref.marker.name);
      if (!snap) return { providerSnapshotId: ref.providerSnapshotId, state: 'gone', reason: `${NAME} no longer has snapshot ${ref.providerSnapshotId}.` };
      return snapshotOf(snap);
    },

    findByMarker,

    async delete(_server, providerSnapshotId): Promise<{ alreadyGone: boolean }> {
      const id = pathId(providerSnapshotId, 'snapshot');
      const res = await http.request({ method: 'DELETE', url: `/v2/snapshots/${id}`, acceptStatuses: [400, 404] });
      if (res.status !== 400 && !isGone(res)) return { alreadyGone: false };
      // 400 or 404 may both mean "unknown id": gone only if the list does not show it either.
      if ((await stillListed(id, null)) === null) return { alreadyGone: true };
      if (res.status === 400) throw describeVultrFailure({ status: 400, body: res.data, method: 'DELETE', url: '/v2/snapshots', headers: res.headers, attempts: 1 })!;
      throw new ProviderError('transient', `${NAME} answered that snapshot ${id} does not exist, but still lists it.`, { status: 404, params: { provider: NAME } });
    },

    async resolvePanelSnapshotId(_server, hostId): Promise<ProviderSnapshot> {
      const snap = await getSnapshot(hostId);
      if (!snap) throw new ProviderError('not_found', `${NAME} has no snapshot ${hostId}: was it deleted?`, { status: 404 });
      return snapshotOf(snap);
    },

    /** Vultr's snapshot says nothing of the instance it was made from: only the description tells it is ours. */
    async describe(_server, providerSnapshotId): Promise<SnapshotFacts | null> {
      const snap = await getSnapshot(providerSnapshotId);
      return snap ? factsOf(snap) : null;
    },

    async describeMany(refs): Promise<Map<string, SnapshotFacts>> {
      const found = await scan(new Set(refs.flatMap((r) => (r.providerSnapshotId ? [r.providerSnapshotId] : []))));
      const out = new Map<string, SnapshotFacts>();
      // A `deleted` one is left to its own read, which says it is gone.
      for (const [id, snap] of found) if (snap.status !== 'deleted') out.set(id, factsOf(snap));
      return out;
    },
    /** One call reads the whole list, however many snapshots it answers for. */
    batchReads: { size: 10_000 },

    /**
     * Vultr's `description` filter matches one description (how exactly is undocumented), not a
     * prefix: every page of the account's snapshots is read, and ours are those described by a marker name.
     */
    async *listOurs(): AsyncIterable<SnapshotFacts> {
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const res = await http.request({ method: 'GET', url: '/v2/snapshots', params: { per_page: PER_PAGE, cursor } });
        const body = parseBody(listSchema, res.data, NAME, 'the snapshot list');
        for (const snap of body.snapshots) if (snap.status !== 'deleted' && markerIdOfName(snap.description) !== null) yield factsOf(snap);
        const next = body.meta?.links?.next;
        if (!next) return;
        cursor = next;
      }
      log.warn('gave up paging Vultr snapshots while listing ours');
    },
  };
}

function factsOf(s: VultrSnapshot): SnapshotFacts {
  return { ...snapshotOf(s), name: s.description ?? null, markerSnapshotId: markerIdOfName(s.description), sourceInstanceId: null, sourceNeverReported: true };
}
