/**
 * A pass-through HTTP proxy in front of a fake provider that can *hold* one chosen request:
 *   before — the request has not reached the provider (it did nothing yet), the caller waits;
 *            `releaseHeld()` sends it on later, as a slow network would;
 *   after  — the provider carries it out, but its answer never comes back.
 * Holding is how the crash scenario kills a sidecar at an exact moment ("the provider
 * accepted the create, the sidecar has not stored the id yet") by observing state instead
 * of guessing with sleeps.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldRule {
  method: string;
  path: RegExp;
  when: 'before' | 'after';
}

export interface Held {
  method: string;
  path: string;
  when: 'before' | 'after';
  /** The provider's status code for an `after` hold. */
  status: number | null;
}

export interface HoldProxy {
  /** The proxy's base URL with the given path (e.g. `/v1`). */
  url(basePath: string): string;
  /** Hold the first request matching `rule`; resolves once it is held. */
  hold(rule: HoldRule, timeoutMs?: number): Promise<Held>;
  /** Forget a rule that has not matched yet. */
  cancel(): void;
  /** Send the requests held `before` on to the provider now, answering their callers if still there. */
  releaseHeld(): Promise<number>;
  readonly held: number;
  close(): Promise<void>;
}

export async function startHoldProxy(target: string): Promise<HoldProxy> {
  const t = new URL(target);
  let rule: { rule: HoldRule; resolve: (h: Held) => void } | null = null;
  const hung = new Set<http.ServerResponse>();
  let waiting: Array<() => Promise<void>> = [];
  let heldCount = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0]!;
      const r = rule && rule.rule.method === req.method && rule.rule.path.test(path) ? rule : null;
      if (r) rule = null;
      /** Forward to the provider; `holdAnswer` swallows the answer (an `after` hold). */
      const forward = (holdAnswer: boolean) => new Promise<void>((done) => {
        const fwd = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', () => {
            done();
            if (holdAnswer && r) {
              hung.add(res);
              heldCount++;
              r.resolve({ method: req.method!, path, when: 'after', status: up.statusCode ?? 0 });
              return;
            }
            if (res.destroyed) return;
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(out));
          });
        });
        fwd.on('error', () => { done(); res.destroy(); });
        fwd.end(body);
      });
      if (r && r.rule.when === 'before') {
        hung.add(res);
        heldCount++;
        waiting.push(async () => { hung.delete(res); await forward(false); });
        r.resolve({ method: req.method!, path, when: 'before', status: null });
        return;
      }
      void forward(r !== null);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: (basePath) => `http://127.0.0.1:${port}${basePath}`,
    hold(holdRule, timeoutMs = 30_000) {
      return new Promise<Held>((resolve, reject) => {
        const timer = setTimeout(() => { rule = null; reject(new Error(`no ${holdRule.method} ${holdRule.path} came within ${timeoutMs} ms`)); }, timeoutMs);
        rule = { rule: holdRule, resolve: (h) => { clearTimeout(timer); resolve(h); } };
      });
    },
    cancel() { rule = null; },
    async releaseHeld() {
      const now = waiting;
      waiting = [];
      await Promise.all(now.map((f) => f()));
      return now.length;
    },
    get held() { return heldCount; },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
