/**
 * DigitalOcean adapter (`https://api.digitalocean.com`).
 *
 * A droplet snapshot is a droplet *action*, and the answer carries only the action id. The
 * seed's module stopped there and so could never delete; we follow the action and, once it
 * completes, find the snapshot by our unique name among the droplet's snapshots. Until then
 * `create()` returns `pendingRef` = action id and `status()` answers `creating` with an empty
 * `providerSnapshotId` (the id does not exist yet at DigitalOcean).
 *
 * The host panel stores an action id for its own snapshots too (`$result['snapshot-id']`);
 * `resolvePanelSnapshotId` follows it the same way. Its snapshot has the host's name, not
 * ours, so the action's time span picks it: a droplet runs one snapshot at a time, and the
 * snapshot an action made is the one created within that action's start and end.
 *
 * Snapshots are tagged after creation (best effort) so they can be told apart in the panel.
 */
import { z } from 'zod';
import type { ProviderContext } from './context.js';
import { type HttpResponse } from './http/client.js';
import { bearerClient, restTuningShape } from './http/config.js';
import { bodyErrorCode, type HttpFailure, parseBody, providerMessage } from './http/failures.js';
import {
  ProviderError,
  type CreateResult,
  type Provider,
  type ProviderSnapshot,
  type ServerRef,
  type SnapshotFacts,
  type SnapshotMarker,
} from './types.js';
import { createDoBatchReads } from './digitalocean-batch.js';
import { markerIdOfName } from './marker.js';

export const DIGITALOCEAN_API_URL = 'https://api.digitalocean.com';
const NAME = 'DigitalOcean';
/** DigitalOcean's maximum page size. */
const PER_PAGE = 200;
const MAX_PAGES = 200;
/** How long after an action completed a missing snapshot may still be listing lag. */
const LISTING_LAG_MS = 10 * 60_000;
/** Clock slack when matching a snapshot's created_at (whole seconds) to an action's span. */
const SPAN_SLACK_MS = 2_000;

export const digitaloceanConfigSchema = z.object({
  type: z.literal('digitalocean'),
  /** Personal access token with read and write scope. */
  token: z.string().min(1, 'token is required (a DigitalOcean personal access token with write scope)'),
  /** Tag put on our snapshots after creation; false to skip tagging. */
  /** How long the engine waits before asking a busy droplet again (another action runs on it). */
  busyWaitMs: z.number().int().min(1_000).max(3_600_000).optional(),
  tag: z
    .union([z.string().regex(/^[A-Za-z0-9:_-]{1,255}$/, 'tag may hold letters, digits, colons, dashes and underscores'), z.literal(false)])
    .optional(),
  ...restTuningShape,
});
export type DigitaloceanConfig = z.infer<typeof digitaloceanConfigSchema>;

const DEFAULT_TAG = 'scheduled-snapshots';

const actionSchema = z.object({
  id: z.number(),
  status: z.string(),
  type: z.string().optional(),
  started_at: z.string().nullable().optional(),
  completed_at: z.string().nullable().optional(),
  resource_id: z.number().nullable().optional(),
  resource_type: z.string().nullable().optional(),
});
type DoAction = z.infer<typeof actionSchema>;

/** `/v2/droplets/{id}/snapshots` has integer ids, `/v2/snapshots` string ids: accept both. */
const snapshotSchema = z.object({
  id: z.union([z.number(), z.string()]),
  name: z.string(),
  created_at: z.string().optional(),
  size_gigabytes: z.number().nullable().optional(),
  resource_id: z.union([z.number(), z.string()]).nullable().optional(),
});
type DoSnapshot = z.infer<typeof snapshotSchema>;

const pagingShape = {
  links: z.object({ pages: z.object({ next: z.string().optional() }).partial().optional() }).partial().optional(),
  meta: z.object({ total: z.number().optional() }).partial().optional(),
};
const listSchema = z.object({ snapshots: z.array(snapshotSchema), ...pagingShape });
const actionListSchema = z.object({ actions: z.array(actionSchema), ...pagingShape });

/** A busy droplet answers 422 (or 409) with a message like "Droplet already has a pending event." */
const isBusy = (f: HttpFailure): boolean =>
  f.status === 409 || (f.status === 422 && /pending|in progress|progress|busy|lock/i.test(providerMessage(f.body) ?? ''));

function describeDoFailure(f: HttpFailure): ProviderError | undefined {
  const opts = { status: f.status };
  if (f.status === 401) return new ProviderError('auth', `${NAME} refused the token: check token in the providers file.`, opts);
  if (f.status === 403) return new ProviderError('permission', `${NAME} refused the token: check it has write scope.`, opts);
  if (isBusy(f)) return new ProviderError('busy', `${NAME} says the droplet is busy with another action.`, opts);
  if (f.status === 400 || f.status === 422) {
    const said = providerMessage(f.body);
    return new ProviderError('invalid', `${NAME} refused the request as invalid${said ? `: ${said}` : ''}.`, opts);
  }
  return undefined;
}

/** A 404 with DigitalOcean's own `{ id: "not_found" }` body; without it, a wrong apiUrl. */
function isGone(res: { status: number; data: unknown }): boolean {
  if (res.status !== 404) return false;
  if (bodyErrorCode(res.data) === 'not_found') return true;
  throw new ProviderError('bad_response', `${NAME} answered 404 without its error body: check apiUrl in the providers file.`, { status: 404 });
}

function numericId(value: string, what: string): string {
  if (!/^\d+$/.test(value)) throw new ProviderError('invalid', `${NAME} ${what} ids are numbers; "${value.slice(0, 40)}" is not one.`);
  return value;
}

/** The `page` of a `links.pages.next` URL. We never request the URL itself: it names the public host, not apiUrl. */
function nextPage(body: Pick<z.infer<typeof listSchema>, 'links'>): number | null {
  const next = body.links?.pages?.next;
  if (!next) return null;
  try {
    const page = Number(new URL(next).searchParams.get('page'));
    return Number.isInteger(page) && page > 1 ? page : null;
  } catch {
    return null;
  }
}

function available(s: DoSnapshot): ProviderSnapshot {
  return {
    providerSnapshotId: String(s.id),
    state: 'available', // a DigitalOcean snapshot exists only once it is complete
    sizeBytes: s.size_gigabytes == null ? null : Math.round(s.size_gigabytes * 1e9),
    reason: null,
    name: s.name, // the host's own snapshots are named WPCD_<droplet>_<date>
  };
}

export function createDigitaloceanProvider(slug: string, config: DigitaloceanConfig, ctx: ProviderContext): Provider {
  const baseURL = (config.apiUrl ?? DIGITALOCEAN_API_URL).replace(/\/+$/, '');
  const log = ctx.log.child({ provider: slug, type: 'digitalocean' });
  const now = ctx.now ?? Date.now;
  const tag = config.tag === undefined ? DEFAULT_TAG : config.tag;
  const busyWaitMs = config.busyWaitMs ?? 60_000;
  const http = bearerClient({
    type: 'digitalocean', baseURL, token: config.token, budgetKey: config.token, config, ctx, log,
    providerName: NAME, describeFailure: describeDoFailure,
  });

  /** Every page of a snapshot list, stopping early when `pick` finds one. */
  async function scan(url: string, params: Record<string, string>, pick: (s: DoSnapshot) => boolean): Promise<DoSnapshot | null | 'gone'> {
    for (let page = 1, n = 0; n < MAX_PAGES; n += 1) {
      const res = await http.request({ method: 'GET', url, params: { ...params, page, per_page: PER_PAGE }, acceptStatuses: [404] });
      if (isGone(res)) return 'gone';
      const body = parseBody(listSchema, res.data, NAME, 'the snapshot list');
      const hit = body.snapshots.find(pick);
      if (hit) return hit;
      const next = nextPage(body);
      if (next === null || next <= page) return null;
      page = next;
    }
    log.warn({ url }, 'gave up paging DigitalOcean snapshots');
    return null;
  }

  /**
   * A droplet's snapshot matching `pick`. The droplet's own list is short; if the droplet
   * was destroyed (its snapshots live on), the account-wide list filtered by resource_id.
   */
  async function findSnapshot(dropletId: string, pick: (s: DoSnapshot) => boolean): Promise<DoSnapshot | null> {
    const own = await scan(`/v2/droplets/${numericId(dropletId, 'droplet')}/snapshots`, {}, pick);
    if (own !== 'gone') return own;
    const all = await scan('/v2/snapshots', { resource_type: 'droplet' }, (s) => String(s.resource_id) === dropletId && pick(s));
    return all === 'gone' ? null : all;
  }

  async function getAction(actionId: string): Promise<DoAction | null> {
    const res = await http.request({ method: 'GET', url: `/v2/actions/${numericId(actionId, 'action')}`, acceptStatuses: [404] });
    if (isGone(res)) return null;
    return parseBody(z.object({ action: actionSchema }), res.data, NAME, `action ${actionId}`).action;
  }

  /** Tag our snapshots, one request for all (best effort: a failure is logged, never thrown; the snapshots are fine). */
  let tagReady: Promise<void> | null = null;
  async function tagSnapshots(snapshotIds: string[]): Promise<void> {
    if (tag === false) return;
    try {
      tagReady ??= http.request({ method: 'POST', url: '/v2/tags', data: { name: tag }, acceptStatuses: [422] }).then(() => undefined);
      await tagReady;
      await http.request({
        method: 'POST',
        url: `/v2/tags/${encodeURIComponent(tag)}/resources`,
        data: { resources: snapshotIds.map((id) => ({ resource_id: id, resource_type: 'image' })) },
      });
    } catch (err) {
      tagReady = null;
      log.warn({ snapshots: snapshotIds, error: err instanceof Error ? err.message : String(err) }, 'could not tag the DigitalOcean snapshot');
    }
  }

  /**
   * Follow a snapshot action to its snapshot. `name` (ours) is the surest match; without it,
   * or if it was renamed, the snapshot created within the action's span.
   */
  async function followAction(server: ServerRef, action: DoAction, name: string | null, tagNow = true): Promise<ProviderSnapshot> {
    const actionId = String(action.id);
    if (action.resource_id != null && String(action.resource_id) !== server.instanceId) {
      throw new ProviderError('invalid', `${NAME} action ${actionId} belongs to droplet ${action.resource_id}, not ${server.instanceId}.`);
    }
    if (action.type !== undefined && action.type !== 'snapshot') {
      throw new ProviderError('invalid', `${NAME} action ${actionId} is a ${action.type}, not a snapshot.`);
    }
    if (action.status === 'in-progress') return { providerSnapshotId: '', state: 'creating', reason: null };
    if (action.status === 'errored') {
      return { providerSnapshotId: '', state: 'failed', reason: `${NAME} reports the snapshot action ${actionId} as errored.` };
    }

    const started = Date.parse(action.started_at ?? '');
    const completed = Date.parse(action.completed_at ?? '');
    const inSpan = (s: DoSnapshot): boolean => {
      const created = Date.parse(s.created_at ?? '');
      if ([started, completed, created].some(Number.isNaN)) return false;
      return created >= started - SPAN_SLACK_MS && created <= completed + SPAN_SLACK_MS;
    };
    const found =
      (name !== null ? await findSnapshot(server.instanceId, (s) => s.name === name) : null) ??
      (await findSnapshot(server.instanceId, inSpan));
    if (found) {
      if (tagNow && name !== null && found.name === name) await tagSnapshots([String(found.id)]);
      return available(found);
    }
    if (!Number.isNaN(completed) && now() - completed < LISTING_LAG_MS) {
      return { providerSnapshotId: '', state: 'creating', reason: null }; // listed shortly
    }
    return {
      providerSnapshotId: '',
      state: 'gone',
      reason: `${NAME} finished action ${actionId} but droplet ${server.instanceId} has no snapshot from it; it may have been deleted.`,
    };
  }

  /**
   * DigitalOcean refused our snapshot as busy ("Droplet already has a pending event."): a
   * droplet runs one action at a time, and that action may be our own create whose answer was
   * lost. If our snapshot (by its unique name) already exists, adopt it. If the droplet's
   * action list shows an action in progress — ours or anyone's: an action does not carry the
   * snapshot's name — this is a wait, not a failed attempt (`params.wait`): the engine asks
   * again later without using up its attempts, and once the action is done either finds our
   * snapshot by name or creates it on a free droplet.
   */
  async function whileBusy(server: ServerRef, marker: SnapshotMarker, refused: ProviderError): Promise<CreateResult> {
    const ours = await findByMarker(server, marker);
    if (ours) {
      log.info({ snapshot: ours.providerSnapshotId }, 'droplet busy, but our snapshot already exists: adopted');
      return { providerSnapshotId: ours.providerSnapshotId, state: ours.state, sizeBytes: ours.sizeBytes ?? null };
    }
    const res = await http.request({
      method: 'GET', url: `/v2/droplets/${numericId(server.instanceId, 'droplet')}/actions`, params: { page: 1, per_page: 20 }, acceptStatuses: [404],
    });
    if (isGone(res)) throw refused;
    const { actions } = parseBody(z.object({ actions: z.array(actionSchema) }), res.data, NAME, 'the droplet\'s actions');
    const running = actions.find((a) => a.status === 'in-progress');
    if (!running) throw refused; // it ended meanwhile: an ordinary retry
    const what = running.type === 'snapshot' ? 'a snapshot' : `an action (${running.type ?? 'unknown'})`;
    throw new ProviderError('busy', `${NAME} droplet ${server.instanceId} is still busy with ${what} started ${running.started_at ?? 'recently'}.`, {
      status: refused.status, retryAfterMs: busyWaitMs, retry: { kind: 'tried again', subject: 'the snapshot', inMs: busyWaitMs },
      params: { provider: NAME, providerCode: 'pending_event', wait: true },
    });
  }

  async function findByMarker(server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null> {
    const found = await findSnapshot(server.instanceId, (s) => s.name === marker.name);
    return found ? available(found) : null;
  }

  async function getSnapshot(id: string): Promise<HttpResponse<unknown>> {
    return http.request({ method: 'GET', url: `/v2/snapshots/${numericId(id, 'snapshot')}`, acceptStatuses: [404] });
  }

  const batch = createDoBatchReads<DoAction, DoSnapshot>({
    http, snapshotId: (s) => String(s.id), nameOf: (s) => s.name, factsOf, followAction, tagSnapshots,
    parseActions(data) {
      const b = parseBody(actionListSchema, data, NAME, 'the account\'s actions');
      return { actions: b.actions, total: b.meta?.total ?? null, hasNext: nextPage(b) !== null };
    },
    parseSnapshots(data) {
      const b = parseBody(listSchema, data, NAME, 'the snapshot list');
      return { snapshots: b.snapshots, total: b.meta?.total ?? null, hasNext: nextPage(b) !== null };
    },
  });

  return {
    slug,
    type: 'digitalocean',
    displayName: 'DigitalOcean',
    capabilities: {
      create: true,
      delete: true,
      labels: tag !== false,
      slotsPerServer: null,
      notes: [
        'DigitalOcean gives a snapshot its id only when it is finished; until then it shows as creating without an id.',
        'A droplet takes one snapshot at a time: a snapshot that comes due while another runs waits and is tried again.',
        ...(tag === false ? [] : [`Our DigitalOcean snapshots are tagged "${tag}".`]),
      ],
    },

    async create(server, marker): Promise<CreateResult> {
      const dropletId = numericId(server.instanceId, 'droplet');
      let res: HttpResponse<unknown>;
      try {
        res = await http.request({
          method: 'POST',
          url: `/v2/droplets/${dropletId}/actions`,
          data: { type: 'snapshot', name: marker.name },
          // No in-call retry on busy: a droplet's action takes minutes, so whileBusy hands
          // the wait to the engine instead of spending requests on it.
          describeFailure: (f) =>
            f.status === 404 && bodyErrorCode(f.body) === 'not_found'
              ? new ProviderError('not_found', `${NAME} has no droplet ${dropletId}: was it deleted?`, { status: 404 })
              : undefined,
        });
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'busy') return whileBusy(server, marker, err);
        throw err;
      }
      // A lost answer is not looked for here: the snapshot is not listed before the action
      // completes, and a second create meanwhile is refused as busy (droplets take one at a
      // time), which whileBusy turns into a wait until findByMarker finds it.
      const { action } = parseBody(z.object({ action: actionSchema }), res.data, NAME, 'the snapshot action');
      return { providerSnapshotId: null, pendingRef: String(action.id), state: 'creating' };
    },

    async status(server, ref): Promise<ProviderSnapshot> {
      if (ref.providerSnapshotId) {
        const res = await getSnapshot(ref.providerSnapshotId);
        if (isGone(res)) return { providerSnapshotId: ref.providerSnapshotId, state: 'gone', reason: `${NAME} no longer has snapshot ${ref.providerSnapshotId}.` };
        return available(parseBody(z.object({ snapshot: snapshotSchema }), res.data, NAME, `snapshot ${ref.providerSnapshotId}`).snapshot);
      }
      if (ref.pendingRef) {
        const action = await getAction(ref.pendingRef);
        if (action) return followAction(server, action, ref.marker.name);
        // The action is no longer known (DigitalOcean forgets old ones): the name still finds it.
        const found = await findByMarker(server, ref.marker);
        return found ?? { providerSnapshotId: '', state: 'failed', reason: `${NAME} has no action ${ref.pendingRef} and no snapshot named ${ref.marker.name}.` };
      }
      const found = await findByMarker(server, ref.marker);
      return found ?? { providerSnapshotId: '', state: 'gone', reason: `${NAME} has no snapshot named ${ref.marker.name}.` };
    },

    findByMarker,

    async delete(_server, providerSnapshotId): Promise<{ alreadyGone: boolean }> {
      const res = await http.request({
        method: 'DELETE',
        url: `/v2/snapshots/${numericId(providerSnapshotId, 'snapshot')}`,
        acceptStatuses: [404],
      });
      return { alreadyGone: isGone(res) };
    },

    async resolvePanelSnapshotId(server, hostId): Promise<ProviderSnapshot> {
      // The host stores an action id; should it ever store the snapshot id, accept that too.
      const action = await getAction(hostId);
      if (action) return followAction(server, action, null);
      const res = await getSnapshot(hostId);
      if (isGone(res)) throw new ProviderError('not_found', `${NAME} has neither an action nor a snapshot ${hostId}.`, { status: 404 });
      return available(parseBody(z.object({ snapshot: snapshotSchema }), res.data, NAME, `snapshot ${hostId}`).snapshot);
    },

    /** `GET /v2/snapshots/{id}`: its name (our marker name when ours) and `resource_id`, the droplet it was made from. */
    async describe(_server, providerSnapshotId): Promise<SnapshotFacts | null> {
      const res = await getSnapshot(providerSnapshotId);
      if (isGone(res)) return null;
      return factsOf(parseBody(z.object({ snapshot: snapshotSchema }), res.data, NAME, `snapshot ${providerSnapshotId}`).snapshot);
    },

    describeMany: batch.describeMany,
    batchReads: batch.batchReads,

    /**
     * DigitalOcean's snapshot list filters by resource type only (tagging is best effort), so
     * ours are the droplet snapshots whose name is one of our marker names.
     */
    async *listOurs(): AsyncIterable<SnapshotFacts> {
      const ours: DoSnapshot[] = [];
      await scan('/v2/snapshots', { resource_type: 'droplet' }, (snap) => { if (markerIdOfName(snap.name) !== null) ours.push(snap); return false; });
      for (const snap of ours) yield factsOf(snap);
    },
  };
}

function factsOf(s: DoSnapshot): SnapshotFacts {
  return { ...available(s), name: s.name, markerSnapshotId: markerIdOfName(s.name), sourceInstanceId: s.resource_id == null ? null : String(s.resource_id) };
}
