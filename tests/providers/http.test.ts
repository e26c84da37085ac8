/**
 * The shared HTTP layer against a real local server that answers from a script, with a
 * virtual clock: waits are recorded and advance the clock instead of passing real time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../sidecar/log.js';
import { createBudgetRegistry, createRequestBudget } from '../../sidecar/providers/http/budget.js';
import { createHttpClient, type HttpClientOptions } from '../../sidecar/providers/http/client.js';
import { providerMessage } from '../../sidecar/providers/http/failures.js';
import { parseRetryAfter } from '../../sidecar/providers/http/rate-limit.js';
import { markerLabels, markerLabelSelector } from '../../sidecar/providers/marker.js';
import { ProviderError } from '../../sidecar/providers/types.js';

const T0 = Date.parse('2026-11-27T03:00:00Z');

function virtualClock(start = T0) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

/** One scripted answer: status, headers, body (string sent as is), or a socket trick. */
type Scripted =
  | { status: number; headers?: Record<string, string>; body?: unknown; raw?: string }
  | { hang: true }
  | { reset: true };

let server: http.Server;
let baseURL = '';
let script: Scripted[] = [];
const seen: { method: string; url: string; authorization: string | undefined; at: number }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, at: Date.now() });
    req.resume();
    const next = script.shift() ?? { status: 200, body: { ok: true } };
    if ('hang' in next) return; // never answer
    if ('reset' in next) {
      req.socket.destroy();
      return;
    }
    const payload = next.raw ?? (next.body === undefined ? '' : JSON.stringify(next.body));
    res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
    res.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  script = [];
  seen.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const SECRET = 'tok_0123456789abcdefSECRETSECRETSECRET0123456789';

function client(clock = virtualClock(), extra: Partial<HttpClientOptions> = {}) {
  return createHttpClient({
    baseURL,
    headers: { Authorization: `Bearer ${SECRET}` },
    providerName: 'Testcloud',
    log: silentLogger,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    ...extra,
  });
}

async function caught(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

describe('parseRetryAfter', () => {
  const now = T0;
  it('reads Retry-After in seconds', () => {
    expect(parseRetryAfter({ 'Retry-After': '7' }, now)).toBe(7000);
  });
  it('reads Retry-After as an HTTP date', () => {
    expect(parseRetryAfter({ 'retry-after': new Date(now + 90_000).toUTCString() }, now)).toBe(90_000);
  });
  it('reads RateLimit-Reset as unix seconds (Hetzner, DigitalOcean)', () => {
    expect(parseRetryAfter({ 'RateLimit-Reset': String(now / 1000 + 42) }, now)).toBe(42_000);
    expect(parseRetryAfter({ 'ratelimit-reset': String(now / 1000 + 3) }, now)).toBe(3000);
  });
  it('reads X-RateLimit-Reset as unix seconds (Linode)', () => {
    expect(parseRetryAfter({ 'X-RateLimit-Reset': String(now / 1000 + 5) }, now)).toBe(5000);
  });
  it('reads a small reset as seconds from now', () => {
    expect(parseRetryAfter({ 'ratelimit-reset': '30' }, now)).toBe(30_000);
  });
  it('prefers Retry-After over a reset header', () => {
    expect(parseRetryAfter({ 'retry-after': '2', 'ratelimit-reset': String(now / 1000 + 3600) }, now)).toBe(2000);
  });
  it('never answers a negative wait for a reset in the past', () => {
    expect(parseRetryAfter({ 'ratelimit-reset': String(now / 1000 - 100) }, now)).toBe(0);
    expect(parseRetryAfter({ 'retry-after': new Date(now - 5000).toUTCString() }, now)).toBe(0);
  });
  it('answers null when the headers say nothing usable', () => {
    expect(parseRetryAfter({}, now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter({ 'retry-after': 'soon', 'ratelimit-reset': 'later' }, now)).toBeNull();
  });
});

describe('marker labels', () => {
  it('name our snapshot id and who manages it', () => {
    const marker = { snapshotId: 42, name: 'ss-42-web1-20261127T0300Z' };
    expect(markerLabels(marker)).toEqual({ 'ss-snapshot-id': '42', 'managed-by': 'scheduled-snapshots' });
    expect(markerLabelSelector(marker)).toBe('ss-snapshot-id=42,managed-by=scheduled-snapshots');
  });
});

describe('providerMessage', () => {
  it('finds the message in each documented error shape and hides long opaque strings', () => {
    expect(providerMessage({ error: { code: 'not_found', message: 'server not found' } })).toBe('server not found');
    expect(providerMessage({ error: 'Invalid snapshot ID.', status: 404 })).toBe('Invalid snapshot ID');
    expect(providerMessage({ id: 'not_found', message: 'The resource you requested could not be found.' })).toBe(
      'The resource you requested could not be found',
    );
    expect(providerMessage({ errors: [{ reason: 'Not found' }] })).toBe('Not found');
    expect(providerMessage({ message: `bad key ${SECRET}` })).not.toContain('SECRET');
    expect(providerMessage('plain')).toBeNull();
  });
});

describe('createHttpClient', () => {
  it('sends the headers and returns status, parsed data and lower-cased headers', async () => {
    script = [{ status: 201, headers: { 'X-Thing': 'yes' }, body: { snapshot: { id: 'a' } } }];
    const res = await client().request<{ snapshot: { id: string } }>({ method: 'POST', url: '/v2/snapshots', data: { a: 1 } });
    expect(res.status).toBe(201);
    expect(res.data.snapshot.id).toBe('a');
    expect(res.headers['x-thing']).toBe('yes');
    expect(seen[0]?.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('accepts an empty 204', async () => {
    script = [{ status: 204 }];
    const res = await client().request({ method: 'DELETE', url: '/x' });
    expect(res.status).toBe(204);
    expect(res.data).toBeUndefined();
  });

  it('when a 429 carries Retry-After, waits exactly that long and then succeeds', async () => {
    const clock = virtualClock();
    script = [{ status: 429, headers: { 'Retry-After': '7' }, body: { error: 'slow down' } }, { status: 200, body: { ok: 1 } }];
    const res = await client(clock).request({ method: 'GET', url: '/x' });
    expect(res.status).toBe(200);
    expect(clock.sleeps).toEqual([7000]);
    expect(seen).toHaveLength(2);
  });

  it('when a 429 carries RateLimit-Reset, waits until that unix time', async () => {
    const clock = virtualClock();
    script = [
      { status: 429, headers: { 'RateLimit-Reset': String(Math.floor(T0 / 1000) + 12), 'RateLimit-Remaining': '0' } },
      { status: 200, body: {} },
    ];
    await client(clock).request({ method: 'GET', url: '/x' });
    expect(clock.sleeps).toEqual([12_000]);
    expect(clock.now()).toBe(T0 + 12_000);
  });

  it('when a 429 carries X-RateLimit-Reset, waits until that unix time', async () => {
    const clock = virtualClock();
    script = [{ status: 429, headers: { 'X-RateLimit-Reset': String(Math.floor(T0 / 1000) + 3) } }, { status: 200, body: {} }];
    await client(clock).request({ method: 'GET', url: '/x' });
    expect(clock.sleeps).toEqual([3000]);
  });

  it('when a 429 asks for longer than the max wait, throws rate_limited with retryAfterMs and does not sleep', async () => {
    const clock = virtualClock();
    script = [{ status: 429, headers: { 'Retry-After': '600' } }];
    const err = await caught(client(clock, { retry: { maxRateLimitWaitMs: 60_000 } }).request({ method: 'GET', url: '/x' }));
    expect(err.code).toBe('rate_limited');
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(600_000);
    expect(clock.sleeps).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it('when a 429 has no reset header, backs off exponentially', async () => {
    const clock = virtualClock();
    script = [{ status: 429 }, { status: 429 }, { status: 200, body: {} }];
    await client(clock).request({ method: 'GET', url: '/x' });
    // random() = 0.5: half of 500 ms, then half of 1000 ms
    expect(clock.sleeps).toEqual([250, 500]);
  });

  it('when 5xx twice then ok, retries with capped exponential backoff and full jitter', async () => {
    const clock = virtualClock();
    script = [{ status: 502 }, { status: 503, body: { error: 'busy' } }, { status: 200, body: { ok: true } }];
    const res = await client(clock, { random: () => 0.999 }).request({ method: 'GET', url: '/x' });
    expect(res.data).toEqual({ ok: true });
    expect(clock.sleeps).toEqual([499, 999]);
  });

  it('caps the backoff', async () => {
    const clock = virtualClock();
    script = [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 200, body: {} }];
    await client(clock, { random: () => 0.999, retry: { baseMs: 1000, capMs: 3000 } }).request({ method: 'GET', url: '/x' });
    expect(clock.sleeps).toEqual([999, 1998, 2997, 2997]);
  });

  it('when 5xx never stops, gives up after the configured attempts with a transient error', async () => {
    const clock = virtualClock();
    script = Array.from({ length: 10 }, () => ({ status: 500, raw: '<html>Internal Server Error with secret stuff</html>' }));
    const err = await caught(client(clock).request({ method: 'GET', url: '/x' }));
    expect(err.code).toBe('transient');
    expect(err.status).toBe(500);
    expect(err.message).toMatch(/^Testcloud kept failing \(HTTP 500\) after 5 attempts/);
    expect(err.message).not.toContain('html');
    expect(seen).toHaveLength(5);
  });

  it('when the server hangs, times out and retries, then succeeds', async () => {
    const clock = virtualClock();
    script = [{ hang: true }, { status: 200, body: { ok: 1 } }];
    // Long enough that the answering second attempt is never cut off on a busy machine (100 ms was).
    const res = await client(clock, { timeoutMs: 600 }).request({ method: 'GET', url: '/x' });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
  });

  it('when the server hangs every time, ends transient saying it did not answer in time', async () => {
    script = [{ hang: true }, { hang: true }];
    const err = await caught(client(virtualClock(), { timeoutMs: 60, retry: { attempts: 2 } }).request({ method: 'GET', url: '/x' }));
    expect(err.code).toBe('transient');
    expect(err.message).toMatch(/did not answer in time/);
  });

  it('when the connection is reset, retries', async () => {
    script = [{ reset: true }, { status: 200, body: {} }];
    const res = await client().request({ method: 'GET', url: '/x' });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
  });

  it('when nothing listens, ends transient (connection refused)', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const c = createHttpClient({ baseURL: `http://127.0.0.1:${port}`, providerName: 'Testcloud', log: silentLogger, sleep: async () => {}, retry: { attempts: 2 } });
    const err = await caught(c.request({ method: 'GET', url: '/x' }));
    expect(err.code).toBe('transient');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('when a success body is not JSON, throws bad_response without quoting the body', async () => {
    script = [{ status: 200, raw: '{"snapshot": {"id": "abc", tok_leaky' }];
    const err = await caught(client().request({ method: 'GET', url: '/x' }));
    expect(err.code).toBe('bad_response');
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('leaky');
    expect(seen).toHaveLength(1);
  });

  it('retries statuses the adapter marks retryable, and not others', async () => {
    const clock = virtualClock();
    script = [{ status: 422, body: { id: 'unprocessable_entity' } }, { status: 201, body: {} }];
    const res = await client(clock).request({ method: 'POST', url: '/x', retryStatuses: [422] });
    expect(res.status).toBe(201);
    expect(clock.sleeps).toEqual([250]);

    script = [{ status: 422, body: { id: 'unprocessable_entity' } }];
    const err = await caught(client().request({ method: 'POST', url: '/x' }));
    expect(err.code).toBe('invalid');
    expect(seen).toHaveLength(3);
  });

  it('does not resend a POST after a 5xx (it may have been done): one request, transient', async () => {
    script = [{ status: 503 }, { status: 201, body: {} }];
    const err = await caught(client().request({ method: 'POST', url: '/v2/snapshots', data: {} }));
    expect(err.code).toBe('transient');
    expect(err.message).toBe('Testcloud failed (HTTP 503); it will be tried again later.');
    expect(seen).toHaveLength(1);
  });

  it('does not resend a POST after a broken connection, but does after a 429', async () => {
    script = [{ reset: true }];
    expect((await caught(client().request({ method: 'POST', url: '/x', data: {} }))).code).toBe('transient');
    expect(seen).toHaveLength(1);

    const clock = virtualClock();
    script = [{ status: 429, headers: { 'retry-after': '1' } }, { status: 201, body: { ok: 1 } }];
    const res = await client(clock).request({ method: 'POST', url: '/x', data: {} });
    expect(res.status).toBe(201);
    expect(clock.sleeps).toEqual([1000]);
    expect(seen).toHaveLength(3);
  });

  it('retries a refusal the adapter recognises by its body (retryWhen)', async () => {
    script = [
      { status: 422, body: { id: 'unprocessable_entity', message: 'Droplet already has a pending event.' } },
      { status: 201, body: {} },
    ];
    const res = await client().request({
      method: 'POST',
      url: '/x',
      retryWhen: (f) => /pending event/.test(String((f.body as { message?: string }).message)),
    });
    expect(res.status).toBe(201);
    expect(seen).toHaveLength(2);
  });

  it('maps 4xx to the generic classes when the adapter has nothing to say', async () => {
    const cases: [number, string][] = [
      [401, 'auth'],
      [403, 'permission'],
      [404, 'not_found'],
      [409, 'busy'],
      [400, 'invalid'],
      [418, 'failed'],
    ];
    for (const [status, code] of cases) {
      script = [{ status, body: { error: 'x' } }];
      const err = await caught(client().request({ method: 'GET', url: '/x' }));
      expect(err.code, `HTTP ${status}`).toBe(code);
      expect(err.status).toBe(status);
    }
  });

  it('uses the per-call description first, then the client one', async () => {
    const c = client(virtualClock(), {
      describeFailure: (f) => (f.status === 404 ? new ProviderError('not_found', 'client says') : undefined),
    });
    script = [{ status: 404 }];
    expect((await caught(c.request({ method: 'GET', url: '/x' }))).message).toBe('client says');
    script = [{ status: 404 }];
    const perCall = await caught(
      c.request({ method: 'GET', url: '/x', describeFailure: (f) => new ProviderError('invalid', `call says ${f.status}`) }),
    );
    expect(perCall.message).toBe('call says 404');
  });

  it('never logs the Authorization header or bodies, even on failures', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ level: 'trace', destination });
    script = [
      { status: 500, raw: `oops ${SECRET}` },
      { status: 429, headers: { 'retry-after': '1' }, body: { token: SECRET } },
      { status: 401, body: { error: `bad token ${SECRET}` } },
    ];
    const err = await caught(client(virtualClock(), { log }).request({ method: 'PUT', url: '/x', data: { token: SECRET } }));
    expect(err.code).toBe('auth');
    expect(err.message).not.toContain(SECRET);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain('Bearer');
  });
});

describe('createRequestBudget', () => {
  /** Largest number of timestamps inside any half-open window of the given length. */
  function peak(times: number[], windowMs: number): number {
    const sorted = [...times].sort((a, b) => a - b);
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < sorted.length; hi += 1) {
      while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo += 1;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  it('lets a burst up to the limit through at once, then waits for tokens to come back', async () => {
    const clock = virtualClock();
    const budget = createRequestBudget({ perSecond: 3 }, clock);
    const times: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const answered = await budget.take();
      times.push(clock.now());
      answered();
    }
    expect(times.slice(0, 3)).toEqual([T0, T0, T0]);
    expect(times[3]).toBeGreaterThanOrEqual(T0 + 1000);
    expect(peak(times, 1000)).toBe(3);
  });

  it('honours every window together (per minute and per second), also for concurrent callers', async () => {
    const clock = virtualClock();
    const budget = createRequestBudget({ perMinute: 5, perSecond: 2 }, clock);
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, () =>
        budget.take().then((answered) => {
          times.push(clock.now());
          answered();
        }),
      ),
    );
    expect(times).toHaveLength(12);
    expect(peak(times, 1000)).toBeLessThanOrEqual(2);
    expect(peak(times, 60_000)).toBeLessThanOrEqual(5);
    // 12 requests at 5 per minute need at least two full minutes.
    expect(Math.max(...times) - T0).toBeGreaterThanOrEqual(120_000);
  });

  it('is shared by every client of one account, and separate for another account or another registry', () => {
    const budgets = createBudgetRegistry();
    const a1 = budgets.forAccount({ type: 'hetzner', baseURL: 'http://x', credential: 'one' }, { perHour: 3600 });
    const a2 = budgets.forAccount({ type: 'hetzner', baseURL: 'http://x', credential: 'one' }, { perHour: 3600 });
    const b = budgets.forAccount({ type: 'hetzner', baseURL: 'http://x', credential: 'two' }, { perHour: 3600 });
    expect(a1).not.toBeNull();
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
    expect(budgets.forAccount({ type: 'openstack', baseURL: 'http://x', credential: 'one' }, {})).toBeNull();
    // Budgets belong to whoever made the registry (one set of providers), not to the process.
    const elsewhere = createBudgetRegistry().forAccount({ type: 'hetzner', baseURL: 'http://x', credential: 'one' }, { perHour: 3600 });
    expect(elsewhere).not.toBe(a1);
  });

  it('counts a request from its answer: a token in flight does not come back, a late answer moves the window', async () => {
    const clock = virtualClock();
    const budget = createRequestBudget({ perSecond: 2 }, clock);
    const a = await budget.take();
    const b = await budget.take();
    let third = false;
    const next = budget.take().then((answered) => {
      third = true;
      return answered;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(third).toBe(false); // both tokens are in flight: no amount of time frees one
    expect(clock.sleeps).toEqual([]);
    a(); // answered at T0
    await new Promise((r) => setTimeout(r, 5));
    expect(third).toBe(true);
    expect(clock.now()).toBe(T0 + 1000); // one window after that answer
    b();
    b(); // a second call is ignored
    (await next)();
    // Two answers at T0 + 1000 (b and the third): the next request waits for the older.
    await budget.take();
    expect(clock.now()).toBe(T0 + 2000);
  });

  it('refuses a nonsense limit', () => {
    expect(() => createRequestBudget({ perSecond: 0 })).toThrow(/positive limit/);
  });

  it('with a real clock, requests measured at the server never exceed the budget in any second', async () => {
    const budget = createRequestBudget({ perSecond: 10 });
    const c = createHttpClient({ baseURL, providerName: 'Testcloud', log: silentLogger, budget });
    await Promise.all(Array.from({ length: 25 }, () => c.request({ method: 'GET', url: '/x' })));
    expect(seen).toHaveLength(25);
    expect(peak(seen.map((s) => s.at), 1000)).toBeLessThanOrEqual(10);
    // …and the budget does not starve: 25 at 10/s fit in a little over two seconds.
    expect(Math.max(...seen.map((s) => s.at)) - Math.min(...seen.map((s) => s.at))).toBeLessThan(3500);
  });
});
