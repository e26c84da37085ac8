/**
 * DigitalOcean's batched status reads (Provider.describeMany).
 *
 * A snapshot being made is a droplet action, with no snapshot id until it completes. The one
 * list that names many actions at once is the account's `GET /v2/actions` (every action ever
 * taken on the account, pages of 200); it has no filter. DigitalOcean lists it newest first
 * with ever-growing ids (as the droplet's own action list; the reference does not promise the
 * order), so our pending actions are on its first pages: pages are read until every pending
 * action of the batch is seen, or the page reaches ids older than the oldest of them, or
 * reading on would cost more than a GET of each one still missing. An action not seen is read
 * on its own, as before. The snapshots of the completed ones are found by our (unique) names in
 * the account's snapshot list, and tagged in one request; one not listed there yet is followed
 * as a single read does (the droplet's own snapshot list).
 *
 * Snapshots that have an id (the ownership check before a delete) are looked up in the
 * account's snapshot list (`GET /v2/snapshots?resource_type=droplet`, pages of 200) while that
 * costs fewer requests than a GET each (list-scan.ts).
 */
import type { HttpClient } from './http/client.js';
import { createListScan } from './list-scan.js';
import { batchReadKey, type BatchReadOptions, type BatchReadRef, type ProviderSnapshot, type ServerRef, type SnapshotFacts } from './types.js';

const PER_PAGE = 200;
const MAX_PAGES = 200;

export interface DoActionLike {
  id: number;
  status: string;
  type?: string | undefined;
  resource_id?: number | null | undefined;
}

export interface DoBatchDeps<A extends DoActionLike, S> {
  http: Pick<HttpClient, 'request'>;
  /** The body of an action list page, checked. */
  parseActions(data: unknown): { actions: A[]; total: number | null; hasNext: boolean };
  /** The body of a snapshot list page, checked. */
  parseSnapshots(data: unknown): { snapshots: S[]; total: number | null; hasNext: boolean };
  snapshotId(s: S): string;
  nameOf(s: S): string;
  factsOf(s: S): SnapshotFacts;
  /** Tag our snapshots in one request (best effort, never throws). */
  tagSnapshots(ids: string[]): Promise<void>;
  /** What a single read answers for this action of this server (the droplet's snapshot list once completed); `tagNow` false: the caller tags. */
  followAction(server: ServerRef, action: A, name: string | null, tagNow: boolean): Promise<ProviderSnapshot>;
}

export function createDoBatchReads<A extends DoActionLike, S>(deps: DoBatchDeps<A, S>) {
  const batchReads: BatchReadOptions = { size: 1000, pending: true };

  async function snapshotPage(cursor: string | null) {
    const page = Number(cursor ?? 1);
    const res = await deps.http.request({ method: 'GET', url: '/v2/snapshots', params: { resource_type: 'droplet', page, per_page: PER_PAGE } });
    const body = deps.parseSnapshots(res.data);
    return { items: body.snapshots, total: body.total, next: body.hasNext ? String(page + 1) : null };
  }
  const scanSnapshots = createListScan<S>({ perPage: PER_PAGE, maxPages: MAX_PAGES, idOf: deps.snapshotId, page: snapshotPage });
  const scanNames = createListScan<S>({ perPage: PER_PAGE, maxPages: MAX_PAGES, idOf: deps.nameOf, page: snapshotPage });

  /** Our pending actions among the account's newest, by id. */
  async function pendingActions(ids: ReadonlySet<number>): Promise<Map<number, A>> {
    const seen = new Map<number, A>();
    const oldest = Math.min(...ids);
    for (let page = 1; page <= MAX_PAGES; page++) {
      const res = await deps.http.request({ method: 'GET', url: '/v2/actions', params: { page, per_page: PER_PAGE } });
      const body = deps.parseActions(res.data);
      for (const a of body.actions) if (ids.has(a.id)) seen.set(a.id, a);
      const missing = ids.size - seen.size;
      const reachedOlder = body.actions.some((a) => a.id < oldest);
      if (missing === 0 || reachedOlder || !body.hasNext || page >= missing) break;
    }
    return seen;
  }

  async function describeMany(refs: ReadonlyArray<BatchReadRef>): Promise<Map<string, SnapshotFacts>> {
    const out = new Map<string, SnapshotFacts>();
    const toTag: string[] = [];
    const pending = refs.filter((r) => !r.providerSnapshotId && r.pendingRef && /^\d+$/.test(r.pendingRef) && r.instanceId);
    if (pending.length > 0) {
      const actions = await pendingActions(new Set(pending.map((r) => Number(r.pendingRef))));
      // Completed snapshot actions of the refs' own droplets: their snapshots, by our names.
      const done = (ref: BatchReadRef, a: A | undefined): boolean =>
        a?.status === 'completed' && a.type === 'snapshot' && String(a.resource_id) === ref.instanceId && !!ref.name;
      const named = await scanNames(new Set(pending.filter((r) => done(r, actions.get(Number(r.pendingRef)))).map((r) => r.name!)));
      for (const ref of pending) {
        const action = actions.get(Number(ref.pendingRef));
        if (!action) continue;
        const listed = done(ref, action) ? named.get(ref.name!) : undefined;
        if (listed && deps.factsOf(listed).sourceInstanceId === ref.instanceId) {
          out.set(batchReadKey(ref), deps.factsOf(listed));
          toTag.push(deps.snapshotId(listed));
          continue;
        }
        const server: ServerRef = { serverId: 0, instanceId: ref.instanceId!, region: ref.region ?? null, name: null };
        // Whatever this one's follow-up says (or throws) its own read will say again: leave it to that.
        const snap = await deps.followAction(server, action, ref.name ?? null, false).catch(() => null);
        if (snap?.state === 'available' && snap.name === ref.name) toTag.push(snap.providerSnapshotId);
        if (snap) out.set(batchReadKey(ref), { ...snap, name: snap.name ?? ref.name ?? null, markerSnapshotId: null, sourceInstanceId: ref.instanceId ?? null });
      }
    }
    if (toTag.length > 0) await deps.tagSnapshots(toTag);
    const withIds = new Set(refs.flatMap((r) => (r.providerSnapshotId ? [r.providerSnapshotId] : [])));
    for (const [id, s] of await scanSnapshots(withIds)) out.set(id, deps.factsOf(s));
    return out;
  }

  return { batchReads, describeMany };
}
