/**
 * Scenario 7 — hostile input on the JSON API, against real sidecar processes.
 *   fuzz     fast-check sends random and malformed requests to every route: bodies that are
 *            almost valid with one hostile value (unicode, huge and non-finite numbers, SQL
 *            and HTML payloads, prototype keys, dates out of range), whole random JSON
 *            values, raw bytes, oversized bodies; hostile path ids and query strings. Each
 *            answer must be a documented 4xx (400, 401, 404, 409, 413) or a success, never a
 *            5xx, always the JSON error shape without a stack trace; a rejected request must
 *            leave every table exactly as it was (compared row by row before and after).
 *   signing  replay (to the same and to another sidecar), clock skew, tampering with body,
 *            path, query, method or actor, another secret, missing or malformed headers:
 *            all 401, nothing written.
 *   secrets  SS_SHARED_SECRET, the provider tokens and the database password never appear
 *            in any log line of the sidecar processes or in any API answer.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { sign } from '../../sidecar/signing.js';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { hetznerCopies, sandboxCopies } from './harness/ledger.js';
import { SidecarProcess, SECRET, leaks, stopAll, waitFor } from './harness/processes.js';
import { runSeed } from './harness/random.js';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';
import { createWorld, providersFile, seedServers, type World } from './harness/world.js';

const SCENARIO = '7 hostile input';
const started = Date.now();
const seed = runSeed();
const DB_PASSWORD = `db-pass-${randomBytes(12).toString('hex')}`;
const BAD_TOKEN = `bad-token-${randomBytes(16).toString('hex')}`;
let world: World;
let fake: FakeHetzner;
/** A second account: the sidecar's token for it is wrong, so every call is refused (and logged). */
let refusing: FakeHetzner;
let a: SidecarProcess;
let b: SidecarProcess;
const sidecars: SidecarProcess[] = [];
const answersSeen: string[] = [];
const tally = { requests: 0, byStatus: new Map<number, number>(), rejectedWrites: 0, replaysAccepted: 0, attacks: 0, problems: [] as string[], passedParts: 0 };
const ids = { servers: [] as number[], schedules: [] as number[], snapshots: [] as number[] };

beforeAll(async () => {
  markStarted(SCENARIO);
  const base = inject('mysqlUrl');
  world = await createWorld(base);
  // The sidecars log in with a password, so that it too can be looked for in their logs.
  let url = world.url;
  try {
    const c = await createConnection({ uri: base });
    const user = `ss_rel_${randomBytes(3).toString('hex')}`;
    await c.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD}'`);
    await c.query(`GRANT ALL ON \`${world.name}\`.* TO '${user}'@'127.0.0.1'`);
    await c.end();
    const u = new URL(base);
    url = `mysql://${user}:${DB_PASSWORD}@${u.host}/${world.name}`;
  } catch { /* a server that refuses CREATE USER: run with its own credentials */ }
  fake = await startFakeHetzner({ rateLimitPerHour: 10_000_000 });
  fake.addServer(4_000_001);
  refusing = await startFakeHetzner({ rateLimitPerHour: 10_000_000 });
  refusing.addServer(4_000_002);
  ids.servers = await seedServers(world, [
    { provider: 'sandbox', instanceId: 'i-fuzz-1', title: 'fuzz-sandbox' },
    { provider: 'hetzner', instanceId: '4000001', title: 'fuzz-hetzner' },
    { provider: 'hetzner-bad', instanceId: '4000002', title: 'fuzz-bad-token' },
    { provider: 'nowhere', instanceId: 'i-nowhere', title: 'fuzz-unconfigured' },
  ]);
  const file = providersFile({
    sandbox: { type: 'sandbox', latencyMs: 0 },
    hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url },
    'hetzner-bad': { type: 'hetzner', token: BAD_TOKEN, apiUrl: refusing.url },
  });
  a = new SidecarProcess({ scenario: 's7', instanceId: 'alpha', databaseUrl: url, providersFile: file, logLevel: 'debug' });
  b = new SidecarProcess({ scenario: 's7', instanceId: 'bravo', databaseUrl: url, providersFile: file, logLevel: 'debug' });
  sidecars.push(a, b);
  await Promise.all(sidecars.map((s) => s.start()));
  // Something to aim at: a schedule, snapshots on each kind of server.
  const s = await a.api('POST', '/api/v1/schedules', { name: 'Fuzz target', intervalMinutes: 60, retention: { keepLast: 3 } });
  ids.schedules.push(s.body.schedule.id);
  for (const server of ids.servers.slice(0, 3)) {
    const r = await a.api('POST', `/api/v1/servers/${server}/snapshots`, { note: 'target' });
    ids.snapshots.push(r.body.snapshot.id);
  }
  await engineIdle();
}, 120_000);

/** Filled by the last test: what the whole run left behind. */
const final = { logLeaks: [] as string[], answerLeaks: [] as string[], orphaned: NaN };

afterAll(async () => {
  await stopAll(sidecars);
  await fake?.close();
  await refusing?.close();
  const passed = tally.passedParts === 3;
  const statuses = [...tally.byStatus].sort(([x], [y]) => x - y).map(([st, n]) => `${st}×${n}`).join(' ');
  writeResult({
    scenario: SCENARIO, rounds: tally.requests, roundsOf: 'requests', faults: tally.requests + tally.attacks,
    lost: tally.rejectedWrites, duplicated: tally.replaysAccepted, orphaned: final.orphaned,
    notes: `answers ${statuses}; ${tally.attacks} signing attacks; secrets in logs ${final.logLeaks.length}, in answers ${final.answerLeaks.length} (${sidecars.reduce((n, x) => n + x.lines.length, 0)} log lines); lost = rejected requests that wrote, duplicated = replays accepted; seed ${seed}`,
    passed, ms: Date.now() - started,
  });
  if (passed) await world.drop();
  else console.log(`${SCENARIO}: database ${world?.name} kept; problems:\n${tally.problems.slice(0, 20).join('\n')}`);
});

function secrets(): string[] { return [SECRET, fake.token, refusing.token, BAD_TOKEN, DB_PASSWORD]; }

/** Every table we own and WordPress's two, row by row (ss_nonces only where asked). */
async function dump(withNonces = false): Promise<string> {
  const db = world.db;
  const tables = ['ss_schedules', 'ss_assignments', 'ss_snapshots', 'ss_events', 'ss_sandbox_snapshots', 'posts', 'postmeta', ...(withNonces ? ['ss_nonces'] : [])] as const;
  const out: Record<string, unknown> = {};
  for (const table of tables) out[table] = await db.selectFrom(table as 'ss_schedules').selectAll().execute();
  return JSON.stringify(out);
}

async function engineIdle(): Promise<void> {
  await waitFor('engine idle', async () => {
    const r = await world.db.selectFrom('ss_snapshots').select((eb) => eb.fn.countAll<number>().as('n')).where('next_attempt_at', 'is not', null).executeTakeFirstOrThrow();
    return Number(r.n) === 0;
  }, 60_000, 50);
  // No slot may come due while requests are compared: push every assignment's next slot far out.
  await world.db.updateTable('ss_assignments').set({ next_slot_at: new Date('2099-01-01T00:00:00Z') }).execute();
}

interface RawRequest {
  method: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
}

/** Sends exactly these bytes (fetch would normalise the path, and the signature covers it). */
function send(target: SidecarProcess, req: RawRequest): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.path, headers: { ...req.headers, 'Content-Length': String(req.body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    r.setTimeout(30_000, () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Correctly signed over the exact bytes sent, as the plugin signs. */
function signed(method: string, path: string, body: Buffer | string, extra: Record<string, string> = {}, actor = '1'): RawRequest {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const signature = sign(SECRET, { method, pathWithQuery: path, timestamp, nonce, actor, body: buf });
  return { method, path, body: buf, headers: { 'X-SS-Timestamp': timestamp, 'X-SS-Nonce': nonce, 'X-SS-Actor': actor, 'X-SS-Signature': signature, ...extra } };
}

// ---- the fuzzer's vocabulary ----

const NASTY_STRINGS = [
  "' OR '1'='1", "1; DROP TABLE wp_ss_snapshots; --", '1 UNION SELECT user,password FROM mysql.user', '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>', '../../../../etc/passwd', '%00', '\u0000', '\u202eevil', '\ud800', '𝕳𝖊𝖑𝖑𝖔 🙂👩‍👩‍👧', 'Ω≈ç√∫˜µ≤≥÷', '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}', 'NaN', 'Infinity', '-0', '1e309', '9007199254740993', '0x10', ' 1', '1 ', '١٢٣', '', ' ', 'null', 'true', '[]',
  '0000-01-01', '9999-12-31', '10000-01-01', '2027-02-29', '2024-02-29T25:00:00Z', '+275760-09-13T00:00:00Z', '1969-12-31T23:59:59Z',
  'Mars/Olympus', 'Etc/GMT+14', '../UTC', '* * * * * *', '61 * * * *', '0 0 31 2 *', '@reboot', 'x'.repeat(300), 'ä'.repeat(200),
];
const RAW_NUMBERS = ['1e309', '-1e309', '123456789012345678901234567890', '-0', '1.0000000000000002', '0.1e1', '1E2', '9007199254740993', '-9223372036854775809', '18446744073709551616'];
const nastyString = fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
const nastyNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, 2 ** 31, -(2 ** 31)));
const nastyKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'id', 'status', 'origin', 'scheduleId', 'providerSnapshotId'), nastyString);
const { value: nastyValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, nastyString, nastyNumber, fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(nastyKey, tie('value'), { maxKeys: 4 })),
}));

const ROUTES: Array<[string, string]> = [
  ['GET', '/api/v1/schedules'], ['POST', '/api/v1/schedules'], ['POST', '/api/v1/schedules/preview'],
  ['GET', '/api/v1/schedules/:schedule'], ['PUT', '/api/v1/schedules/:schedule'], ['DELETE', '/api/v1/schedules/:schedule'],
  ['GET', '/api/v1/schedules/:schedule/retention-preview'], ['GET', '/api/v1/servers'], ['GET', '/api/v1/servers/:server'],
  ['GET', '/api/v1/servers/:server/schedules'], ['PUT', '/api/v1/servers/:server/schedules'], ['POST', '/api/v1/servers/:server/snapshots'],
  ['GET', '/api/v1/servers/:server/retention-preview'], ['POST', '/api/v1/panel-snapshots'], ['GET', '/api/v1/snapshots'],
  ['GET', '/api/v1/snapshots/:snapshot'], ['PATCH', '/api/v1/snapshots/:snapshot'], ['DELETE', '/api/v1/snapshots/:snapshot'],
  ['DELETE', '/api/v1/snapshots/:snapshot/record'], ['GET', '/api/v1/snapshots/:snapshot/events'], ['GET', '/api/v1/providers'],
  ['POST', '/api/v1/sandbox/snapshots'], ['GET', '/api/v1/:anything'], ['POST', '/api/v1/servers/:server/:anything'],
];

function validBody(route: string): Record<string, unknown> | null {
  if (route.startsWith('/api/v1/schedules') && !route.includes('retention')) {
    return { name: 'fuzz schedule', intervalMinutes: 60, timezone: 'Europe/Berlin', retention: { keepLast: 3, keepDaily: 7, minKeep: 1 }, enabled: true };
  }
  if (route.endsWith('/schedules')) return { scheduleIds: [ids.schedules[0]] };
  if (route.endsWith('/snapshots') && route.includes('servers')) return { note: 'fuzz' };
  if (route.endsWith('panel-snapshots')) return { serverId: ids.servers[0], providerSnapshotId: 'sbx-999999', note: 'fuzz' };
  if (route === '/api/v1/snapshots/:snapshot') return { keepForever: true, deleteNotBefore: '2030-01-31', note: 'fuzz' };
  if (route.endsWith('sandbox/snapshots')) return { serverId: ids.servers[0] };
  return null;
}

/** Percent-encodes every byte of the UTF-8 form (lone surrogates included), so anything can travel in a path. */
const pct = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

/** A path segment: usually a real id, sometimes hostile (percent-encoded so it can be sent). */
const segmentArb = (kind: string) => fc.oneof(
  { weight: 3, arbitrary: fc.constant(kind) },
  { weight: 2, arbitrary: fc.constantFrom('0', '-1', '1.5', '1e3', '99999999999999999999', '9007199254740993', '00001', '+1', '0x1', '1;', '%2e%2e', '..') },
  { weight: 2, arbitrary: nastyString.map((s) => pct(s) || 'x') },
);

const queryArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.array(fc.tuple(fc.constantFrom('serverId', 'scheduleId', 'status', 'origin', 'limit', 'cursor', 'afterId', 'x', 'serverId[]', '__proto__'), nastyString), { minLength: 1, maxLength: 4 })
    .map((pairs) => `?${pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}`) },
  { weight: 1, arbitrary: fc.constantFrom('?limit=99999999999999999999', '?limit=0', '?limit=-5', '?cursor=aWQ6MA', '?cursor=%00', '?serverId=1&serverId=2', '?status=available&status=failed', '?limit=200&cursor=aWQ6OTk5OTk5OTk5OTk5OTk5OTk5', '?a[b][c]=1', '?' + 'x=1&'.repeat(300)) },
);

type BodyPlan =
  | { kind: 'valid' } | { kind: 'none' }
  | { kind: 'replace'; path: 'top' | 'retention'; key: string; value: unknown }
  | { kind: 'add'; key: string; value: unknown }
  | { kind: 'drop'; index: number }
  | { kind: 'whole'; value: unknown }
  | { kind: 'rawNumber'; index: number; literal: string }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'huge'; size: number }
  | { kind: 'deep'; depth: number };

const bodyArb: fc.Arbitrary<BodyPlan> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'valid' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom('top' as const, 'retention' as const), key: fc.constantFrom('name', 'intervalMinutes', 'cron', 'timezone', 'retention', 'enabled', 'keepLast', 'keepDaily', 'maxAgeDays', 'minKeep', 'scheduleIds', 'note', 'serverId', 'providerSnapshotId', 'keepForever', 'deleteNotBefore'), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), key: nastyKey, value: nastyValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), index: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('whole' as const), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rawNumber' as const), index: fc.nat(5), literal: fc.constantFrom(...RAW_NUMBERS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(fc.constantFrom('{', '{"a":', '[1,2', 'nul', '{"name":"x",}', "{'name':'x'}", '\ufeff{}', '{"__proto__":{"polluted":1},"name":"p","intervalMinutes":5,"retention":{"keepLast":1}}', '{"constructor":{"prototype":{"x":1}}}'), fc.string()) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), size: fc.constantFrom(65 * 1024, 200 * 1024, 2 * 1024 * 1024) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: fc.constantFrom(100, 5_000, 200_000) }) },
);

function buildBody(route: string, plan: BodyPlan): Buffer {
  const valid = validBody(route) ?? {};
  const json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null', 'utf8');
  switch (plan.kind) {
    case 'none': return Buffer.alloc(0);
    case 'valid': return validBody(route) ? json(valid) : Buffer.alloc(0);
    case 'replace': {
      const body = structuredClone(valid) as Record<string, unknown>;
      if (plan.path === 'retention' && body.retention && typeof body.retention === 'object') (body.retention as Record<string, unknown>)[plan.key] = plan.value;
      else body[plan.key] = plan.value;
      return json(body);
    }
    case 'add': return Buffer.from(JSON.stringify(valid).replace(/^\{/, `{${JSON.stringify(plan.key)}:${JSON.stringify(plan.value) ?? 'null'}${Object.keys(valid).length ? ',' : ''}`), 'utf8');
    case 'drop': { const body = { ...valid }; delete body[Object.keys(body)[plan.index % Math.max(1, Object.keys(body).length)] ?? '']; return json(body); }
    case 'whole': return json(plan.value);
    case 'rawNumber': {
      const keys = Object.keys(valid);
      const key = keys[plan.index % Math.max(1, keys.length)] ?? 'x';
      return Buffer.from(JSON.stringify({ ...valid, [key]: '__RAW__' }).replace('"__RAW__"', plan.literal), 'utf8');
    }
    case 'text': return Buffer.from(plan.text, 'utf8');
    case 'bytes': return Buffer.from(plan.bytes);
    case 'huge': return Buffer.from(JSON.stringify({ ...valid, note: 'x'.repeat(plan.size) }), 'utf8');
    case 'deep': return Buffer.from('['.repeat(plan.depth) + ']'.repeat(plan.depth), 'utf8');
  }
}

const requestArb = fc.record({
  route: fc.constantFrom(...ROUTES),
  server: segmentArb('SERVER'), schedule: segmentArb('SCHEDULE'), snapshot: segmentArb('SNAPSHOT'), anything: segmentArb('x'),
  query: queryArb, body: bodyArb,
  contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=utf-16'),
  actor: fc.constantFrom('1', '1', '42', 'system'),
});

const DOCUMENTED = new Set([400, 401, 404, 409, 413]);
const STACK = /(?:\\n|\n)\s+at \S+ \(|node_modules\/|\.(?:ts|js):\d+:\d+|\bER_[A-Z_]{3,}\b|SQL syntax|sqlMessage|sqlState/;

describe('hostile input', () => {
  test(`when ${SCALE.fuzzRuns} random and malformed requests hit every route, then each answer is a documented 4xx or a success, never a 5xx, and a rejected one writes nothing`, async () => {
    const pick = <T>(xs: T[], seedText: string) => xs[Math.abs([...seedText].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7)) % xs.length]!;
    await fc.assert(fc.asyncProperty(requestArb, async (r) => {
      const [method, pattern] = r.route;
      const path = pattern
        .replace(':server', r.server === 'SERVER' ? String(pick(ids.servers, r.query + method)) : r.server)
        .replace(':schedule', r.schedule === 'SCHEDULE' ? String(pick(ids.schedules, r.query)) : r.schedule)
        .replace(':snapshot', r.snapshot === 'SNAPSHOT' ? String(pick(ids.snapshots, r.query + pattern)) : r.snapshot)
        .replace(':anything', r.anything) + r.query;
      const body = buildBody(pattern, r.body);
      const headers: Record<string, string> = r.contentType ? { 'Content-Type': r.contentType } : {};
      const before = await dump();
      const res = await send(a, signed(method, path, body, headers, r.actor)).catch((e: Error) => ({ status: -1, text: e.message, headers: {} }));
      tally.requests++;
      tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
      answersSeen.push(res.text.slice(0, 5000), JSON.stringify(res.headers));
      const problems: string[] = [];
      const what = `${method} ${path.slice(0, 120)} [${r.body.kind}]`;
      if (res.status >= 500 || res.status < 200 || (res.status >= 300 && res.status < 400)) problems.push(`${what} → ${res.status} ${res.text.slice(0, 200)}`);
      if (res.status >= 400 && !DOCUMENTED.has(res.status)) problems.push(`${what} → undocumented ${res.status}`);
      if (res.status >= 400) {
        let shape: { error?: { code?: unknown; message?: unknown } } | null = null;
        try { shape = JSON.parse(res.text); } catch { /* not JSON */ }
        if (typeof shape?.error?.code !== 'string' || typeof shape.error.message !== 'string') problems.push(`${what} → ${res.status} without the error shape: ${res.text.slice(0, 120)}`);
        const after = await dump();
        if (after !== before) { tally.rejectedWrites++; problems.push(`${what} → ${res.status} but the tables changed`); }
      } else {
        // Accepted: remember what it made, let the engine finish, then go on from the new state.
        try {
          const parsed = JSON.parse(res.text) as { schedule?: { id: number }; snapshot?: { id: number } };
          if (parsed.schedule?.id) ids.schedules.push(parsed.schedule.id);
          if (parsed.snapshot?.id) ids.snapshots.push(parsed.snapshot.id);
        } catch { /* fine */ }
        await engineIdle();
      }
      if (STACK.test(res.text)) problems.push(`${what} → ${res.status} reveals internals: ${res.text.slice(0, 200)}`);
      if (problems.length) tally.problems.push(...problems);
      return problems.length === 0;
    }), { numRuns: SCALE.fuzzRuns, seed, endOnFailure: true });
    expect(a.alive && b.alive).toBe(true);
    tally.passedParts++;
  });

  test('when signed requests are replayed, skewed, tampered with or signed with another secret, then each is refused with 401 and nothing is written', async () => {
    const path = '/api/v1/schedules';
    const body = JSON.stringify({ name: 'signed once', intervalMinutes: 120, retention: { keepLast: 2 } });
    const problems: string[] = [];
    const attack = async (name: string, target: SidecarProcess, req: RawRequest, want = 401) => {
      tally.attacks++;
      const before = await dump(true);
      const res = await send(target, req);
      answersSeen.push(res.text);
      if (res.status !== want) problems.push(`${name}: ${res.status} (wanted ${want}) ${res.text.slice(0, 120)}`);
      if (want === 401) {
        if (await dump(true) !== before) { problems.push(`${name}: refused but the tables changed`); tally.rejectedWrites++; }
        if (res.status < 400) tally.replaysAccepted++;
        if (!/"code":"unauthorized"/.test(res.text)) problems.push(`${name}: not the unauthorized error shape`);
      }
      return res;
    };
    const now = Math.floor(Date.now() / 1000);
    const ok = signed('POST', path, body, { 'Content-Type': 'application/json' });
    await attack('the original', a, ok, 201);
    await engineIdle();
    await attack('replay to the same sidecar', a, ok);
    await attack('replay to another sidecar', b, ok);
    const mk = (o: { method?: string; path?: string; body?: string; ts?: number; nonce?: string; actor?: string; secret?: string }) => {
      const nonce = o.nonce ?? randomBytes(16).toString('hex');
      const ts = String(o.ts ?? now);
      const sig = sign(o.secret ?? SECRET, { method: o.method ?? 'POST', pathWithQuery: o.path ?? path, timestamp: ts, nonce, actor: o.actor ?? '1', body: o.body ?? body });
      return { 'X-SS-Timestamp': ts, 'X-SS-Nonce': nonce, 'X-SS-Actor': o.actor ?? '1', 'X-SS-Signature': sig, 'Content-Type': 'application/json' };
    };
    const req = (headers: Record<string, string>, o: { method?: string; path?: string; body?: string } = {}): RawRequest => ({ method: o.method ?? 'POST', path: o.path ?? path, body: Buffer.from(o.body ?? body), headers });
    // Computed when sent, with a second's margin: the window is 300 s and a second may tick
    // between reading the clock and the sidecar checking.
    const nowS = () => Math.floor(Date.now() / 1000);
    await attack('302 s in the past', a, req(mk({ ts: nowS() - 302 })));
    await attack('302 s in the future', a, req(mk({ ts: nowS() + 302 })));
    await attack('a day in the past', a, req(mk({ ts: now - 86_400 })));
    await attack('body changed after signing', a, req(mk({}), { body: body.replace('signed once', 'signed twice') }));
    await attack('one byte appended to the body', a, req(mk({}), { body: `${body} ` }));
    await attack('path changed after signing', a, req(mk({}), { path: '/api/v1/schedules/preview' }));
    await attack('query added after signing', a, req(mk({}), { path: `${path}?x=1` }));
    await attack('method changed after signing', a, req(mk({ method: 'GET', body: '' }), { method: 'DELETE', path: `/api/v1/schedules/${ids.schedules[0]}`, body: '' }));
    const h = mk({ actor: '1' });
    await attack('actor changed after signing', a, req({ ...h, 'X-SS-Actor': '2' }));
    await attack('another secret', a, req(mk({ secret: 'another-secret-another-secret-another-secret' })));
    await attack('empty secret', a, req(mk({ secret: '' })));
    const truncated = mk({});
    await attack('signature truncated', a, req({ ...truncated, 'X-SS-Signature': truncated['X-SS-Signature'].slice(0, 63) }));
    await attack('signature not hex', a, req({ ...mk({}), 'X-SS-Signature': 'z'.repeat(64) }));
    for (const header of ['X-SS-Timestamp', 'X-SS-Nonce', 'X-SS-Actor', 'X-SS-Signature']) {
      const without = { ...mk({}) } as Record<string, string>;
      delete without[header];
      await attack(`without ${header}`, a, req(without));
    }
    await attack('nonce too short', a, req(mk({ nonce: 'short-nonce-15c' })));
    await attack('nonce with a quote', a, req(mk({ nonce: "aaaaaaaaaaaaaaa'--" })));
    await attack('actor not a user id', a, req(mk({ actor: 'admin' })));
    await attack('timestamp not a number', a, req({ ...mk({}), 'X-SS-Timestamp': '1e9' }));
    await attack('no headers at all', a, { method: 'POST', path, body: Buffer.from(body), headers: { 'Content-Type': 'application/json' } });
    // A destructive request replayed: the snapshot must survive the replay.
    const target = ids.snapshots[ids.snapshots.length - 1]!;
    const del = signed('DELETE', `/api/v1/snapshots/${target}/record`, '');
    const first = await send(a, del);
    tally.attacks++;
    if (first.status !== 200 && first.status !== 404) problems.push(`delete record answered ${first.status}`);
    await attack('destructive request replayed to another sidecar', b, del);
    const created = await world.db.selectFrom('ss_schedules').select('id').where('name', '=', 'signed once').execute();
    if (created.length !== 1) { problems.push(`the signed schedule exists ${created.length} times`); tally.replaysAccepted += Math.max(0, created.length - 1); }
    tally.problems.push(...problems);
    expect(problems).toEqual([]);
    tally.passedParts++;
  });

  test('when all of that is over, then no secret is in any log line or answer, and no provider snapshot is orphaned', async () => {
    await stopAll(sidecars); // their last log lines too
    final.logLeaks = leaks(sidecars.flatMap((x) => x.lines), secrets());
    final.answerLeaks = leaks(answersSeen, secrets());
    const copies = [...hetznerCopies('hetzner', fake), ...hetznerCopies('hetzner-bad', refusing), ...(await sandboxCopies(world.db))].filter((c) => c.ours);
    const known = new Set((await world.db.selectFrom('ss_snapshots').select(['provider', 'provider_snapshot_id']).execute()).map((r) => `${r.provider}|${r.provider_snapshot_id}`));
    // DELETE RECORD leaves the provider copy on purpose, and says so in the audit log.
    const released = (await world.db.selectFrom('ss_events').select('detail').where('action', '=', 'record_deleted').execute()).map((e) => e.detail ?? '');
    const orphans = copies.filter((c) => !known.has(`${c.provider}|${c.providerSnapshotId}`) && !released.some((d) => d.includes(`copy ${c.providerSnapshotId} left`)));
    final.orphaned = orphans.length;
    for (const o of orphans) {
      const events = await world.db.selectFrom('ss_events').select(['action', 'detail', 'actor']).where('snapshot_id', '=', Number(/^ss-(\d+)-/.exec(o.name)?.[1] ?? 0)).orderBy('id').execute();
      tally.problems.push(`orphaned ${o.provider} ${o.providerSnapshotId} (${o.name}); its record's history: ${events.map((e) => `${e.action} by ${e.actor}: ${e.detail ?? ''}`).join(' | ')}`);
    }
    expect([...final.logLeaks, ...final.answerLeaks].slice(0, 5)).toEqual([]);
    expect(orphans.map((o) => `${o.provider} ${o.providerSnapshotId}`)).toEqual([]);
    tally.passedParts++;
  });
});
