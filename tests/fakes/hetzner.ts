/**
 * A local stand-in for the Hetzner Cloud API (`https://api.hetzner.cloud/v1`), as far as
 * snapshots go, behaving as docs/providers.md documents it: bearer token, create_image with
 * labels, image status `creating` → `available`, label_selector lookup with page/per_page
 * (max 50) and `meta.pagination`, `{ error: { code, message, details } }` bodies, and a
 * 3600/h bucket refilled one request per second with RateLimit-* headers.
 *
 * Progress is counted, not timed: an image stays `creating` for `pendingPolls` reads of the
 * image (or its action), then becomes `available`.
 *
 * Test controls: inject failures, keep images pending, fail or protect images, lock servers,
 * count requests (total, per path, peak per window), seed other people's snapshots.
 *
 * Self-contained on purpose (it repeats what the other fakes take from ./base.ts):
 * bench/phase-budget.ts transpiles this one file alone and imports it from a scratch
 * directory, where a relative import would not resolve. Keep it free of local imports.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type InjectedFailure =
  | { kind: '5xx'; status?: number }
  | { kind: '429'; headers?: Record<string, string> }
  | { kind: 'malformed' }
  | { kind: 'hang' }
  | { kind: 'reset' }
  /** The request is carried out, then the connection drops before the answer (a lost reply). */
  | { kind: 'lost' };

export interface RequestMatch {
  method?: string;
  path?: RegExp;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  at: number;
}

export interface HetznerImage {
  id: number;
  type: 'snapshot' | 'backup' | 'system';
  status: 'creating' | 'available' | 'unavailable';
  name: string | null;
  description: string;
  image_size: number | null;
  disk_size: number;
  created: string;
  created_from: { id: number; name: string } | null;
  bound_to: number | null;
  protection: { delete: boolean };
  labels: Record<string, string>;
  deprecated: string | null;
  deleted: string | null;
}

interface HetznerAction {
  id: number;
  command: string;
  status: 'running' | 'success' | 'error';
  progress: number;
  started: string;
  finished: string | null;
  resources: { id: number; type: string }[];
  error: { code: string; message: string } | null;
}

export interface FakeHetznerOptions {
  token?: string;
  /** A second token that may only read (Hetzner answers 403 `token_readonly` to writes). */
  readOnlyToken?: string;
  /** Clock for rate-limit bookkeeping and request timestamps. */
  now?: () => number;
  /** Requests per hour (bucket size); refilled evenly over the hour. Default 3600. */
  rateLimitPerHour?: number;
  /** Reads of a creating image before it is available. Default 1. */
  pendingPolls?: number;
  /**
   * Tokens back per second, when the bucket should refill faster than Hetzner's one a second
   * per 3,600 (the benchmark, so a 10,000-server round fits its time). Default limit / 3600.
   */
  refillPerSecond?: number;
}

export interface FakeHetzner {
  /** Base URL to configure as `apiUrl` (ends in `/v1`). */
  readonly url: string;
  readonly token: string;
  pendingPolls: number;
  addServer(id: number, name?: string): void;
  removeServer(id: number): void;
  /** The server answers 423 `locked` (another action running) while locked. */
  lockServer(id: number, locked: boolean): void;
  /** Store an image directly (someone else's snapshot, or a backup). Returns its id. */
  addImage(image: Partial<HetznerImage> & { description: string }): number;
  /** The next create_image fails at completion with this message (image removed, action error). */
  failNextSnapshot(message: string): void;
  protectImage(id: number): void;
  images(): HetznerImage[];
  /** Requests refused with 429 because the account's bucket was empty (not injected ones). */
  rateLimited(): number;
  /** The next `times` requests matching `match` fail as described. */
  inject(times: number, failure: InjectedFailure, match?: RequestMatch): void;
  readonly requests: RecordedRequest[];
  count(match?: RequestMatch): number;
  /** Most requests seen inside any window of `ms` milliseconds. */
  peakInWindow(ms: number): number;
  close(): Promise<void>;
}

export async function startFakeHetzner(opts: FakeHetznerOptions = {}): Promise<FakeHetzner> {
  const token = opts.token ?? 'hetzner-test-token';
  const now = opts.now ?? Date.now;
  const limit = opts.rateLimitPerHour ?? 3600;
  const refillMs = opts.refillPerSecond ? 1000 / opts.refillPerSecond : 3_600_000 / limit;

  const servers = new Map<number, { id: number; name: string; locked: boolean }>();
  const images = new Map<number, HetznerImage & { pollsLeft: number; actionId: number | null; failWith: string | null }>();
  const actions = new Map<number, HetznerAction>();
  const injections: { failure: InjectedFailure; remaining: number; match: RequestMatch }[] = [];
  const requests: RecordedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  let nextImageId = 100_000;
  let nextActionId = 500_000;
  let failNext: string | null = null;
  // Token bucket as Hetzner describes it: full at `limit`, one request back every refillMs.
  let tokens = limit;
  let refusedForRate = 0;
  let lastRefill = now();

  const iso = (): string => new Date(now()).toISOString().replace(/\.\d{3}Z$/, '+00:00');

  function refill(): void {
    const t = now();
    const back = Math.floor((t - lastRefill) / refillMs);
    if (back > 0) {
      tokens = Math.min(limit, tokens + back);
      lastRefill = tokens === limit ? t : lastRefill + back * refillMs;
    }
  }

  function rateHeaders(): Record<string, string> {
    const fullAt = lastRefill + (limit - tokens) * refillMs;
    return {
      'RateLimit-Limit': String(limit),
      'RateLimit-Remaining': String(tokens),
      'RateLimit-Reset': String(Math.ceil(fullAt / 1000)),
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

  const error = (res: http.ServerResponse, status: number, code: string, message: string, details: unknown = {}): void =>
    send(res, status, { error: { code, message, details } });

  /** Advance a creating image one read; at the end it is available, or gone if told to fail. */
  function progress(image: HetznerImage & { pollsLeft: number; actionId: number | null; failWith: string | null }): void {
    if (image.status !== 'creating') return;
    image.pollsLeft -= 1;
    if (image.pollsLeft > 0) return;
    const action = image.actionId === null ? undefined : actions.get(image.actionId);
    if (image.failWith !== null) {
      images.delete(image.id);
      if (action) {
        action.status = 'error';
        action.finished = iso();
        action.error = { code: 'image_create_failed', message: image.failWith };
      }
      return;
    }
    image.status = 'available';
    image.image_size = 1.42;
    if (action) {
      action.status = 'success';
      action.progress = 100;
      action.finished = iso();
    }
  }

  function publicImage(i: HetznerImage): HetznerImage {
    const { pollsLeft: _p, actionId: _a, failWith: _f, ...rest } = i as HetznerImage & Record<string, unknown>;
    return JSON.parse(JSON.stringify(rest)) as HetznerImage;
  }

  /** Hetzner label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, joined by commas. */
  function matchesSelector(labels: Record<string, string>, selector: string): boolean {
    return selector
      .split(/,(?![^(]*\))/)
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .every((term) => {
        let m: RegExpMatchArray | null;
        if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
          const has = m[3]!.split(',').map((v) => v.trim()).includes(labels[m[1]!] ?? '\u0000');
          return m[2] === 'in' ? has : !has;
        }
        if ((m = term.match(/^([^!=]+)!=(.*)$/))) return labels[m[1]!.trim()] !== m[2]!.trim();
        if ((m = term.match(/^([^!=]+)==?(.*)$/))) return labels[m[1]!.trim()] === m[2]!.trim();
        if (term.startsWith('!')) return !(term.slice(1) in labels);
        return term in labels;
      });
  }

  function validLabels(labels: unknown): string | null {
    if (labels === undefined) return null;
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return 'labels must be an object';
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') return `label ${k} must be a string`;
      if (k.startsWith('hetzner.cloud/')) return `label key ${k} uses a reserved prefix`;
      if (!/^([a-z0-9A-Z]([a-z0-9A-Z._-]{0,61}[a-z0-9A-Z])?)?$/.test(v)) return `label value of ${k} is invalid`;
    }
    return null;
  }

  function route(method: string, path: string, query: URLSearchParams, body: unknown, res: http.ServerResponse): void {
    let m: RegExpMatchArray | null;

    if (method === 'POST' && (m = path.match(/^\/v1\/servers\/([^/]+)\/actions\/create_image$/))) {
      const server = servers.get(Number(m[1]));
      if (!server) return error(res, 404, 'not_found', `server with ID '${m[1]}' not found`);
      const b = (body ?? {}) as { type?: unknown; description?: unknown; labels?: unknown };
      if (b.type !== undefined && b.type !== 'snapshot' && b.type !== 'backup') {
        return error(res, 400, 'invalid_input', 'invalid input in field \'type\'', { fields: [{ name: 'type', messages: ['is invalid'] }] });
      }
      if (b.description !== undefined && typeof b.description !== 'string') {
        return error(res, 400, 'invalid_input', 'invalid input in field \'description\'', { fields: [{ name: 'description', messages: ['is not a string'] }] });
      }
      const labelProblem = validLabels(b.labels);
      if (labelProblem) return error(res, 400, 'invalid_input', labelProblem, { fields: [{ name: 'labels', messages: [labelProblem] }] });
      if (server.locked) return error(res, 423, 'locked', 'server is locked');
      const action: HetznerAction = {
        id: nextActionId++,
        command: 'create_image',
        status: 'running',
        progress: 0,
        started: iso(),
        finished: null,
        resources: [{ id: server.id, type: 'server' }],
        error: null,
      };
      actions.set(action.id, action);
      const image = {
        id: nextImageId++,
        type: (b.type ?? 'snapshot') as 'snapshot',
        status: 'creating' as const,
        name: null,
        description: (b.description as string | undefined) ?? '',
        image_size: null,
        disk_size: 20,
        created: iso(),
        created_from: { id: server.id, name: server.name },
        bound_to: null,
        protection: { delete: false },
        labels: { ...((b.labels as Record<string, string> | undefined) ?? {}) },
        deprecated: null,
        deleted: null,
        pollsLeft: Math.max(1, fake.pendingPolls),
        actionId: action.id,
        failWith: failNext,
      };
      failNext = null;
      images.set(image.id, image);
      return send(res, 201, { image: publicImage(image), action });
    }

    if (method === 'GET' && (m = path.match(/^\/v1\/images\/([^/]+)$/))) {
      const image = images.get(Number(m[1]));
      if (!image) return error(res, 404, 'not_found', `image with ID '${m[1]}' not found`);
      progress(image);
      if (!images.has(image.id)) return error(res, 404, 'not_found', `image with ID '${m[1]}' not found`);
      return send(res, 200, { image: publicImage(image) });
    }

    if (method === 'GET' && (m = path.match(/^\/v1\/actions\/([^/]+)$/))) {
      const action = actions.get(Number(m[1]));
      if (!action) return error(res, 404, 'not_found', `action with ID '${m[1]}' not found`);
      const image = [...images.values()].find((i) => i.actionId === action.id);
      if (image) progress(image);
      return send(res, 200, { action });
    }

    if (method === 'DELETE' && (m = path.match(/^\/v1\/images\/([^/]+)$/))) {
      const image = images.get(Number(m[1]));
      if (!image) return error(res, 404, 'not_found', `image with ID '${m[1]}' not found`);
      if (image.protection.delete) return error(res, 403, 'protected', 'image is protected');
      images.delete(image.id);
      return send(res, 204);
    }

    if (method === 'GET' && path === '/v1/images') {
      const page = Number(query.get('page') ?? '1');
      const perPage = Number(query.get('per_page') ?? '25');
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 50) {
        return error(res, 400, 'invalid_input', 'invalid input in fields \'page\', \'per_page\'');
      }
      const types = query.getAll('type');
      const selector = query.get('label_selector');
      const all = [...images.values()]
        .filter((i) => types.length === 0 || types.includes(i.type))
        .filter((i) => selector === null || matchesSelector(i.labels, selector))
        .sort((a, b) => a.id - b.id);
      const lastPage = Math.max(1, Math.ceil(all.length / perPage));
      const pageOf = all.slice((page - 1) * perPage, page * perPage);
      // A batched read (a set-based selector naming our snapshots) reads each listed image, as
      // GET /images/{id} does: a creating one progresses. Other listings only look.
      if (selector !== null && / in \(/.test(selector)) for (const i of pageOf) progress(i);
      return send(res, 200, {
        images: pageOf.filter((i) => images.has(i.id)).map(publicImage),
        meta: {
          pagination: {
            page,
            per_page: perPage,
            previous_page: page > 1 ? page - 1 : null,
            next_page: page < lastPage ? page + 1 : null,
            last_page: lastPage,
            total_entries: all.length,
          },
        },
      });
    }

    return error(res, 404, 'not_found', 'not found');
  }

  const matches = (match: RequestMatch, method: string, path: string): boolean =>
    (match.method === undefined || match.method === method) && (match.path === undefined || match.path.test(path));

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      let badJson = false;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          badJson = true;
        }
      }
      requests.push({ method, path: u.pathname, query: u.searchParams, body, at: now() });

      const readOnly = opts.readOnlyToken !== undefined && req.headers.authorization === `Bearer ${opts.readOnlyToken}`;
      if (req.headers.authorization !== `Bearer ${token}` && !readOnly) {
        return error(res, 401, 'unauthorized', 'unable to authenticate');
      }
      refill();
      if (tokens <= 0) {
        refusedForRate += 1;
        return error(res, 429, 'rate_limit_exceeded', `limit of ${limit} requests per hour reached`);
      }
      tokens -= 1;

      const inj = injections.find((i) => i.remaining > 0 && matches(i.match, method, u.pathname));
      if (inj) {
        inj.remaining -= 1;
        const f = inj.failure;
        if (f.kind === 'hang') {
          hanging.add(res);
          return;
        }
        if (f.kind === 'reset') {
          req.socket.destroy();
          return;
        }
        if (f.kind === 'lost') {
          res.writeHead = (() => res) as unknown as typeof res.writeHead;
          res.end = (() => {
            req.socket.destroy();
            return res;
          }) as unknown as typeof res.end;
          route(method, u.pathname, u.searchParams, body, res);
          return;
        }
        if (f.kind === 'malformed') {
          res.writeHead(200, { 'Content-Type': 'application/json', ...rateHeaders() });
          res.end('{"image": {"id": 1, "status": "avail');
          return;
        }
        if (f.kind === '429') {
          res.writeHead(429, { 'Content-Type': 'application/json', ...rateHeaders(), ...f.headers });
          res.end(JSON.stringify({ error: { code: 'rate_limit_exceeded', message: 'limit reached', details: {} } }));
          return;
        }
        const status = f.status ?? 503;
        return error(res, status, status === 503 ? 'unavailable' : 'server_error', 'service temporarily unavailable');
      }

      if (readOnly && method !== 'GET') return error(res, 403, 'token_readonly', 'The token is only allowed to perform GET requests');
      if (badJson) return error(res, 400, 'json_error', 'invalid JSON in request body');
      route(method, u.pathname, u.searchParams, body, res);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const fake: FakeHetzner = {
    url: `http://127.0.0.1:${port}/v1`,
    token,
    pendingPolls: opts.pendingPolls ?? 1,
    addServer(id, name = `server-${id}`) {
      servers.set(id, { id, name, locked: false });
    },
    removeServer(id) {
      servers.delete(id);
    },
    lockServer(id, locked) {
      const s = servers.get(id);
      if (s) s.locked = locked;
    },
    addImage(image) {
      const id = image.id ?? nextImageId++;
      images.set(id, {
        type: 'snapshot',
        status: 'available',
        name: null,
        image_size: 2.5,
        disk_size: 20,
        created: iso(),
        created_from: null,
        bound_to: null,
        protection: { delete: false },
        labels: {},
        deprecated: null,
        deleted: null,
        ...image,
        id,
        pollsLeft: 0,
        actionId: null,
        failWith: null,
      });
      return id;
    },
    failNextSnapshot(message) {
      failNext = message;
    },
    protectImage(id) {
      const i = images.get(id);
      if (i) i.protection.delete = true;
    },
    images: () => [...images.values()].map(publicImage),
    rateLimited: () => refusedForRate,
    inject(times, failure, match = {}) {
      injections.push({ failure, remaining: times, match });
    },
    requests,
    count(match = {}) {
      return requests.filter((r) => matches(match, r.method, r.path)).length;
    },
    peakInWindow(ms) {
      return peakInWindow(requests.map((r) => r.at), ms);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi += 1) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo += 1;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
