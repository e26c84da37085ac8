/**
 * A local stand-in for the Vultr API v2 (`https://api.vultr.com`), as far as snapshots go,
 * behaving as docs/providers.md documents it: bearer API key, `POST /v2/snapshots`
 * `{ instance_id, description }` → 201 with status `pending`, `complete` when done, list with
 * `description`/`per_page`/`cursor` and `meta.links.next`, `{ error, status }` bodies, and
 * about 30 requests per second per address → 429 without rate-limit headers.
 *
 * Progress is counted, not timed: a snapshot stays `pending` for `pendingPolls` reads (by id
 * or in a list page), then becomes `complete`.
 *
 * Vultr's reference lists both 400 and 404 for `GET`/`DELETE /v2/snapshots/{id}`: an id that
 * is not a UUID gets 400 here, and `refuse(id, status)` makes the fake answer 400 or 404 for an
 * id it does hold (the answer a client must not take for "gone" without the list's word).
 *
 * Not documented, so a test setting: whether the list's `description` parameter filters by
 * exact value, by substring, or is ignored. The adapter must be right under all three.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
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

export interface VultrSnapshot {
  id: string;
  date_created: string;
  description: string;
  size: number;
  compressed_size: number;
  status: 'pending' | 'complete' | 'deleted';
  os_id: number;
  app_id: number;
}

export interface FakeVultrOptions {
  apiKey?: string;
  now?: () => number;
  /** Requests per second per address before 429. Default 30. */
  rateLimitPerSecond?: number;
  /** Reads of a pending snapshot before it is complete. Default 1. */
  pendingPolls?: number;
  descriptionFilter?: 'exact' | 'substring' | 'ignored';
  /** Snapshots the account may hold; a create beyond it answers 400 (wording not documented). */
  snapshotLimit?: number;
}

export interface FakeVultr {
  /** Base URL to configure as `apiUrl` (like `https://api.vultr.com`, without `/v2`). */
  readonly url: string;
  readonly apiKey: string;
  pendingPolls: number;
  descriptionFilter: 'exact' | 'substring' | 'ignored';
  addInstance(id: string, label?: string): void;
  removeInstance(id: string): void;
  /** Store a snapshot directly (someone else's, or an older one). Returns its id. */
  addSnapshot(snapshot: Partial<VultrSnapshot> & { description: string }): string;
  snapshots(): VultrSnapshot[];
  /** GET and DELETE of this snapshot id answer `status` (400 or 404), whether it exists or not. */
  refuse(id: string, status: 400 | 404): void;
  inject(times: number, failure: InjectedFailure, match?: RequestMatch): void;
  readonly requests: RecordedRequest[];
  count(match?: RequestMatch): number;
  peakInWindow(ms: number): number;
  close(): Promise<void>;
}

export async function startFakeVultr(opts: FakeVultrOptions = {}): Promise<FakeVultr> {
  const apiKey = opts.apiKey ?? 'VULTRTESTKEY0123456789';
  const now = opts.now ?? Date.now;
  const perSecond = opts.rateLimitPerSecond ?? 30;

  const instances = new Map<string, { id: string; label: string }>();
  const refused = new Map<string, 400 | 404>();
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  /** The answer for a snapshot id that is refused or not a UUID, before looking it up. */
  function refusedId(res: http.ServerResponse, id: string): boolean {
    const status = refused.get(id) ?? (UUID.test(id) ? null : 400);
    if (status === null) return false;
    error(res, status, status === 400 ? 'Invalid snapshot ID.' : 'Snapshot not found.');
    return true;
  }
  const snapshots = new Map<string, VultrSnapshot & { pollsLeft: number }>();
  const injections = new FailureQueue<InjectedFailure>();
  const requests: RecordedRequest[] = [];
  const accepted: number[] = []; // arrival times of requests counted against the rate limit

  const iso = (): string => new Date(now()).toISOString().replace(/\.\d{3}Z$/, '+00:00');

  function send(res: http.ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  const error = (res: http.ServerResponse, status: number, message: string): void => send(res, status, { error: message, status });

  const publicSnapshot = (s: VultrSnapshot & { pollsLeft: number }): VultrSnapshot => {
    const { pollsLeft: _p, ...rest } = s;
    return { ...rest };
  };

  /** One read of a pending snapshot: it completes after `pendingPolls` of them. */
  const progress = (snap: { status: string; pollsLeft: number; size: number; compressed_size: number }): void => {
    if (snap.status !== 'pending') return;
    snap.pollsLeft -= 1;
    if (snap.pollsLeft <= 0) {
      snap.status = 'complete';
      snap.size = 26_843_545_600;
      snap.compressed_size = 2_147_483_648;
    }
  };
  const cursorFor = (offset: number): string => Buffer.from(`next__${offset}`).toString('base64');
  const offsetOf = (cursor: string): number | null => {
    const m = Buffer.from(cursor, 'base64').toString('utf8').match(/^next__(\d+)$/);
    return m ? Number(m[1]) : null;
  };

  function route(method: string, path: string, query: URLSearchParams, body: unknown, res: http.ServerResponse): void {
    let m: RegExpMatchArray | null;

    if (method === 'POST' && path === '/v2/snapshots') {
      const b = (body ?? {}) as { instance_id?: unknown; description?: unknown };
      if (typeof b.instance_id !== 'string' || b.instance_id === '') return error(res, 400, 'Missing instance_id.');
      if (b.description !== undefined && typeof b.description !== 'string') return error(res, 400, 'Invalid description.');
      // Vultr's exact answer for an unknown instance is not documented; a 400 like this is plausible.
      if (!instances.has(b.instance_id)) return error(res, 400, 'Invalid instance_id.');
      if (opts.snapshotLimit !== undefined && snapshots.size >= opts.snapshotLimit) {
        return error(res, 400, 'Snapshot limit reached for this account.');
      }
      const snap = {
        id: randomUUID(),
        date_created: iso(),
        description: (b.description as string | undefined) ?? '',
        size: 0,
        compressed_size: 0,
        status: 'pending' as const,
        os_id: 1743,
        app_id: 0,
        pollsLeft: Math.max(1, fake.pendingPolls),
      };
      snapshots.set(snap.id, snap);
      return send(res, 201, { snapshot: publicSnapshot(snap) });
    }

    if (method === 'GET' && (m = path.match(/^\/v2\/snapshots\/([^/]+)$/))) {
      if (refusedId(res, decodeURIComponent(m[1]!))) return;
      const snap = snapshots.get(decodeURIComponent(m[1]!));
      if (!snap) return error(res, 404, 'Snapshot not found.');
      progress(snap);
      return send(res, 200, { snapshot: publicSnapshot(snap) });
    }

    if (method === 'DELETE' && (m = path.match(/^\/v2\/snapshots\/([^/]+)$/))) {
      const id = decodeURIComponent(m[1]!);
      if (refusedId(res, id)) return;
      if (!snapshots.has(id)) return error(res, 404, 'Snapshot not found.');
      snapshots.delete(id);
      return send(res, 204);
    }

    if (method === 'GET' && (m = path.match(/^\/v2\/instances\/([^/]+)$/))) {
      const inst = instances.get(decodeURIComponent(m[1]!));
      if (!inst) return error(res, 404, 'Instance not found.');
      return send(res, 200, { instance: { id: inst.id, label: inst.label, status: 'active', power_status: 'running' } });
    }

    if (method === 'GET' && path === '/v2/snapshots') {
      const perPage = Number(query.get('per_page') ?? '100');
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > 500) return error(res, 400, 'Invalid per_page.');
      const cursor = query.get('cursor');
      const offset = cursor ? offsetOf(cursor) : 0;
      if (offset === null) return error(res, 400, 'Invalid cursor.');
      const wanted = query.get('description');
      const all = [...snapshots.values()].filter((s) => {
        if (wanted === null || fake.descriptionFilter === 'ignored') return true;
        if (fake.descriptionFilter === 'substring') return s.description.toLowerCase().includes(wanted.toLowerCase());
        return s.description === wanted;
      });
      const page = all.slice(offset, offset + perPage);
      // A snapshot we made shown in a list is read too (one put there by a test keeps its status).
      for (const snap of page) if (snap.pollsLeft > 0) progress(snap);
      const next = offset + perPage < all.length ? cursorFor(offset + perPage) : '';
      const prev = offset > 0 ? cursorFor(Math.max(0, offset - perPage)) : '';
      return send(res, 200, { snapshots: page.map(publicSnapshot), meta: { total: all.length, links: { next, prev } } });
    }

    return error(res, 404, 'Not found.');
  }

  const server = await startFakeHttpServer((r, res) => {
    const { method } = r;
    const path = r.url.pathname;
    const body = r.json;
    const at = now();
    requests.push({ method, path, query: r.url.searchParams, body, at });

    // About 30 per second per address, counted over the last second.
    while (accepted.length > 0 && accepted[0]! <= at - 1000) accepted.shift();
    if (accepted.length >= perSecond) return error(res, 429, 'Rate limit exceeded. Please try again later.');
    accepted.push(at);

    if (r.req.headers.authorization !== `Bearer ${apiKey}`) return error(res, 401, 'Invalid API token.');

    const f = injections.take(method, path);
    if (f) {
      if (serveConnectionFailure(server, r, res, f, (out) => route(method, path, r.url.searchParams, body, out))) return;
      if (f.kind === 'malformed') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"snapshot":{"id":"x","status":"comp');
        return;
      }
      if (f.kind === '429') {
        res.writeHead(429, { 'Content-Type': 'application/json', ...f.headers });
        res.end(JSON.stringify({ error: 'Rate limit exceeded.', status: 429 }));
        return;
      }
      if (f.kind === '5xx') return error(res, f.status ?? 500, 'Internal server error.');
    }

    if (r.badJson) return error(res, 400, 'Invalid JSON.');
    route(method, path, r.url.searchParams, body, res);
  });

  const fake: FakeVultr = {
    url: server.url,
    apiKey,
    pendingPolls: opts.pendingPolls ?? 1,
    descriptionFilter: opts.descriptionFilter ?? 'exact',
    addInstance(id, label = id) {
      instances.set(id, { id, label });
    },
    removeInstance(id) {
      instances.delete(id);
    },
    addSnapshot(snapshot) {
      const id = snapshot.id ?? randomUUID();
      snapshots.set(id, {
        date_created: iso(),
        size: 10_737_418_240,
        compressed_size: 1_073_741_824,
        status: 'complete',
        os_id: 1743,
        app_id: 0,
        ...snapshot,
        id,
        pollsLeft: 0,
      });
      return id;
    },
    snapshots: () => [...snapshots.values()].map(publicSnapshot),
    refuse(id, status) {
      refused.set(id, status);
    },
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
