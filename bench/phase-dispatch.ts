/**
 * Phase 1 — dispatch. All 10,000 servers' hourly slots fall due at the same instant; the
 * sandbox provider answers at once (latencyMs 0). We watch ss_snapshots fill (dispatch: one
 * row per slot) and ss_sandbox_snapshots fill (the provider call for each), with 1, 2 and 4
 * sidecar processes. Beside it, the raw limit: the same writes as single-row transactions
 * straight from a few connections — what MariaDB itself commits on this machine.
 *
 * The servers are on a schedule of their own for this phase, hourly in what it keeps but with
 * a year between slots: an hourly schedule spreads each server's next slot over the next hour,
 * so after the burst its servers would come due again one by one (2.8 a second at 10,000
 * servers, 28 at 100,000) and those rows would count as the burst's.
 */

import type { Pool, PoolConnection } from 'mysql2/promise';
import { benchPool, dbNow, one, rows, type BenchServer } from './database.js';
import { cpuSeconds, sleep } from './processes.js';
import { PREFIX, SERVERS, assignAll, insertSchedule, resetEngineTables } from './seed.js';
import { startSidecars, stopSidecars, type SidecarOptions } from './sidecars.js';
import { percentiles, round, type Percentiles } from './stats.js';

export interface DispatchRun {
  sidecars: number;
  /** Slots turned into snapshot rows per second (from the due instant to the last row). */
  dispatchPerSec: number;
  /** Provider calls (sandbox creates) per second, due instant to the last call. */
  providerCallsPerSec: number;
  dispatchSeconds: number;
  providerCallsSeconds: number;
  /** Provider call time − due time, over the whole burst. */
  burstLateness: Percentiles;
  available: number;
  failed: number;
  /** Statements the sidecars sent to MariaDB per slot, due instant to settled (this benchmark's own polling taken out). */
  statementsPerSlot: number;
  /** Transactions committed per slot (COMMIT statements). */
  commitsPerSlot: number;
  /** CPU seconds used from the due instant until every slot settled, and the wall time. */
  cpu: { sidecarsSeconds: number | null; mariadbSeconds: number | null; wallSeconds: number };
  peakRssMb: Array<number | null>;
}

export interface DispatchResult {
  slots: number;
  /** Best of two measurements (before and after the engine runs: the machine is shared). */
  raw: { perSec: number; byConnections: Record<string, number>; measurements: number[]; statement: string };
  runs: DispatchRun[];
  bestSidecars: number;
  /** Engine dispatch ÷ raw single-row commits (the target: ≥ 0.5). */
  ratio: number;
  /** Engine provider calls ÷ raw single-row commits: the whole job per slot vs. its two writes. */
  providerCallsRatio: number;
}

const progressEvery = 2000;
/** The raw limit commits at most this many transactions per connection count (a rate, not a total). */
const RAW_SLOTS = 10_000;
/** Polls count every row: at more servers they come less often, so they do not take a core themselves. */
const pollScale = Math.max(1, SERVERS / 10_000);

export async function dispatchPhase(server: BenchServer, pool: Pool, sc: Omit<SidecarOptions, 'providers' | 'label'>, counts: number[], log: (s: string) => void): Promise<DispatchResult> {
  await resetEngineTables(pool);
  const scheduleId = await insertSchedule(pool, { name: 'Bench: one burst', intervalMinutes: 525_600, keepLast: 24 });
  await assignAll(pool, scheduleId);
  const rawBefore = await rawLimit(server, pool, scheduleId, [1, 4, 8], log);
  const runs: DispatchRun[] = [];
  for (const n of counts) {
    await resetEngineTables(pool);
    const sidecars = await startSidecars(n, { ...sc, label: `dispatch${n}`, providers: { sandbox: { type: 'sandbox', latencyMs: 0 } } });
    let run: DispatchRun;
    try {
      run = await oneRun(pool, n, scheduleId, sidecars.map((s) => s.sample), { sidecars: sidecars.map((s) => s.child.pid), mariadb: server.pid }, log);
    } finally {
      await stopSidecars(sidecars); // samples each one's peak RSS before it stops
    }
    run.peakRssMb = sidecars.map((s) => s.peakRssMb);
    runs.push(run);
  }
  const rawAfter = await rawLimit(server, pool, scheduleId, [1, 4, 8], log);
  // Leave the servers on the hourly schedule only, as the other phases expect.
  await pool.query(`DELETE FROM ${PREFIX}ss_assignments WHERE schedule_id = ?`, [scheduleId]);
  await pool.query(`DELETE FROM ${PREFIX}ss_schedules WHERE id = ?`, [scheduleId]);
  const raw = {
    perSec: Math.max(rawBefore.perSec, rawAfter.perSec),
    byConnections: Object.fromEntries(Object.keys(rawBefore.byConnections).map((k) => [k, Math.max(rawBefore.byConnections[k]!, rawAfter.byConnections[k] ?? 0)])),
    measurements: [rawBefore.perSec, rawAfter.perSec],
    statement: rawBefore.statement,
  };
  const best = runs.reduce((a, b) => (b.dispatchPerSec > a.dispatchPerSec ? b : a));
  const bestWork = runs.reduce((a, b) => (b.providerCallsPerSec > a.providerCallsPerSec ? b : a));
  return {
    slots: SERVERS, raw, runs, bestSidecars: best.sidecars,
    ratio: round(best.dispatchPerSec / raw.perSec, 2),
    providerCallsRatio: round(bestWork.providerCallsPerSec / raw.perSec, 2),
  };
}

async function oneRun(pool: Pool, n: number, scheduleId: number, samplers: Array<() => void>, pids: { sidecars: number[]; mariadb: number | null }, log: (s: string) => void): Promise<DispatchRun> {
  const cpuNow = () => {
    const each = pids.sidecars.map(cpuSeconds);
    return { sidecars: each.some((x) => x === null) ? null : each.reduce((a, b) => a! + b!, 0)!, mariadb: cpuSeconds(pids.mariadb) };
  };
  const cpuBefore = cpuNow();
  const statusBefore = await serverCounters(pool);
  let polls = 0;
  // Due a few seconds ahead: every idle engine has looked at the table again by then (it
  // sleeps at most SS_TICK_MS) and sleeps exactly until the due instant.
  const due = new Date((await dbNow(pool)).getTime() + 3000);
  await pool.query(`UPDATE ${PREFIX}ss_assignments SET next_slot_at = ? WHERE schedule_id = ?`, [due, scheduleId]);
  let dispatchedAt: number | null = null;
  let lastProgress = 0;
  const deadline = due.getTime() + 600_000 * pollScale;
  for (;;) {
    const asked = Date.now();
    const c = await one<{ total: number; settled: number; calls: number }>(pool,
      `SELECT (SELECT COUNT(*) FROM ${PREFIX}ss_snapshots) AS total,
              (SELECT COUNT(*) FROM ${PREFIX}ss_snapshots WHERE status IN ('available', 'failed')) AS settled,
              (SELECT COUNT(*) FROM ${PREFIX}ss_sandbox_snapshots) AS calls`);
    polls++;
    const at = (asked + Date.now()) / 2;
    if (dispatchedAt === null && Number(c.total) >= SERVERS) dispatchedAt = at;
    if (Number(c.settled) >= SERVERS) break;
    if (Date.now() > deadline) throw new Error(`dispatch with ${n} sidecar(s) did not finish in ${10 * pollScale} minutes (${c.total} rows, ${c.settled} settled)`);
    if (Date.now() - lastProgress > progressEvery && Date.now() > due.getTime()) {
      lastProgress = Date.now();
      for (const s of samplers) s();
      log(`  [dispatch, ${n} sidecar${n > 1 ? 's' : ''}] ${Number(c.total).toLocaleString('en-US')}/${SERVERS.toLocaleString('en-US')} slots dispatched, ${Number(c.calls).toLocaleString('en-US')} provider calls, ${((Date.now() - due.getTime()) / 1000).toFixed(1)} s`);
    }
    await sleep((dispatchedAt === null ? 20 : 100) * pollScale);
  }
  const cpuAfter = cpuNow();
  const settledAt = Date.now();
  const statusAfter = await serverCounters(pool);
  const calls = await rows<{ ms: number }>(pool, `SELECT TIMESTAMPDIFF(MICROSECOND, ?, created_at) / 1000 AS ms FROM ${PREFIX}ss_sandbox_snapshots`, [due]);
  const lateness = calls.map((r) => Number(r.ms));
  const lastCall = Math.max(...lateness);
  const states = await one<{ available: number; failed: number }>(pool,
    `SELECT SUM(status = 'available') AS available, SUM(status = 'failed') AS failed FROM ${PREFIX}ss_snapshots`);
  const dispatchSeconds = ((dispatchedAt ?? Date.now()) - due.getTime()) / 1000;
  const run: DispatchRun = {
    sidecars: n,
    dispatchPerSec: Math.round(SERVERS / dispatchSeconds),
    providerCallsPerSec: Math.round(calls.length / (lastCall / 1000)),
    dispatchSeconds: round(dispatchSeconds, 2),
    providerCallsSeconds: round(lastCall / 1000, 2),
    burstLateness: percentiles(lateness),
    available: Number(states.available ?? 0), failed: Number(states.failed ?? 0),
    // Our own statements: each poll, and the two SHOW GLOBAL STATUS around the run.
    statementsPerSlot: round((statusAfter.questions - statusBefore.questions - polls - 1) / SERVERS, 1),
    commitsPerSlot: round((statusAfter.commits - statusBefore.commits) / SERVERS, 2),
    cpu: {
      sidecarsSeconds: cpuBefore.sidecars === null || cpuAfter.sidecars === null ? null : round(cpuAfter.sidecars - cpuBefore.sidecars, 1),
      mariadbSeconds: cpuBefore.mariadb === null || cpuAfter.mariadb === null ? null : round(cpuAfter.mariadb - cpuBefore.mariadb, 1),
      wallSeconds: round((settledAt - due.getTime()) / 1000, 1),
    },
    peakRssMb: [],
  };
  log(`  [dispatch, ${n} sidecar${n > 1 ? 's' : ''}] ${run.dispatchPerSec.toLocaleString('en-US')} slots/s dispatched (${run.dispatchSeconds} s), ${run.providerCallsPerSec.toLocaleString('en-US')} provider calls/s (${run.providerCallsSeconds} s)`);
  return run;
}

async function serverCounters(pool: Pool): Promise<{ questions: number; commits: number }> {
  const r = await rows<{ Variable_name: string; Value: string }>(pool, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_commit')");
  const v = (name: string) => Number(r.find((x) => x.Variable_name === name)?.Value ?? 0);
  return { questions: v('Questions'), commits: v('Com_commit') };
}

const RAW_INSERT = `INSERT INTO ${PREFIX}ss_snapshots
  (server_id, schedule_id, slot_at, origin, status, provider, provider_type, name, server_name, instance_id,
   keep_forever, attempts, next_attempt_at, requested_by, created_at, updated_at)
  VALUES (?, ?, ?, 'scheduled', 'requested', 'sandbox', 'sandbox', '', ?, ?, 0, 0, ?, 'scheduler', ?, ?)`;
const RAW_ADVANCE = `UPDATE ${PREFIX}ss_assignments SET next_slot_at = ?, problem = NULL WHERE id = ?`;

/**
 * The raw limit: per slot one transaction that inserts the snapshot row and advances the
 * assignment row (prepared statements, no ORM, no provider), from 1, 4 and 8 connections,
 * over the first 10,000 assignments (all of them at the default 10,000 servers).
 */
async function rawLimit(server: BenchServer, pool: Pool, scheduleId: number, connectionCounts: number[], log: (s: string) => void): Promise<Omit<DispatchResult['raw'], 'measurements'>> {
  const assignments = (await rows<{ id: number; server_id: number }>(pool,
    `SELECT id, server_id FROM ${PREFIX}ss_assignments WHERE schedule_id = ? ORDER BY id LIMIT ${RAW_SLOTS}`, [scheduleId]))
    .map((a) => ({ id: Number(a.id), serverId: Number(a.server_id) }));
  const byConnections: Record<string, number> = {};
  for (const conns of connectionCounts) {
    await resetEngineTables(pool);
    const now = await dbNow(pool);
    const slot = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
    const next = new Date(slot.getTime() + 3_600_000);
    const workers = benchPool(server, server.names.bench, conns);
    const held: PoolConnection[] = [];
    for (let i = 0; i < conns; i++) held.push(await workers.getConnection());
    let nextIndex = 0;
    const started = process.hrtime.bigint();
    await Promise.all(held.map(async (c) => {
      for (;;) {
        const a = assignments[nextIndex++];
        if (!a) return;
        await c.beginTransaction();
        await c.execute(RAW_INSERT, [a.serverId, scheduleId, slot, `web-${a.serverId}`, String(a.serverId), now, now, now]);
        await c.execute(RAW_ADVANCE, [next, a.id]);
        await c.commit();
      }
    }));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const c of held) c.release();
    await workers.end();
    byConnections[String(conns)] = Math.round(assignments.length / seconds);
    log(`  [raw limit] ${conns} connection${conns > 1 ? 's' : ''}: ${byConnections[String(conns)]!.toLocaleString('en-US')} single-row transactions/s`);
  }
  await resetEngineTables(pool);
  return {
    perSec: Math.max(...Object.values(byConnections)),
    byConnections,
    statement: 'BEGIN; INSERT one ss_snapshots row; UPDATE one ss_assignments row; COMMIT (prepared statements)',
  };
}
