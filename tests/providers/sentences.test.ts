/**
 * The sentence a snapshot keeps once the engine gives up on an error it kept retrying is built
 * from the error's `what` (its sentence without the promise to try again), not by cutting the
 * promise out of the message with a regular expression. Every retryable error below is made
 * by the real code path (HTTP client, adapter, fake provider), its message is the one users
 * have always seen, and the give-up sentence is the same one the regular expression made.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../sidecar/log.js';
import { createAwsec2Provider } from '../../sidecar/providers/awsec2.js';
import { createDigitaloceanProvider } from '../../sidecar/providers/digitalocean.js';
import { createHetznerProvider } from '../../sidecar/providers/hetzner.js';
import { createRequestBudget } from '../../sidecar/providers/http/budget.js';
import { createHttpClient, type HttpClientOptions } from '../../sidecar/providers/http/client.js';
import { genericFailure } from '../../sidecar/providers/http/failures.js';
import { createLinodeProvider } from '../../sidecar/providers/linode.js';
import { createOpenstackProvider } from '../../sidecar/providers/openstack.js';
import { gaveUpSentence, unexpectedFailure, type GiveUpStep } from '../../sidecar/providers/sentences.js';
import { ProviderError, type ServerRef, type SnapshotMarker } from '../../sidecar/providers/types.js';
import { startFakeEc2 } from '../fakes/awsec2.js';
import { startFakeOpenstack } from '../fakes/openstack.js';
import { adapterContext } from '../helpers/provider-context.js';

/**
 * The engine's give-up sentence as it was built before errors carried `what`: the reference
 * the structured version must match, word for word.
 */
const AFTER: Record<GiveUpStep, string> = {
  create: 'take a new snapshot once the provider works again',
  status: "check the snapshot in the provider's dashboard",
  delete: 'use Trash again later, or Delete Record to remove only our record',
};
function gaveUpByRegex(sentence: string, attempts: number, step: GiveUpStep): string {
  const base = sentence.replace(/;\s*(?:it|they|the request|the snapshot) will be tried again[^.]*\.$|;\s*we will keep trying\.$/i, '.');
  return `${base} Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${AFTER[step]}.`;
}

/** Every request gets the same answer: the test sets it before each case. */
let answer: { status: number; body?: unknown; raw?: string; reset?: boolean } = { status: 200, body: {} };
let server: http.Server;
let url = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    if (answer.reset) {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/json' });
    res.end(answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const instant = { sleep: async () => {} };
const ctx = () => adapterContext({ log: silentLogger, ...instant });
const marker: SnapshotMarker = { snapshotId: 7, name: 'ss-7-web1-20261127T0300Z' };
const serverRef = (instanceId: string): ServerRef => ({ serverId: 1, instanceId, region: 'RegionOne', name: 'web1' });

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** The message users see is unchanged, and giving up says the same as the regex version did. */
function expectParity(err: ProviderError, message: string): void {
  expect(err.retryable).toBe(true);
  expect(err.message).toBe(message);
  for (const step of ['create', 'status', 'delete'] as const) {
    for (const attempts of [1, 6]) {
      expect(gaveUpSentence(err, attempts, step)).toBe(gaveUpByRegex(err.message, attempts, step));
    }
  }
  expect(gaveUpSentence(err, 6, 'create')).not.toMatch(/tried again|keep trying|try again shortly/);
}

describe('the HTTP client every REST adapter shares', () => {
  const client = (extra: Partial<HttpClientOptions> = {}) =>
    createHttpClient({ baseURL: url, providerName: 'Testcloud', log: silentLogger, random: () => 0.5, ...instant, ...extra });

  it('when a 5xx answers a POST, then "failed (HTTP 503)" gives up like the regex did', async () => {
    answer = { status: 503 };
    expectParity(await failure(client().request({ method: 'POST', url: '/x' })), 'Testcloud failed (HTTP 503); it will be tried again later.');
  });

  it('when 5xx never stops, then "kept failing … after 5 attempts" gives up like the regex did', async () => {
    answer = { status: 500 };
    const err = await failure(client().request({ method: 'GET', url: '/x' }));
    expectParity(err, 'Testcloud kept failing (HTTP 500) after 5 attempts; it will be tried again later.');
    expect(err.params).toMatchObject({ provider: 'Testcloud', status: 500, attempts: 5 });
  });

  it('when the connection is reset on a POST, then the network sentence gives up like the regex did', async () => {
    answer = { status: 200, reset: true };
    const err = await failure(client().request({ method: 'POST', url: '/x' }));
    expectParity(err, 'Testcloud could not be reached (ECONNRESET) after 1 attempt; it will be tried again later.');
    expect(err.params.providerCode).toBe('ECONNRESET');
  });

  it('when a 429 asks for longer than the client waits, then "they will be tried again in N s" gives up like the regex did', async () => {
    answer = { status: 429 };
    const err = await failure(client({ rateLimitDelay: () => 600_000 }).request({ method: 'GET', url: '/x' }));
    expectParity(err, 'Testcloud is rate limiting our requests; they will be tried again in 600 s.');
  });

  it('when the adapter says nothing, then the generic busy, rate-limited and 5xx sentences give up like the regex did', () => {
    const f = (status: number) => ({ status, body: undefined, method: 'GET' as const, url: '/x', headers: {}, attempts: 1 });
    expectParity(genericFailure('Testcloud', f(409)), 'Testcloud is busy with this resource; it will be tried again later.');
    expectParity(genericFailure('Testcloud', f(429)), 'Testcloud is rate limiting our requests; they will be tried again later.');
    expectParity(genericFailure('Testcloud', f(502)), 'Testcloud kept failing (HTTP 502); it will be tried again later.');
  });

  it('when our own request budget is used up, then giving up drops its promise too (the regex kept it; the engine defers this case and never gives up on it)', async () => {
    let t = 0;
    const budget = createRequestBudget({ perMinute: 1 }, { now: () => t, sleep: async (ms) => void (t += ms) });
    (await budget.take())();
    answer = { status: 200, body: {} };
    const err = await failure(client({ budget, now: () => t, retry: { maxRateLimitWaitMs: 1000 } }).request({ method: 'GET', url: '/x' }));
    expect(err.message).toBe("Testcloud: this account's request budget is used up for now; the request will be sent in about 60 s.");
    expect(err.status).toBeNull();
    expect(gaveUpSentence(err, 2, 'create')).toBe(
      "Testcloud: this account's request budget is used up for now. Gave up after 2 attempts: take a new snapshot once the provider works again.",
    );
  });
});

describe('the adapters', () => {
  it('Hetzner: a locked server, a rate-limit code and maintenance give up like the regex did', async () => {
    const hetzner = () => createHetznerProvider('hetzner', { type: 'hetzner', token: 't', apiUrl: url }, ctx());
    answer = { status: 423, body: { error: { code: 'locked', message: 'server is locked' } } };
    expectParity(await failure(hetzner().create(serverRef('42'), marker)), 'Hetzner is busy with another action on this server; it will be tried again later.');
    answer = { status: 403, body: { error: { code: 'rate_limit_exceeded', message: 'limit' } } };
    expectParity(await failure(hetzner().delete(serverRef('42'), '9')), 'Hetzner is rate limiting our requests; they will be tried again later.');
    answer = { status: 503, body: { error: { code: 'maintenance', message: 'later' } } };
    const err = await failure(hetzner().delete(serverRef('42'), '9'));
    expectParity(err, 'Hetzner is unavailable for now (maintenance); it will be tried again later.');
    expect(err.params).toMatchObject({ provider: 'Hetzner', providerCode: 'maintenance', attempts: 5 });
  });

  it('DigitalOcean: a busy droplet gives up like the regex did', async () => {
    answer = { status: 409, body: { id: 'conflict', message: 'droplet is busy' } };
    const digitalocean = createDigitaloceanProvider('do', { type: 'digitalocean', token: 't', apiUrl: url }, ctx());
    expectParity(await failure(digitalocean.create(serverRef('42'), marker)), 'DigitalOcean says the droplet is busy with another action; it will be tried again later.');
  });

  it('Linode: a busy Linode gives up like the regex did', async () => {
    answer = { status: 400, body: { errors: [{ reason: 'Linode busy.' }] } };
    const linode = createLinodeProvider('linode', { type: 'linode', token: 't', apiUrl: url }, ctx());
    expectParity(await failure(linode.create(serverRef('42'), marker)), 'Linode says this Linode is busy (Linode busy); the snapshot will be tried again later.');
  });

  it('OpenStack: Nova busy saving the previous image gives up like the regex did', async () => {
    const fake = await startFakeOpenstack();
    try {
      const id = '5f0a1e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
      fake.addServer(id);
      const openstack = createOpenstackProvider('openstack', { type: 'openstack', authUrl: fake.authUrl, ...fake.user, region: 'RegionOne' }, ctx());
      await openstack.create(serverRef(id), marker);
      const err = await failure(openstack.create(serverRef(id), { snapshotId: 8, name: 'ss-8-web1-20261127T0300Z' }));
      expect(err.code).toBe('busy');
      expect(err.message).toMatch(/^OpenStack Nova is busy with this server \(.*task_state image_snapshot.*\); it will be tried again later\.$/);
      expectParity(err, err.message);
    } finally {
      await fake.close();
    }
  });

  it('AWS: throttling, a busy instance and a 5xx give up like the regex did', async () => {
    const fake = await startFakeEc2({ accessKeyId: 'AKIAFAKEFAKEFAKE0001' });
    try {
      const aws = () => createAwsec2Provider('awsec2', {
        type: 'awsec2', accessKeyId: 'AKIAFAKEFAKEFAKE0001', secretAccessKey: 'secret', region: 'eu-west-1', apiUrl: fake.url, maxAttempts: 1,
      }, ctx());
      const instance = serverRef('i-0123456789abcdef0');
      fake.inject(1, { kind: 'throttle', action: 'CreateImage' });
      expectParity(await failure(aws().create(instance, marker)), 'AWS is throttling requests for this account (RequestLimitExceeded); the request will be tried again later.');
      fake.inject(1, { kind: 'error', action: 'CreateImage', status: 400, code: 'IncorrectInstanceState', message: 'not now' });
      expectParity(await failure(aws().create(instance, marker)), 'AWS cannot snapshot the instance right now (IncorrectInstanceState); it will be tried again later.');
      fake.inject(1, { kind: '5xx', action: 'DescribeImages' });
      const err = await failure(aws().findByMarker(instance, marker));
      expect(err.message).toMatch(/^AWS had a temporary problem answering DescribeImages \(.+\); it will be tried again later\.$/);
      expectParity(err, err.message);
    } finally {
      await fake.close();
    }
  });

  it('an unexpected failure (not a ProviderError) gives up like the regex did with the engine\'s "we will keep trying"', () => {
    expectParity(unexpectedFailure('Hetzner Cloud', new Error('boom')), 'Hetzner Cloud could not be reached or answered unexpectedly; we will keep trying.');
  });

  it('the sandbox\'s "we will try again shortly" is dropped when giving up (the regex missed it and left a false promise)', () => {
    const err = new ProviderError('rate_limited', 'The sandbox provider is rate-limiting requests.', { retryAfterMs: 1000, status: 429, retry: { kind: 'shortly' } });
    expect(err.message).toBe('The sandbox provider is rate-limiting requests; we will try again shortly.');
    expect(gaveUpSentence(err, 3, 'delete')).toBe(
      'The sandbox provider is rate-limiting requests. Gave up after 3 attempts: use Trash again later, or Delete Record to remove only our record.',
    );
  });

  it('a garbled answer the engine retries (bad_response, no promise) gives up like the regex did', async () => {
    answer = { status: 200, raw: '<html>' };
    const err = await failure(createHttpClient({ baseURL: url, providerName: 'Testcloud', log: silentLogger, ...instant }).request({ method: 'GET', url: '/x' }));
    expect(err.code).toBe('bad_response');
    expect(err.what).toBe(err.message);
    expect(gaveUpSentence(err, 6, 'status')).toBe(gaveUpByRegex(err.message, 6, 'status'));
  });
});
