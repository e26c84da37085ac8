/**
 * The machinery the provider fakes share (tests/fakes/base.ts): injected failures are served
 * in order and only to matching requests, connection-level failures look to a client like
 * the real thing, and close() ends even with an answer left hanging.
 */
import http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import {
  actDiscardingAnswer,
  countMatching,
  FailureQueue,
  peakInWindow,
  serveConnectionFailure,
  startFakeHttpServer,
  type FakeHttpServer,
  type InjectedFailure,
} from '../fakes/base.js';

/** One request with node's own client, so a dropped connection shows as its error code. */
function call(url: string, method: string, body?: string, timeoutMs = 2000): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

let server: FakeHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A fake with one route that counts what it did, and failures injected through the queue. */
async function fakeWithQueue() {
  const queue = new FailureQueue<InjectedFailure>();
  const seen: { method: string; path: string; json: unknown; badJson: boolean }[] = [];
  let acted = 0;
  const route = (res: http.ServerResponse) => {
    acted += 1;
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  };
  const s = await startFakeHttpServer((r, res) => {
    seen.push({ method: r.method, path: r.url.pathname, json: r.json, badJson: r.badJson });
    const f = queue.take(r.method, r.url.pathname);
    if (f && serveConnectionFailure(s, r, res, f, route)) return;
    if (f?.kind === '5xx') {
      res.writeHead(f.status ?? 500);
      return void res.end();
    }
    route(res);
  });
  server = s;
  return { s, queue, seen, acted: () => acted };
}

describe('fake server base', () => {
  test('when failures are queued, then they go to matching requests in order and are used up', async () => {
    const { s, queue, seen } = await fakeWithQueue();
    queue.add(2, { kind: '5xx', status: 503 }, { method: 'POST', path: /^\/a$/ });
    queue.add(1, { kind: '5xx', status: 502 });
    expect(await call(`${s.url}/b`, 'GET')).toMatchObject({ status: 502 }); // only the catch-all matches
    expect(await call(`${s.url}/a`, 'POST', '{"x":1}')).toMatchObject({ status: 503 });
    expect(await call(`${s.url}/a`, 'POST', 'not json')).toMatchObject({ status: 503 });
    expect(await call(`${s.url}/a`, 'POST')).toMatchObject({ status: 201 });
    expect(seen.map((r) => [r.method, r.path, r.json, r.badJson])).toEqual([
      ['GET', '/b', undefined, false],
      ['POST', '/a', { x: 1 }, false],
      ['POST', '/a', undefined, true],
      ['POST', '/a', undefined, false],
    ]);
    expect(countMatching(seen, { method: 'POST' })).toBe(3);
    expect(countMatching(seen)).toBe(4);
  });

  test('when a reset is injected, then the client sees the connection dropped and nothing was done', async () => {
    const { s, queue, acted } = await fakeWithQueue();
    queue.add(1, { kind: 'reset' });
    expect(await call(`${s.url}/a`, 'POST')).toEqual({ error: 'ECONNRESET' });
    expect(acted()).toBe(0);
  });

  test('when a lost reply is injected, then the request was carried out but the client sees the connection dropped', async () => {
    const { s, queue, acted } = await fakeWithQueue();
    queue.add(1, { kind: 'lost' });
    expect(await call(`${s.url}/a`, 'POST')).toEqual({ error: 'ECONNRESET' });
    expect(acted()).toBe(1);
    expect(await call(`${s.url}/a`, 'POST')).toMatchObject({ status: 201 });
  });

  test('when a request is left hanging, then the client times out and close() still ends', async () => {
    const { s, queue } = await fakeWithQueue();
    queue.add(1, { kind: 'hang' });
    expect(await call(`${s.url}/a`, 'GET', undefined, 200)).toEqual({ error: 'TIMEOUT' });
    const pending = call(`${s.url}/a`, 'GET', undefined, 15_000); // the queue is used up: this one is answered
    expect(await pending).toMatchObject({ status: 201 });
    queue.add(1, { kind: 'hang' });
    const hung = call(`${s.url}/a`, 'GET', undefined, 10_000);
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    server = undefined;
    expect(await hung).toHaveProperty('error');
  });

  test('when an answer is discarded, then the action ran and nothing was written to the client', () => {
    let ran = 0;
    actDiscardingAnswer((res) => {
      ran += 1;
      res.writeHead(200);
      res.end('ignored');
    });
    expect(ran).toBe(1);
  });

  test('peakInWindow counts the busiest window, its end excluded', () => {
    expect(peakInWindow([], 1000)).toBe(0);
    expect(peakInWindow([0, 999, 1000, 1001, 5000], 1000)).toBe(3);
    expect(peakInWindow([3000, 0, 1000, 2000], 1000)).toBe(1);
  });
});
