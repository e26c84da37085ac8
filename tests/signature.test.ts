import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sign, signedHeaders } from '../sidecar/signing.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { SECRET, sidecarFor } from './helpers/sidecar.js';

let t: TestDatabase;
let sc: Sidecar;
beforeAll(async () => { t = await createTestDatabase(); sc = await sidecarFor(t); });
afterAll(async () => { await sc.stop(0); await t.drop(); });

async function scheduleCount() {
  const r = await t.handle.db.selectFrom('ss_schedules').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('signed requests (the contract in docs/api.md)', () => {
  test('when the docs/api.md test vector is signed, then the signature is the documented one', () => {
    expect(sign('s'.repeat(32), { method: 'GET', pathWithQuery: '/api/v1/schedules', timestamp: '1700000000', nonce: 'n'.repeat(16), actor: '1', body: '' }))
      .toBe('7a867d66e1fb9647be9ff4fd040e83a66aea36579a9f6fe8fe9e1fae578a3c2e');
  });

  test('when a request is correctly signed, then it is served', async () => {
    const res = await request(sc.app).get('/api/v1/schedules').set(signedHeaders(SECRET, { method: 'GET', pathWithQuery: '/api/v1/schedules', actor: '1' }));
    expect(res.status).toBe(200);
  });

  const body = JSON.stringify({ name: 'signed', intervalMinutes: 5, retention: { keepLast: 1 } });
  const post = (headers: Record<string, string>, sent = body) =>
    request(sc.app).post('/api/v1/schedules').set(headers).set('Content-Type', 'application/json').send(sent);

  test.each([
    ['no headers at all', () => ({}), body],
    ['another secret', () => signedHeaders('another-secret-another-secret-xxxxx', { method: 'POST', pathWithQuery: '/api/v1/schedules', body }), body],
    ['a tampered body', () => signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules', body }), body.replace('signed', 'forged')],
    ['a tampered path', () => signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules?x=1', body }), body],
    ['a tampered method', () => signedHeaders(SECRET, { method: 'PUT', pathWithQuery: '/api/v1/schedules', body }), body],
    ['a stale timestamp (301 s old)', () => signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules', body, timestamp: Math.floor(Date.now() / 1000) - 301 }), body],
    ['a timestamp from the future', () => signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules', body, timestamp: Math.floor(Date.now() / 1000) + 400 }), body],
    ['a short nonce', () => signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules', body, nonce: 'short' }), body],
    ['a bad actor', () => signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules', body, actor: 'root;drop' }), body],
    ['a signature that is not hex', () => ({ ...signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules', body }), 'X-SS-Signature': 'zz' }), body],
  ])('when a request has %s, then 401 and nothing is written', async (_what, headers, sent) => {
    const before = await scheduleCount();
    const res = await post(headers(), sent);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect(typeof res.body.error.message).toBe('string');
    expect(await scheduleCount()).toBe(before);
  });

  test('when a signed request is replayed, then the second is refused with 401, also by another sidecar on the same database', async () => {
    const headers = signedHeaders(SECRET, { method: 'POST', pathWithQuery: '/api/v1/schedules', body });
    const first = await post(headers);
    expect(first.status).toBe(201);
    const before = await scheduleCount();
    const again = await post(headers);
    expect(again.status).toBe(401);
    expect(again.body.error.message).toMatch(/replayed/);
    const other = await sidecarFor(t);
    try {
      const third = await request(other.app).post('/api/v1/schedules').set(headers).set('Content-Type', 'application/json').send(body);
      expect(third.status).toBe(401);
    } finally {
      await other.stop(0);
    }
    expect(await scheduleCount()).toBe(before);
  });

  test('when malformed JSON arrives unsigned, then the answer is 401 (the signature is checked before parsing)', async () => {
    const res = await request(sc.app).post('/api/v1/schedules').set('Content-Type', 'application/json').send('{oops');
    expect(res.status).toBe(401);
  });
});
