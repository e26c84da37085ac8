/**
 * Phase `provider` — requests per snapshot and a round against the budget's floor. 10,000
 * servers on one Hetzner account (the local fake, tests/fakes/hetzner.ts), a schedule that
 * keeps one snapshot per server, two rounds with every server due at once:
 *
 * - round 1: one snapshot of each server, create → available. `roundSeconds` is from the slot
 *   to the last one available; `roundFloorSeconds` what the fake's bucket allows at best:
 *   (creates − the bucket's initial burst) ÷ its refill rate.
 * - round 2, the steady state: each server gets one new snapshot and retention deletes the
 *   previous one. Its requests ÷ servers is the provider requests of one snapshot's whole
 *   lifecycle (create → available → deleted by retention): floor 2, one create and one delete.
 *
 * The fake refills faster than Hetzner (BUCKET tokens, REFILL_PER_SECOND back a second) so the
 * phase fits the benchmark's time; the sidecar's budget for the account says the same
 * (`budget.bucket`), so `refused429` counts what the fake refused.
 */
import type { Pool } from 'mysql2/promise';
import { dbNow } from './database.js';
import { loadFakeHetzner } from './fake-hetzner.js';
import { sleep } from './processes.js';
import { FIRST_SERVER_ID, PREFIX, SERVERS, count, insertSchedule, resetEngineTables, setServersProvider } from './seed.js';
import { startSidecars, stopSidecars, type SidecarOptions } from './sidecars.js';

export interface ProviderResult {
  reason?: string;
  servers?: number;
  bucket?: number;
  refillPerSecond?: number;
  requestsPerSnapshot?: number;
  roundSeconds?: number;
  roundFloorSeconds?: number;
  roundRatio?: number;
  refused429?: number;
  round1?: Record<string, number>;
  round2?: Record<string, number>;
  peakRssMb?: Array<number | null>;
}


/** Hetzner's bucket, refilled 100 times as fast as Hetzner's one a second. */
const BUCKET = 3600;
const REFILL_PER_SECOND = 100;

export async function providerPhase(root: string, work: string, pool: Pool, sc: Omit<SidecarOptions, 'providers' | 'label'>, log: (s: string) => void): Promise<ProviderResult> {
  const { startFakeHetzner } = await loadFakeHetzner(root, work);
  const token = 'bench-provider-token';
  const fake = await startFakeHetzner({ token, rateLimitPerHour: BUCKET, refillPerSecond: REFILL_PER_SECOND, pendingPolls: 1 });
  for (let i = 0; i < SERVERS; i++) fake.addServer(FIRST_SERVER_ID + i, `web-${FIRST_SERVER_ID + i}`);
  // The same bucket on our side: BUCKET deep, REFILL_PER_SECOND × 3600 an hour.
  const entry = { type: 'hetzner', token, apiUrl: fake.url, budget: { perHour: REFILL_PER_SECOND * 3600, bucket: BUCKET } };

  await resetEngineTables(pool);
  await setServersProvider(pool, 'hetzner');
  const scheduleId = await insertSchedule(pool, { name: 'Bench keep one', intervalMinutes: 60, keepLast: 1 });
  await pool.query(`UPDATE ${PREFIX}ss_schedules SET spread_minutes = 0 WHERE id = ?`, [scheduleId]);
  await pool.query(`INSERT INTO ${PREFIX}ss_assignments (server_id, schedule_id, next_slot_at, problem, created_at)
    SELECT ID, ?, '2099-01-01', NULL, UTC_TIMESTAMP(3) FROM ${PREFIX}posts WHERE post_type = 'wpcd_app_server'`, [scheduleId]);
  try {
    const sidecars = await startSidecars(1, { ...sc, label: 'provider', providers: { hetzner: entry } });
    try {
      const round = async (n: number, slot: Date, settled: (from: number) => Promise<boolean>) => {
        const from = fake.requests.length;
        await pool.query(`UPDATE ${PREFIX}ss_assignments SET next_slot_at = ? WHERE schedule_id = ?`, [slot, scheduleId]);
        const deadline = Date.now() + 15 * 60_000;
        while (Date.now() < deadline && !(await settled(from))) {
          await sleep(1000);
          sidecars[0]!.sample();
          if (Math.floor(Date.now() / 1000) % 10 === 0) log(`  [provider] round ${n}: ${(fake.requests.length - from).toLocaleString('en-US')} requests`);
        }
        const reqs = fake.requests.slice(from);
        const lastAt = Math.max(...reqs.map((r) => r.at));
        log(`  [provider] round ${n} timeline: ${timeline(reqs, slot.getTime())}`);
        return {
          seconds: Math.round(((lastAt - slot.getTime()) / 1000) * 10) / 10,
          ...where(reqs, slot.getTime()),
          requests: reqs.length,
          creates: reqs.filter((r) => r.method === 'POST').length,
          deletes: reqs.filter((r) => r.method === 'DELETE').length,
          listReads: reqs.filter((r) => r.method === 'GET' && r.path === '/v1/images').length,
          singleReads: reqs.filter((r) => r.method === 'GET' && r.path !== '/v1/images').length,
        };
      };
      const available = () => count(pool, `${PREFIX}ss_snapshots`, "schedule_id = ? AND status = 'available'", [scheduleId]);
      const total = () => count(pool, `${PREFIX}ss_snapshots`, 'schedule_id = ?', [scheduleId]);
      const slot1 = new Date((await dbNow(pool)).getTime() + 2000);
      const r1 = await round(1, slot1, async () => (await available()) >= SERVERS);
      log(`  [provider] round 1: ${JSON.stringify(r1)}`);
      // Both rounds fall in one hour of the clock, and one slot gives one snapshot per server:
      // move round 1's snapshots back a slot, as if an hour had passed.
      await pool.query(`UPDATE ${PREFIX}ss_snapshots SET slot_at = slot_at - INTERVAL 1 HOUR WHERE schedule_id = ?`, [scheduleId]);
      const slot2 = new Date((await dbNow(pool)).getTime() + 2000);
      // Settled: every server's new snapshot available and its previous one deleted by retention.
      const deletedSince = (from: number) => fake.requests.slice(from).filter((r) => r.method === 'DELETE').length;
      const r2 = await round(2, slot2, async (from) => deletedSince(from) >= SERVERS && (await available()) >= SERVERS && (await total()) === SERVERS);
      log(`  [provider] round 2: ${JSON.stringify(r2)}`);
      const floor = Math.max(0, SERVERS - BUCKET) / REFILL_PER_SECOND;
      return {
        servers: SERVERS, bucket: BUCKET, refillPerSecond: REFILL_PER_SECOND,
        requestsPerSnapshot: Math.round((r2.requests / SERVERS) * 1000) / 1000,
        roundSeconds: r1.seconds, roundFloorSeconds: floor, roundRatio: Math.round((r1.seconds / floor) * 100) / 100,
        refused429: fake.rateLimited(), round1: r1, round2: r2,
        peakRssMb: sidecars.map((s) => s.peakRssMb),
      };
    } finally {
      await stopSidecars(sidecars);
    }
  } finally {
    await fake.close();
    await pool.query(`DELETE FROM ${PREFIX}ss_assignments WHERE schedule_id = ?`, [scheduleId]);
    await pool.query(`DELETE FROM ${PREFIX}ss_schedules WHERE id = ?`, [scheduleId]);
    await setServersProvider(pool, 'sandbox');
    await resetEngineTables(pool);
  }
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Where a round's time went, from the fake's own request times (seconds after the slot):
 * the first request and the last create, and the tokens the fake's bucket held unused — refill
 * lost while it was full (`idleFullSeconds`: the bucket at its top, refill wasted) and what
 * was left when the last create went out (a round that ends with tokens left waited on
 * something other than the budget).
 */
function where(reqs: ReadonlyArray<{ method: string; at: number }>, slotMs: number): Record<string, number> {
  if (reqs.length === 0) return {};
  const creates = reqs.filter((r) => r.method === 'POST');
  const lastCreate = creates.length ? Math.max(...creates.map((r) => r.at)) : slotMs;
  // Replay the fake's bucket (BUCKET deep, REFILL_PER_SECOND back a second, full at the slot).
  let tokens = BUCKET;
  let t = slotMs;
  let wastedMs = 0;
  let leftAtLastCreate = 0;
  for (const r of [...reqs].sort((a, b) => a.at - b.at)) {
    const gain = ((r.at - t) / 1000) * REFILL_PER_SECOND;
    if (tokens + gain > BUCKET) wastedMs += ((tokens + gain - BUCKET) / REFILL_PER_SECOND) * 1000;
    tokens = Math.min(BUCKET, tokens + gain) - 1;
    t = r.at;
    if (r.at === lastCreate) leftAtLastCreate = tokens;
  }
  return {
    firstRequestSeconds: secs(Math.min(...reqs.map((r) => r.at)) - slotMs),
    lastCreateSeconds: secs(lastCreate - slotMs),
    idleFullSeconds: secs(wastedMs),
    tokensLeftAtLastCreate: Math.round(leftAtLastCreate),
  };
}

/** Requests per 5 s after the slot: creates/lists/other, for the log. */
function timeline(reqs: ReadonlyArray<{ method: string; path: string; at: number }>, slotMs: number): string {
  const slots = new Map<number, [number, number, number]>();
  for (const r of reqs) {
    const k = Math.floor((r.at - slotMs) / 5000) * 5;
    const c = slots.get(k) ?? [0, 0, 0];
    c[r.method === 'POST' ? 0 : r.method === 'GET' && r.path === '/v1/images' ? 1 : 2] += 1;
    slots.set(k, c);
  }
  return [...slots].sort((a, b) => a[0] - b[0]).map(([k, c]) => `${k}s:${c.join('/')}`).join(' ');
}
