/**
 * One "driver" per cloud provider for the engine-level tests (tests/providers/engine-*.test.ts):
 * it starts the provider's local fake, writes the providers-file entry under the host's slug
 * (docs/architecture.md: `vultr-v2`, `awsec2`, `hetzner`, `digital-ocean`, `linode`, `openstack`), and
 * knows how to make that fake misbehave the way the provider documents (docs/providers.md): a 5xx
 * on the create call, a 429 with the provider's own reset headers, a failed delete.
 *
 * The tests then drive a real sidecar (real config parsing, engine, MariaDB) through the
 * signed JSON API, so each provider is proven end to end, not only its adapter.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Clock } from '../../sidecar/db.js';
import type { Sidecar } from '../../sidecar/sidecar.js';
import { startFakeEc2, type FakeEc2 } from '../fakes/awsec2.js';
import { startFakeDigitalOcean, type FakeDigitalOcean } from '../fakes/digitalocean.js';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { startFakeLinode, type FakeLinode } from '../fakes/linode.js';
import { OPENSTACK_TEST_USER, startFakeOpenstack, type FakeOpenstack } from '../fakes/openstack.js';
import { startFakeVultr, type FakeVultr } from '../fakes/vultr.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { advance, api, runUntilIdle } from './sidecar.js';

export type ProviderType = 'vultr' | 'awsec2' | 'hetzner' | 'digitalocean' | 'linode' | 'openstack';

interface FakeOf {
  vultr: FakeVultr;
  awsec2: FakeEc2;
  hetzner: FakeHetzner;
  digitalocean: FakeDigitalOcean;
  linode: FakeLinode;
  openstack: FakeOpenstack;
}

/** What a test needs to know about a provider before its fake runs. */
export interface DriverSpec<T extends ProviderType = ProviderType> {
  type: T;
  /** The host's provider slug (`wpcd_server_provider`), used as the providers-file key. */
  slug: string;
  /** An instance id the fake does not know. */
  missingInstanceId: string;
  /** Can a single snapshot be deleted at the provider? (Linode: no.) */
  canDelete: boolean;
  /** Bytes the fake reports for a finished snapshot, or null where the provider gives no size. */
  sizeBytes: number | null;
  /** How the adapter says the credentials were refused. */
  authSentence: RegExp;
  /** How the adapter says the instance does not exist. */
  notFoundSentence: RegExp;
  /** Provider calls one engine attempt makes on a create that keeps failing with 5xx (bounds). */
  createCallsPerAttempt: { min: number; max: number };
  start(): Promise<Driver<T>>;
}

/** A running fake plus the controls the tests use. */
export interface Driver<T extends ProviderType = ProviderType> {
  readonly spec: DriverSpec<T>;
  /** The fake itself, for provider-specific checks. */
  readonly fake: FakeOf[T];
  /** An instance the fake knows. */
  readonly instanceId: string;
  /** The providers-file entry (credentials, apiUrl pointing at the fake). */
  config(opts?: { wrongCredentials?: boolean }): Record<string, unknown>;
  /** Strings that must never reach a user: credentials, right and wrong. */
  secrets(): string[];
  /** Provider ids of the snapshots the fake holds now. */
  stored(): string[];
  /** Someone deletes the snapshot in the provider's own console (through the fake's API). */
  removeOutside(providerSnapshotId: string): Promise<void>;
  /** Calls that ask the provider to create a snapshot. */
  createCalls(): number;
  /** Calls that ask the provider to delete a snapshot. */
  deleteCalls(): number;
  /** The next `times` create calls answer 5xx. */
  failCreates(times: number): void;
  /**
   * The next create call is rate limited with the provider's documented headers, for a short
   * while: the adapter waits (through the sidecar's `sleep`) and tries again. Returns the wait
   * the headers ask for, when they ask for one.
   */
  rateLimitCreateBriefly(): { sleepMs: { min: number; max: number } | null };
  /**
   * Rate limited for longer than the adapter waits in-call: the engine gets `rate_limited`
   * and reschedules the snapshot. Returns the least delay the engine must keep.
   */
  rateLimitCreateLong(): { minDelayMs: number };
  /** Enough delete failures that one engine attempt gives up and schedules a retry. */
  failOneDeleteAttempt(): void;
  /** The provider finishes what a direct create started (DigitalOcean: the action completes). */
  finishOutside(created: { providerSnapshotId: string | null; pendingRef?: string | null }): void;
  close(): Promise<void>;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function mustSucceed(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: the fake answered HTTP ${res.status}`);
  await res.arrayBuffer();
}

// ---------------------------------------------------------------------------------- Vultr

const VULTR_CREATE = { method: 'POST', path: /^\/v2\/snapshots$/ };
const VULTR_DELETE = { method: 'DELETE', path: /^\/v2\/snapshots\/[^/]+$/ };

const vultr: DriverSpec<'vultr'> = {
  type: 'vultr',
  slug: 'vultr-v2',
  missingInstanceId: '0e4c5a55-0000-4000-8000-000000000000',
  canDelete: true,
  sizeBytes: 26_843_545_600,
  authSentence: /^Vultr refused the API key: check apiKey in the providers file\.$/,
  notFoundSentence: /^Vultr has no instance 0e4c5a55-0000-4000-8000-000000000000: was it deleted\?$/,
  // The POST is not resent after a 5xx; the adapter then looks for its description (a GET).
  createCallsPerAttempt: { min: 1, max: 1 },
  async start() {
    const fake: FakeVultr = await startFakeVultr();
    const instanceId = 'cb676a46-66fd-4dfb-b839-443f2e6c0b60';
    fake.addInstance(instanceId, 'web1');
    const wrong = 'WRONGVULTRKEY0000000000';
    return {
      spec: vultr,
      fake,
      instanceId,
      config: (o = {}) => ({ type: 'vultr', apiKey: o.wrongCredentials ? wrong : fake.apiKey, apiUrl: fake.url }),
      secrets: () => [fake.apiKey, wrong],
      stored: () => fake.snapshots().map((s) => s.id),
      async removeOutside(id) {
        await mustSucceed(await fetch(`${fake.url}/v2/snapshots/${id}`, { method: 'DELETE', headers: bearer(fake.apiKey) }), 'Vultr delete');
      },
      createCalls: () => fake.count(VULTR_CREATE),
      deleteCalls: () => fake.count(VULTR_DELETE),
      failCreates: (times) => fake.inject(times, { kind: '5xx', status: 500 }, VULTR_CREATE),
      rateLimitCreateBriefly() {
        // Vultr sends no rate-limit headers: the adapter backs off on its own.
        fake.inject(1, { kind: '429' }, VULTR_CREATE);
        return { sleepMs: null };
      },
      rateLimitCreateLong() {
        // Five refusals use up the client's attempts (DEFAULT_RETRY.attempts).
        fake.inject(5, { kind: '429' }, VULTR_CREATE);
        return { minDelayMs: 0 };
      },
      failOneDeleteAttempt: () => fake.inject(5, { kind: '5xx', status: 500 }, VULTR_DELETE),
      finishOutside: () => undefined,
      close: () => fake.close(),
    };
  },
};

// -------------------------------------------------------------------------------- AWS EC2

const awsec2: DriverSpec<'awsec2'> = {
  type: 'awsec2',
  slug: 'awsec2',
  missingInstanceId: 'i-0fffffffffffffff0',
  canDelete: true,
  sizeBytes: null, // DescribeImages gives no image size
  authSentence: /^AWS did not accept the access key for provider "awsec2": check accessKeyId and secretAccessKey in the providers file\.$/,
  notFoundSentence: /^AWS has no EC2 instance with that id in us-east-1: check the server's instance id and region\.$/,
  // The adapter retries transient failures itself, maxAttempts (default 4) per call.
  createCallsPerAttempt: { min: 4, max: 4 },
  async start() {
    const fake: FakeEc2 = await startFakeEc2();
    const instanceId = 'i-0123456789abcdef0';
    fake.addInstance(instanceId);
    const secret = 'fakeSecretAccessKey/0123456789abcdefghijklmnop';
    const wrongKeyId = 'AKIAWRONGWRONGWRONG1';
    const wrongSecret = 'wrongSecretAccessKey/0123456789abcdefghijklm';
    return {
      spec: awsec2,
      fake,
      instanceId,
      config: (o = {}) => ({
        type: 'awsec2',
        accessKeyId: o.wrongCredentials ? wrongKeyId : fake.accessKeyId,
        secretAccessKey: o.wrongCredentials ? wrongSecret : secret,
        region: 'us-east-1',
        apiUrl: fake.url,
      }),
      secrets: () => [secret, wrongSecret, fake.accessKeyId, wrongKeyId],
      stored: () => fake.images().filter((i) => i.state !== 'deregistered').map((i) => i.imageId),
      async removeOutside(id) {
        // DeregisterImage as the console sends it; the fake checks the key id, not the signature.
        const body = new URLSearchParams({ Action: 'DeregisterImage', Version: '2016-11-15', ImageId: id, DeleteAssociatedSnapshots: 'true' });
        const res = await fetch(`${fake.url}/`, {
          method: 'POST',
          headers: { authorization: `AWS4-HMAC-SHA256 Credential=${fake.accessKeyId}/20260101/us-east-1/ec2/aws4_request`, 'content-type': 'application/x-www-form-urlencoded' },
          body: body.toString(),
        });
        await mustSucceed(res, 'EC2 DeregisterImage');
      },
      createCalls: () => fake.count('CreateImage'),
      deleteCalls: () => fake.count('DeregisterImage'),
      failCreates: (times) => fake.inject(times, { kind: '5xx', action: 'CreateImage' }),
      rateLimitCreateBriefly() {
        // EC2 throttles with RequestLimitExceeded and no reset header: the adapter's own backoff
        // (the shared backoffMs, base 1000 ms) waits between half and all of the first step.
        fake.inject(1, { kind: 'throttle', action: 'CreateImage' });
        return { sleepMs: { min: 500, max: 1000 } };
      },
      rateLimitCreateLong() {
        // Four throttles use up maxAttempts; the next backoff goes to the engine: jittered up to
        // 8 s, and never under half the 1 s base.
        fake.inject(4, { kind: 'throttle', action: 'CreateImage' });
        return { minDelayMs: 500 };
      },
      failOneDeleteAttempt: () => fake.inject(4, { kind: '5xx', action: 'DeregisterImage' }),
      finishOutside: () => undefined,
      close: () => fake.close(),
    };
  },
};

// -------------------------------------------------------------------------------- Hetzner

const HETZNER_CREATE = { method: 'POST', path: /^\/v1\/servers\/\d+\/actions\/create_image$/ };
const HETZNER_DELETE = { method: 'DELETE', path: /^\/v1\/images\/\d+$/ };

const hetzner: DriverSpec<'hetzner'> = {
  type: 'hetzner',
  slug: 'hetzner',
  missingInstanceId: '4712',
  canDelete: true,
  sizeBytes: 1_420_000_000, // the fake reports 1.42 GB
  authSentence: /^Hetzner refused the token: check it in the providers file and that it has read-write permission\.$/,
  notFoundSentence: /^Hetzner has no server 4712: was it deleted\?$/,
  createCallsPerAttempt: { min: 1, max: 1 },
  async start() {
    const fake: FakeHetzner = await startFakeHetzner();
    fake.addServer(4711, 'web1');
    const wrong = 'wrong-hetzner-token-0000';
    return {
      spec: hetzner,
      fake,
      instanceId: '4711',
      config: (o = {}) => ({ type: 'hetzner', token: o.wrongCredentials ? wrong : fake.token, apiUrl: fake.url }),
      secrets: () => [fake.token, wrong],
      stored: () => fake.images().map((i) => String(i.id)),
      async removeOutside(id) {
        await mustSucceed(await fetch(`${fake.url}/images/${id}`, { method: 'DELETE', headers: bearer(fake.token) }), 'Hetzner delete');
      },
      createCalls: () => fake.count(HETZNER_CREATE),
      deleteCalls: () => fake.count(HETZNER_DELETE),
      failCreates: (times) => fake.inject(times, { kind: '5xx', status: 503 }, HETZNER_CREATE),
      rateLimitCreateBriefly() {
        // Hetzner's bucket refills one request a second: the adapter waits 1 s at most, whatever
        // RateLimit-Reset (when the bucket is full again) says.
        fake.inject(1, { kind: '429', headers: { 'RateLimit-Remaining': '0' } }, HETZNER_CREATE);
        return { sleepMs: { min: 0, max: 1000 } };
      },
      rateLimitCreateLong() {
        fake.inject(5, { kind: '429', headers: { 'RateLimit-Remaining': '0' } }, HETZNER_CREATE);
        return { minDelayMs: 0 };
      },
      failOneDeleteAttempt: () => fake.inject(5, { kind: '5xx', status: 503 }, HETZNER_DELETE),
      finishOutside: () => undefined,
      close: () => fake.close(),
    };
  },
};

// --------------------------------------------------------------------------- DigitalOcean

const DO_CREATE = { method: 'POST', path: /^\/v2\/droplets\/\d+\/actions$/ };
const DO_DELETE = { method: 'DELETE', path: /^\/v2\/snapshots\/[^/]+$/ };

const digitalocean: DriverSpec<'digitalocean'> = {
  type: 'digitalocean',
  slug: 'digital-ocean',
  missingInstanceId: '3164445',
  canDelete: true,
  sizeBytes: 2_360_000_000, // the fake reports 2.36 GB
  authSentence: /^DigitalOcean refused the token: check token in the providers file\.$/,
  notFoundSentence: /^DigitalOcean has no droplet 3164445: was it deleted\?$/,
  createCallsPerAttempt: { min: 1, max: 1 },
  async start() {
    const fake: FakeDigitalOcean = await startFakeDigitalOcean();
    fake.addDroplet(3164444, 'web1');
    const wrong = 'dop_v1_wrongtoken000000';
    return {
      spec: digitalocean,
      fake,
      instanceId: '3164444',
      config: (o = {}) => ({ type: 'digitalocean', token: o.wrongCredentials ? wrong : fake.token, apiUrl: fake.url }),
      secrets: () => [fake.token, wrong],
      stored: () => fake.snapshots().map((s) => String(s.id)),
      async removeOutside(id) {
        await mustSucceed(await fetch(`${fake.url}/v2/snapshots/${id}`, { method: 'DELETE', headers: bearer(fake.token) }), 'DigitalOcean delete');
      },
      createCalls: () => fake.count(DO_CREATE),
      deleteCalls: () => fake.count(DO_DELETE),
      failCreates: (times) => fake.inject(times, { kind: '5xx', status: 500 }, DO_CREATE),
      rateLimitCreateBriefly() {
        // A burst 429 carries retry-after (seconds).
        fake.inject(1, { kind: '429', headers: { 'retry-after': '3' } }, DO_CREATE);
        return { sleepMs: { min: 3000, max: 3000 } };
      },
      rateLimitCreateLong() {
        fake.inject(1, { kind: '429', headers: { 'retry-after': '120' } }, DO_CREATE);
        return { minDelayMs: 120_000 };
      },
      failOneDeleteAttempt: () => fake.inject(5, { kind: '5xx', status: 500 }, DO_DELETE),
      finishOutside(created) {
        if (created.pendingRef) fake.finishAction(Number(created.pendingRef));
      },
      close: () => fake.close(),
    };
  },
};

// --------------------------------------------------------------------------------- Linode

const LINODE_CREATE = { method: 'POST', path: /^\/v4\/linode\/instances\/\d+\/backups$/ };

const linode: DriverSpec<'linode'> = {
  type: 'linode',
  slug: 'linode',
  missingInstanceId: '124',
  canDelete: false,
  sizeBytes: null, // a Linode backup has no size of its own
  authSentence: /^Linode refused the API token for provider "linode": check "token" in the providers file/,
  notFoundSentence: /^Linode does not know this Linode \(or this backup\): check the server's instance id\.$/,
  createCallsPerAttempt: { min: 1, max: 1 },
  async start() {
    const fake: FakeLinode = await startFakeLinode();
    fake.addLinode(123, { label: 'web1' });
    const wrong = 'wrong-linode-token-0000';
    return {
      spec: linode,
      fake,
      instanceId: '123',
      config: (o = {}) => ({ type: 'linode', token: o.wrongCredentials ? wrong : fake.token, apiUrl: fake.url }),
      secrets: () => [fake.token, wrong],
      stored: () => {
        const b = fake.backups(123);
        return [b.current, b.inProgress].filter((x) => x !== null).map((x) => String(x.id));
      },
      async removeOutside() {
        throw new Error('Linode has no call that deletes a single snapshot');
      },
      createCalls: () => fake.count(LINODE_CREATE),
      deleteCalls: () => fake.count({ method: 'DELETE' }) + fake.count({ path: /\/backups\/cancel$/ }),
      failCreates: (times) => fake.inject(times, { kind: '5xx', status: 500 }, LINODE_CREATE),
      rateLimitCreateBriefly() {
        fake.inject(1, { kind: '429', headers: { 'Retry-After': '2' } }, LINODE_CREATE);
        return { sleepMs: { min: 2000, max: 2000 } };
      },
      rateLimitCreateLong() {
        fake.inject(1, { kind: '429', headers: { 'Retry-After': '120' } }, LINODE_CREATE);
        return { minDelayMs: 120_000 };
      },
      failOneDeleteAttempt() {
        throw new Error('Linode has no call that deletes a single snapshot');
      },
      finishOutside: () => undefined,
      close: () => fake.close(),
    };
  },
};

// ------------------------------------------------------------------------------ OpenStack

const NOVA_CREATE = { method: 'POST', path: /^\/compute\/v2\.1\/servers\/[^/]+\/action$/ };
const GLANCE_DELETE = { method: 'DELETE', path: /^\/image\/v2\/images\/[^/]+$/ };

const openstack: DriverSpec<'openstack'> = {
  type: 'openstack',
  slug: 'openstack',
  missingInstanceId: '00000000-0000-4000-8000-00000000dead',
  canDelete: true,
  sizeBytes: 2_147_483_648,
  authSentence: /^OpenStack \(Keystone\) refused the login for provider "openstack": check username, password/,
  notFoundSentence: /^OpenStack Nova does not know what we asked for \(POST \/servers\/00000000-0000-4000-8000-00000000dead\/action\): check the server's instance id and the region\.$/,
  createCallsPerAttempt: { min: 1, max: 1 },
  async start() {
    const fake: FakeOpenstack = await startFakeOpenstack();
    const instanceId = '5f0a1e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
    fake.addServer(instanceId);
    const wrong = 'wrong-OpenStack-password-0000';
    const u = OPENSTACK_TEST_USER;
    return {
      spec: openstack,
      fake,
      instanceId,
      config: (o = {}) => ({
        type: 'openstack',
        authUrl: fake.authUrl,
        username: u.username,
        password: o.wrongCredentials ? wrong : u.password,
        userDomainName: u.userDomainName,
        projectName: u.projectName,
        projectDomainName: u.projectDomainName,
        region: 'RegionOne',
      }),
      secrets: () => [u.password, wrong],
      stored: () => fake.images().filter((i) => i.status !== 'deleted').map((i) => i.id),
      async removeOutside(id) {
        const login = await fetch(`${fake.authUrl}/v3/auth/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            auth: {
              identity: { methods: ['password'], password: { user: { name: u.username, domain: { name: u.userDomainName }, password: u.password } } },
              scope: { project: { name: u.projectName, domain: { name: u.projectDomainName } } },
            },
          }),
        });
        const token = login.headers.get('x-subject-token') ?? '';
        await login.arrayBuffer();
        await mustSucceed(await fetch(`${fake.url}/image/v2/images/${id}`, { method: 'DELETE', headers: { 'X-Auth-Token': token } }), 'Glance delete');
      },
      createCalls: () => fake.count(NOVA_CREATE),
      deleteCalls: () => fake.count(GLANCE_DELETE),
      failCreates: (times) => fake.inject(times, { kind: '5xx', status: 500 }, NOVA_CREATE),
      rateLimitCreateBriefly() {
        fake.inject(1, { kind: '429', headers: { 'Retry-After': '2' } }, NOVA_CREATE);
        return { sleepMs: { min: 2000, max: 2000 } };
      },
      rateLimitCreateLong() {
        fake.inject(1, { kind: '429', headers: { 'Retry-After': '120' } }, NOVA_CREATE);
        return { minDelayMs: 120_000 };
      },
      failOneDeleteAttempt: () => fake.inject(5, { kind: '5xx', status: 500 }, GLANCE_DELETE),
      finishOutside: () => undefined,
      close: () => fake.close(),
    };
  },
};

export const DRIVERS: readonly DriverSpec[] = [vultr, awsec2, hetzner, digitalocean, linode, openstack];

export function driverSpec<T extends ProviderType>(type: T): DriverSpec<T> {
  const spec = DRIVERS.find((d) => d.type === type);
  if (!spec) throw new Error(`no driver for ${type}`);
  return spec as unknown as DriverSpec<T>;
}

// ------------------------------------------------------------------------- test helpers

/** A snapshot as the JSON API shows it. */
export interface ApiSnapshot {
  id: number;
  status: string;
  origin: string;
  providerSnapshotId: string | null;
  sizeBytes: number | null;
  lastError: string | null;
  attempts: number;
}

/** One snapshot through the API, or null once its record is gone (404). */
export async function snapshotOf(sc: Sidecar, id: number): Promise<ApiSnapshot | null> {
  const res = await api(sc, 'get', `/api/v1/snapshots/${id}`);
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return res.body.snapshot as ApiSnapshot;
}

/** The snapshot's audit trail, oldest first. */
export async function eventsOf(sc: Sidecar, id: number): Promise<Array<{ action: string; detail: string | null }>> {
  const res = await api(sc, 'get', `/api/v1/snapshots/${id}/events`);
  expect(res.status).toBe(200);
  return [...(res.body.items as Array<{ action: string; detail: string | null }>)].reverse();
}

const PENDING = new Set(['requested', 'creating', 'deleting']);

/**
 * Run the engine, moving its clock a step at a time, until the snapshot is no longer pending
 * (or its record is gone). Returns it as the API shows it, null when gone, and the rounds used.
 */
export async function settle(sc: Sidecar, clock: Clock, id: number, opts: { stepMs?: number; maxRounds?: number } = {}) {
  const step = opts.stepMs ?? 60_000;
  const max = opts.maxRounds ?? 30;
  for (let round = 1; round <= max; round++) {
    await runUntilIdle(sc);
    const snap = await snapshotOf(sc, id);
    if (!snap || !PENDING.has(snap.status)) return { snap, rounds: round };
    advance(clock, step);
  }
  throw new Error(`snapshot ${id} still pending after ${max} rounds`);
}

/**
 * Exactly one engine round (dispatch + claim + work), without the loop of `runUntilIdle`:
 * to look at an in-between state (creating, retrying) that a retry or poll due a moment
 * later in real time must not overtake.
 */
export async function oneRound(sc: Sidecar): Promise<void> {
  await sc.engine.tick();
  await sc.engine.drain();
}

/** Take a snapshot now through the API (origin manual); returns its id. */
export async function takeNow(sc: Sidecar, serverId: number): Promise<number> {
  const res = await api(sc, 'post', `/api/v1/servers/${serverId}/snapshots`, {});
  expect(res.status).toBe(202);
  return res.body.snapshot.id as number;
}

/**
 * A `lastError` a user may see: a sentence, no credential, no raw provider body (JSON or XML).
 */
export function expectPlainSentence(text: string | null | undefined, secrets: string[]): void {
  expect(typeof text).toBe('string');
  const s = text as string;
  expect(s.length).toBeGreaterThan(15);
  expect(s).toMatch(/^[A-Z"]/);
  for (const secret of secrets) expect(s).not.toContain(secret);
  expect(s).not.toMatch(/[{}<>]/);
  expect(s).not.toMatch(/"(error|errors|message|code|id)"\s*:/);
  expect(s).not.toMatch(/\bBearer\b/i);
}

/**
 * Leftovers of one test must not be picked up by the next one's engine (they share a
 * database): no due work, no assignments.
 */
export async function quietDatabase(t: TestDatabase): Promise<void> {
  await t.handle.db.updateTable('ss_snapshots').set({ next_attempt_at: null, lease_owner: null }).execute();
  await t.handle.db.deleteFrom('ss_assignments').execute();
}

/**
 * A provider test file's (or describe block's) bed: one test database, handed to `use` once
 * made; what a test starts (fakes, sidecars) is stopped after it, newest first, and the
 * database is left quiet (and `tidy`'s own tables emptied) for the next test.
 */
export function engineTestbed(use: (t: TestDatabase) => void, tidy?: (t: TestDatabase) => Promise<void>): { defer(stop: () => Promise<unknown>): void } {
  let db: TestDatabase | undefined;
  const stops: Array<() => Promise<unknown>> = [];
  beforeAll(async () => { db = await createTestDatabase(); use(db); });
  afterAll(async () => { await db?.drop(); });
  afterEach(async () => {
    while (stops.length > 0) await stops.pop()!().catch(() => undefined);
    if (db) { await quietDatabase(db); await tidy?.(db); }
  });
  return { defer(stop) { stops.push(stop); } };
}

/**
 * Engine rounds until every snapshot in `ids` is available (at most `max` rounds): each moves
 * the clock past any poll back-off and runs the engine until idle, then `check` sees the
 * requests the provider got in that round and the statuses the round started from. Returns
 * how many rounds it took.
 */
export async function roundsUntilAvailable<R>(sc: Sidecar, clock: Clock, ids: readonly number[], requests: () => readonly R[],
  check: (round: R[], states: Array<string | undefined>) => void, max = 10): Promise<number> {
  let rounds = 0;
  for (; rounds < max; rounds++) {
    const states = await Promise.all(ids.map(async (id) => (await snapshotOf(sc, id))?.status));
    if (states.every((s) => s === 'available')) break;
    const before = requests().length;
    advance(clock, 70_000);
    await runUntilIdle(sc);
    check(requests().slice(before), states);
  }
  return rounds;
}
