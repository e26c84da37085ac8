/**
 * What every provider fake shares: an HTTP server on 127.0.0.1 (port 0) that reads each
 * request's body before the fake sees it, a queue of failures a test injects, request
 * counting, the busiest window, and a clean close (answers left hanging included).
 *
 * Each fake keeps what makes it that provider: routes, error bodies, status words, rate
 * limits, and the order in which it checks auth, limits and injected failures.
 *
 * tests/fakes/hetzner.ts does not use this file on purpose: bench/phase-budget.ts
 * transpiles that one file alone and imports it from a scratch directory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestMatch {
  method?: string;
  path?: RegExp;
}

export function matchesRequest(match: RequestMatch, method: string, path: string): boolean {
  return (match.method === undefined || match.method === method) && (match.path === undefined || match.path.test(path));
}

/** Failures every REST fake can inject; a fake adds its own kinds to these. */
export type CommonFailure =
  | { kind: '5xx'; status?: number }
  | { kind: '429'; headers?: Record<string, string> }
  | { kind: 'malformed' }
  | { kind: 'hang' }
  | { kind: 'reset' };

/** Vultr's, Hetzner's and DigitalOcean's set: the common ones plus a lost reply. */
export type InjectedFailure =
  | CommonFailure
  /** The request is carried out, then the connection drops before the answer (a lost reply). */
  | { kind: 'lost' };

/** A request as the Vultr, Hetzner and DigitalOcean fakes record it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  at: number;
}

/** Failures queued by a test: the next `times` requests matching `match` get `failure`, oldest queued first. */
export class FailureQueue<F> {
  readonly #queued: { failure: F; remaining: number; match: RequestMatch }[] = [];

  add(times: number, failure: F, match: RequestMatch = {}): void {
    this.#queued.push({ failure, remaining: times, match });
  }

  /** The failure this request gets (consumed), or undefined when none is queued for it. */
  take(method: string, path: string): F | undefined {
    const q = this.#queued.find((i) => i.remaining > 0 && matchesRequest(i.match, method, path));
    if (!q) return undefined;
    q.remaining -= 1;
    return q.failure;
  }
}

/** How many recorded requests match (all of them without a match). */
export function countMatching(requests: readonly { method: string; path: string }[], match: RequestMatch = {}): number {
  return requests.filter((r) => matchesRequest(match, r.method, r.path)).length;
}

/** Most requests seen inside any window of `windowMs` milliseconds. */
export function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi += 1) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo += 1;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** A request with its body read. */
export interface FakeRequest {
  req: http.IncomingMessage;
  method: string;
  /** `req.url` parsed against a dummy origin: `pathname` and `searchParams`. */
  url: URL;
  /** The body as text ('' when there was none). */
  raw: string;
  /** The body parsed as JSON; undefined when empty or not JSON (then `badJson`). */
  json: unknown;
  badJson: boolean;
}

export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Never answer this request (until close): a provider that does not respond. */
  hang(res: http.ServerResponse): void;
  close(): Promise<void>;
}

export async function startFakeHttpServer(onRequest: (r: FakeRequest, res: http.ServerResponse) => void): Promise<FakeHttpServer> {
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      let badJson = false;
      if (raw !== '') {
        try {
          json = JSON.parse(raw);
        } catch {
          badJson = true;
        }
      }
      onRequest({ req, method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://fake'), raw, json, badJson }, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hang(res) {
      hanging.add(res);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The failures that happen below HTTP, served the same way by every fake: `hang` (no answer),
 * `reset` (connection dropped), `lost` (carried out by `act`, then the connection drops before
 * the answer). Returns false for any other kind, which the fake answers itself.
 */
export function serveConnectionFailure(
  server: FakeHttpServer,
  r: FakeRequest,
  res: http.ServerResponse,
  failure: { kind: string },
  act: (res: http.ServerResponse) => void,
): boolean {
  switch (failure.kind) {
    case 'hang':
      server.hang(res);
      return true;
    case 'reset':
      r.req.socket.destroy();
      return true;
    case 'lost':
      res.writeHead = (() => res) as unknown as typeof res.writeHead;
      res.end = (() => {
        r.req.socket.destroy();
        return res;
      }) as unknown as typeof res.end;
      act(res);
      return true;
    default:
      return false;
  }
}

/** Carry a request out and throw its answer away (for "acted, then the answer failed"). */
export function actDiscardingAnswer(act: (res: http.ServerResponse) => void): void {
  const discard = { writeHead: () => discard, end: () => undefined } as unknown as http.ServerResponse;
  act(discard);
}
