/**
 * A local stand-in for the DigitalOcean API (`https://api.digitalocean.com`), as far as
 * droplet snapshots go, behaving as docs/providers.md documents it:
 * - `POST /v2/droplets/{id}/actions` `{ type: "snapshot", name }` → 201 `{ action }` with no
 *   snapshot id; the snapshot exists only once the action is `completed`;
 * - `GET /v2/actions/{id}`; `GET /v2/droplets/{id}/snapshots` (integer ids);
 *   `GET /v2/snapshots?resource_type=droplet` and `GET /v2/snapshots/{id}` (string ids);
 * - `DELETE /v2/snapshots/{id}` → 204, 404 `{ id: "not_found", message }`;
 * - tags (`POST /v2/tags`, `POST /v2/tags/{tag}/resources`);
 * - `page`/`per_page` (max 200) with absolute `links.pages.next` URLs on the real host, so an
 *   adapter that follows them blindly leaves the fake (and is stopped by the network guard);
 * - 5,000/hour and 250/minute per token with `ratelimit-*` headers, `retry-after` on 429;
 * - a droplet with an action in progress answers 422 "Droplet already has a pending event."
 *
 * - `GET /v2/droplets/{id}/actions` lists the droplet's actions, newest first, paginated;
 *   `GET /v2/actions` every action of the account, the same way (no filter).
 *
 * Progress is counted by default: an action stays `in-progress` for `pendingPolls` reads of
 * it. With `actionDurationMs` set, it is timed instead: an action completes once that long
 * has passed on `now` (checked on every request), whether anyone reads it or not — as a real
 * snapshot that takes minutes, followed by nobody after a lost create answer.
 */
import type http from 'node:http';
import {
  countMatching,
  FailureQueue,
  peakInWindow,
  serveConnectionFailure,
  startFakeHttpServer,
  type InjectedFailure,
  type RecordedRequest,
  type RequestMatch,
} from './base.js';

export type { InjectedFailure, RecordedRequest, RequestMatch } from './base.js';

export interface DoAction {
  id: number;
  status: 'in-progress' | 'completed' | 'errored';
  type: string;
  started_at: string;
  completed_at: string | null;
  resource_id: number;
  resource_type: 'droplet';
  region_slug: string;
}

export interface DoSnapshot {
  id: number;
  name: string;
  created_at: string;
  regions: string[];
  resource_id: number;
  min_disk_size: number;
  size_gigabytes: number;
  tags: string[];
}

export interface FakeDigitalOceanOptions {
  token?: string;
  now?: () => number;
  perHour?: number;
  perMinute?: number;
  /** Reads of an in-progress action before it completes. Default 1. */
  pendingPolls?: number;
  /** When set, actions complete by time (this long after they started), not by reads. */
  actionDurationMs?: number;
}

export interface FakeDigitalOcean {
  /** Base URL to configure as `apiUrl` (like `https://api.digitalocean.com`, without `/v2`). */
  readonly url: string;
  readonly token: string;
  pendingPolls: number;
  actionDurationMs: number | null;
  /** Re-point the fake's clock (engine tests tie it to the engine's clock). */
  setNow(now: () => number): void;
  addDroplet(id: number, name?: string): void;
  /** The droplet is destroyed; its snapshots stay (as at DigitalOcean). */
  removeDroplet(id: number): void;
  /** Store a finished snapshot directly (someone else's, or an older one). Returns its id. */
  addSnapshot(s: { dropletId: number; name: string; createdAt?: string }): number;
  /** Start a snapshot action as the host panel would. Returns the action id. */
  startSnapshotAction(dropletId: number, name: string): number;
  /** Complete an in-progress action now (as time would), creating its snapshot. */
  finishAction(id: number): void;
  /** The next snapshot action fails (`errored`, no snapshot). */
  failNextSnapshot(): void;
  /** `n` finished actions of someone else (power cycles of droplet 1) in the account's history. */
  addOtherActions(n: number): void;
  snapshots(): DoSnapshot[];
  actions(): DoAction[];
  tags(): Map<string, Set<string>>;
  inject(times: number, failure: InjectedFailure, match?: RequestMatch): void;
  readonly requests: RecordedRequest[];
  count(match?: RequestMatch): number;
  peakInWindow(ms: number): number;
  close(): Promise<void>;
}

const REAL_HOST = 'https://api.digitalocean.com';

export async function startFakeDigitalOcean(opts: FakeDigitalOceanOptions = {}): Promise<FakeDigitalOcean> {
  const token = opts.token ?? 'dop_v1_testtoken';
  let now = opts.now ?? Date.now;
  const perHour = opts.perHour ?? 5000;
  const perMinute = opts.perMinute ?? 250;

  const droplets = new Map<number, { id: number; name: string }>();
  const snapshots = new Map<number, DoSnapshot>();
  const actions = new Map<number, DoAction & { pollsLeft: number; name: string; fail: boolean; startedMs: number }>();
  const tags = new Map<string, Set<string>>();
  const injections = new FailureQueue<InjectedFailure>();
  const requests: RecordedRequest[] = [];
  const counted: number[] = []; // arrival times within the last hour, for the rate limit
  let nextSnapshotId = 70_000_000;
  let nextActionId = 2_000_000_000;
  let failNext = false;

  const iso = (): string => new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z');

  function rateHeaders(): Record<string, string> {
    const oldest = counted[0];
    return {
      'ratelimit-limit': String(perHour),
      'ratelimit-remaining': String(Math.max(0, perHour - counted.length)),
      // When the oldest request in the hour window expires (unix seconds).
      'ratelimit-reset': String(Math.ceil(((oldest ?? now()) + 3_600_000) / 1000)),
    };
  }

  function send(res: http.ServerResponse, status: number, body?: unknown, extra: Record<string, string> = {}): void {
    const headers = { ...rateHeaders(), ...extra };
    if (body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
  const error = (res: http.ServerResponse, status: number, id: string, message: string, extra: Record<string, string> = {}): void =>
    send(res, status, { id, message, request_id: `req-${requests.length}` }, extra);
  const notFound = (res: http.ServerResponse): void =>
    error(res, 404, 'not_found', 'The resource you were accessing could not be found.');

  function startAction(dropletId: number, name: string): DoAction & { pollsLeft: number; name: string; fail: boolean; startedMs: number } {
    const action = {
      startedMs: now(),
      id: nextActionId++,
      status: 'in-progress' as const,
      type: 'snapshot',
      started_at: iso(),
      completed_at: null,
      resource_id: dropletId,
      resource_type: 'droplet' as const,
      region_slug: 'fra1',
      pollsLeft: Math.max(1, fake.pendingPolls),
      name,
      fail: failNext,
    };
    failNext = false;
    actions.set(action.id, action);
    return action;
  }

  function publicAction(a: DoAction & { pollsLeft: number; name: string; fail: boolean }): DoAction & { region: unknown } {
    const { pollsLeft: _p, name: _n, fail: _f, startedMs: _s, ...rest } = a as typeof a & { startedMs?: number };
    return { ...rest, region: { slug: a.region_slug, name: 'Frankfurt 1' } };
  }

  /** Advance an in-progress action one read; on completion its snapshot appears. */
  function progress(a: DoAction & { pollsLeft: number; name: string; fail: boolean }): void {
    if (a.status !== 'in-progress') return;
    if (fake.actionDurationMs !== null) return; // timed: see completeTimed
    a.pollsLeft -= 1;
    if (a.pollsLeft > 0) return;
    complete(a);
  }

  /** With `actionDurationMs`, every action whose time is up completes (called on each request). */
  function completeTimed(): void {
    if (fake.actionDurationMs === null) return;
    for (const a of actions.values()) if (a.status === 'in-progress' && now() - a.startedMs >= fake.actionDurationMs) complete(a);
  }

  function complete(a: DoAction & { pollsLeft: number; name: string; fail: boolean }): void {
    a.completed_at = iso();
    if (a.fail) {
      a.status = 'errored';
      return;
    }
    a.status = 'completed';
    const id = nextSnapshotId++;
    snapshots.set(id, {
      id,
      name: a.name,
      created_at: a.started_at,
      regions: [a.region_slug],
      resource_id: a.resource_id,
      min_disk_size: 25,
      size_gigabytes: 2.36,
      tags: [],
    });
  }

  const busy = (dropletId: number): boolean =>
    [...actions.values()].some((a) => a.resource_id === dropletId && a.status === 'in-progress');

  /** DigitalOcean's pagination: absolute links on its own host, omitted where there is no such page. */
  function paginate<T>(all: T[], query: URLSearchParams, path: string): { items: T[]; links: unknown; meta: unknown } | null {
    const page = Number(query.get('page') ?? '1');
    const perPage = Number(query.get('per_page') ?? '20');
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 200) return null;
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number): string => {
      const q = new URLSearchParams(query);
      q.set('page', String(p));
      q.set('per_page', String(perPage));
      return `${REAL_HOST}${path}?${q.toString()}`;
    };
    const pages: Record<string, string> = {};
    if (page > 1) {
      pages.first = link(1);
      pages.prev = link(page - 1);
    }
    if (page < last) {
      pages.next = link(page + 1);
      pages.last = link(last);
    }
    return {
      items: all.slice((page - 1) * perPage, page * perPage),
      links: Object.keys(pages).length > 0 ? { pages } : {},
      meta: { total: all.length },
    };
  }

  function route(method: string, path: string, query: URLSearchParams, body: unknown, res: http.ServerResponse): void {
    let m: RegExpMatchArray | null;

    if (method === 'POST' && (m = path.match(/^\/v2\/droplets\/([^/]+)\/actions$/))) {
      const droplet = droplets.get(Number(m[1]));
      if (!droplet) return notFound(res);
      const b = (body ?? {}) as { type?: unknown; name?: unknown };
      if (b.type !== 'snapshot') return error(res, 422, 'unprocessable_entity', 'Action type is not valid.');
      if (b.name !== undefined && typeof b.name !== 'string') return error(res, 422, 'unprocessable_entity', 'Name is not valid.');
      if (busy(droplet.id)) return error(res, 422, 'unprocessable_entity', 'Droplet already has a pending event.');
      const action = startAction(droplet.id, (b.name as string | undefined) ?? `${droplet.name}-${Date.now()}`);
      return send(res, 201, { action: publicAction(action) });
    }

    if (method === 'GET' && (m = path.match(/^\/v2\/actions\/([^/]+)$/))) {
      const action = actions.get(Number(m[1]));
      if (!action) return notFound(res);
      progress(action);
      return send(res, 200, { action: publicAction(action) });
    }

    if (method === 'GET' && path === '/v2/actions') {
      // Every action of the account, newest first, no filter; a listed action counts as read.
      const all = [...actions.values()].sort((a, b) => b.id - a.id);
      const p = paginate(all, query, path);
      if (!p) return error(res, 400, 'bad_request', 'per_page must be between 1 and 200.');
      for (const a of p.items as typeof all) progress(a);
      return send(res, 200, { actions: (p.items as typeof all).map(publicAction), links: p.links, meta: p.meta });
    }

    if (method === 'GET' && (m = path.match(/^\/v2\/droplets\/([^/]+)\/actions$/))) {
      const droplet = droplets.get(Number(m[1]));
      if (!droplet) return notFound(res);
      const all = [...actions.values()].filter((a) => a.resource_id === droplet.id).sort((a, b) => b.id - a.id);
      const p = paginate(all, query, path);
      if (!p) return error(res, 400, 'bad_request', 'per_page must be between 1 and 200.');
      return send(res, 200, { actions: (p.items as typeof all).map(publicAction), links: p.links, meta: p.meta });
    }

    if (method === 'GET' && (m = path.match(/^\/v2\/droplets\/([^/]+)\/snapshots$/))) {
      const droplet = droplets.get(Number(m[1]));
      if (!droplet) return notFound(res);
      const all = [...snapshots.values()].filter((s) => s.resource_id === droplet.id).sort((a, b) => a.id - b.id);
      const p = paginate(all, query, path);
      if (!p) return error(res, 400, 'bad_request', 'per_page must be between 1 and 200.');
      return send(res, 200, {
        snapshots: (p.items as DoSnapshot[]).map((s) => ({
          id: s.id,
          name: s.name,
          distribution: 'Ubuntu',
          slug: null,
          public: false,
          regions: s.regions,
          created_at: s.created_at,
          min_disk_size: s.min_disk_size,
          type: 'snapshot',
          size_gigabytes: s.size_gigabytes,
        })),
        links: p.links,
        meta: p.meta,
      });
    }

    const stringSnapshot = (s: DoSnapshot): unknown => ({
      id: String(s.id),
      name: s.name,
      regions: s.regions,
      created_at: s.created_at,
      resource_id: String(s.resource_id),
      resource_type: 'droplet',
      min_disk_size: s.min_disk_size,
      size_gigabytes: s.size_gigabytes,
      tags: s.tags,
    });

    if (method === 'GET' && path === '/v2/snapshots') {
      const type = query.get('resource_type');
      const all = [...snapshots.values()].filter(() => type === null || type === 'droplet').sort((a, b) => a.id - b.id);
      const p = paginate(all, query, path);
      if (!p) return error(res, 400, 'bad_request', 'per_page must be between 1 and 200.');
      return send(res, 200, { snapshots: (p.items as DoSnapshot[]).map(stringSnapshot), links: p.links, meta: p.meta });
    }

    if ((method === 'GET' || method === 'DELETE') && (m = path.match(/^\/v2\/snapshots\/([^/]+)$/))) {
      if (!/^\d+$/.test(m[1]!)) return error(res, 400, 'bad_request', 'The snapshot id is not valid.');
      const snap = snapshots.get(Number(m[1]));
      if (!snap) return notFound(res);
      if (method === 'GET') return send(res, 200, { snapshot: stringSnapshot(snap) });
      snapshots.delete(snap.id);
      for (const set of tags.values()) set.delete(String(snap.id));
      return send(res, 204);
    }

    if (method === 'POST' && path === '/v2/tags') {
      const name = (body as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string' || !/^[A-Za-z0-9:_-]{1,255}$/.test(name)) return error(res, 422, 'unprocessable_entity', 'Name is invalid.');
      if (!tags.has(name)) tags.set(name, new Set());
      return send(res, 201, { tag: { name, resources: { count: tags.get(name)!.size } } });
    }

    if (method === 'POST' && (m = path.match(/^\/v2\/tags\/([^/]+)\/resources$/))) {
      const set = tags.get(decodeURIComponent(m[1]!));
      if (!set) return notFound(res);
      const resources = (body as { resources?: { resource_id?: unknown; resource_type?: unknown }[] } | undefined)?.resources;
      if (!Array.isArray(resources) || resources.length === 0) return error(res, 422, 'unprocessable_entity', 'Resources are required.');
      for (const r of resources) {
        const snap = snapshots.get(Number(r.resource_id));
        if (r.resource_type !== 'image' || !snap) return notFound(res);
        set.add(String(snap.id));
        if (!snap.tags.includes(decodeURIComponent(m[1]!))) snap.tags.push(decodeURIComponent(m[1]!));
      }
      return send(res, 204);
    }

    return notFound(res);
  }

  const server = await startFakeHttpServer((r, res) => {
    const { method } = r;
    const path = r.url.pathname;
    const body = r.json;
    const at = now();
    requests.push({ method, path, query: r.url.searchParams, body, at });

    if (r.req.headers.authorization !== `Bearer ${token}`) return error(res, 401, 'Unauthorized', 'Unable to authenticate you.');

    while (counted.length > 0 && counted[0]! <= at - 3_600_000) counted.shift();
    const lastMinute = counted.filter((t) => t > at - 60_000);
    if (lastMinute.length >= perMinute) {
      const retryAfter = Math.max(1, Math.ceil((lastMinute[0]! + 60_000 - at) / 1000));
      return error(res, 429, 'too_many_requests', 'API Rate limit exceeded.', { 'retry-after': String(retryAfter) });
    }
    if (counted.length >= perHour) return error(res, 429, 'too_many_requests', 'API Rate limit exceeded.');
    counted.push(at);

    completeTimed();
    const f = injections.take(method, path);
    if (f) {
      if (serveConnectionFailure(server, r, res, f, (out) => route(method, path, r.url.searchParams, body, out))) return;
      if (f.kind === 'malformed') {
        res.writeHead(200, { 'Content-Type': 'application/json', ...rateHeaders() });
        res.end('<html><body>502 Bad Gateway</body></html>');
        return;
      }
      if (f.kind === '429') return error(res, 429, 'too_many_requests', 'API Rate limit exceeded.', f.headers ?? {});
      if (f.kind === '5xx') return error(res, f.status ?? 500, 'server_error', 'Server was unable to give you a response.');
    }

    if (r.badJson) return error(res, 400, 'bad_request', 'unexpected end of JSON input');
    route(method, path, r.url.searchParams, body, res);
  });

  const fake: FakeDigitalOcean = {
    url: server.url,
    token,
    pendingPolls: opts.pendingPolls ?? 1,
    actionDurationMs: opts.actionDurationMs ?? null,
    setNow(fn) {
      now = fn;
    },
    addDroplet(id, name = `droplet-${id}`) {
      droplets.set(id, { id, name });
    },
    removeDroplet(id) {
      droplets.delete(id);
    },
    addSnapshot(s) {
      const id = nextSnapshotId++;
      snapshots.set(id, {
        id,
        name: s.name,
        created_at: s.createdAt ?? iso(),
        regions: ['fra1'],
        resource_id: s.dropletId,
        min_disk_size: 25,
        size_gigabytes: 1.5,
        tags: [],
      });
      return id;
    },
    startSnapshotAction(dropletId, name) {
      return startAction(dropletId, name).id;
    },
    finishAction(id) {
      const a = actions.get(id);
      if (!a) return;
      if (a.status === 'in-progress') complete(a);
    },
    failNextSnapshot() {
      failNext = true;
    },
    addOtherActions(n) {
      for (let i = 0; i < n; i++) {
        const id = nextActionId++;
        actions.set(id, {
          id, status: 'completed', type: 'power_cycle', started_at: iso(), completed_at: iso(), resource_id: 1, resource_type: 'droplet',
          region_slug: 'fra1', pollsLeft: 0, name: '', fail: false, startedMs: now(),
        });
      }
    },
    snapshots: () => [...snapshots.values()].map((s) => ({ ...s, tags: [...s.tags] })),
    actions: () => [...actions.values()].map((a) => ({ ...publicAction(a) })),
    tags: () => tags,
    inject(times, failure, match = {}) {
      injections.add(times, failure, match);
    },
    requests,
    count: (match) => countMatching(requests, match),
    peakInWindow: (ms) => peakInWindow(requests.map((r) => r.at), ms),
    close: () => server.close(),
  };
  return fake;
}
