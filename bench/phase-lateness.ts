/**
 * Phase 2 — lateness. 10,000 servers whose slots fall due one after another, spread evenly
 * over the window (300 s by default: 33 slots a second, the load of 10,000 servers on
 * 5-minute schedules if their slots did not coincide), one sidecar, sandbox answering at once.
 * Lateness = the provider call (the sandbox stamps it with the database clock) − the instant
 * the slot fell due (the assignment's next_slot_at, the only thing the engine waits for).
 *
 * Why not a real 5-minute schedule: interval slots are multiples of the interval since the
 * epoch, so 10,000 servers on one 5-minute schedule are all due at the same instant every
 * five minutes — a burst, which phase 1 measures. Here the due instants are written straight
 * into ss_assignments (and kept in bench_due); the schedule's own interval is a year, so no
 * second round starts inside the window.
 */

import type { Pool } from 'mysql2/promise';
import { dbNow, one, rows } from './database.js';
import { sleep } from './processes.js';
import { FIRST_SERVER_ID, PREFIX, SERVERS, assignAll, insertSchedule, resetEngineTables } from './seed.js';
import { startSidecars, stopSidecars, type SidecarOptions } from './sidecars.js';
import { percentiles, type Percentiles } from './stats.js';

export interface LatenessResult {
  slots: number;
  windowSeconds: number;
  sidecars: number;
  /** Provider call − due instant. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  providerCall: Percentiles;
  /** Snapshot row written (dispatch) − due instant: where the time goes. */
  dispatch: Percentiles;
  missing: number;
  peakRssMb: Array<number | null>;
}

export async function latenessPhase(pool: Pool, sc: Omit<SidecarOptions, 'providers' | 'label'>, windowSeconds: number, log: (s: string) => void): Promise<LatenessResult> {
  await resetEngineTables(pool);
  const scheduleId = await insertSchedule(pool, { name: 'Bench: spread slots', intervalMinutes: 525_600, keepLast: 24 });
  await assignAll(pool, scheduleId);
  await pool.query('DROP TABLE IF EXISTS bench_due');
  await pool.query('CREATE TABLE bench_due (server_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, due_at DATETIME(3) NOT NULL)');

  const sidecars = await startSidecars(1, { ...sc, label: 'lateness', providers: { sandbox: { type: 'sandbox', latencyMs: 0 } } });
  let result: LatenessResult;
  try {
    const windowMs = windowSeconds * 1000;
    const t0 = new Date((await dbNow(pool)).getTime() + 3000);
    // Server k (0…9,999) is due at t0 + k · window / 10,000.
    await pool.query(`INSERT INTO bench_due (server_id, due_at)
      SELECT server_id, ? + INTERVAL FLOOR((server_id - ${FIRST_SERVER_ID}) * ${windowMs * 1000} / ${SERVERS}) MICROSECOND
      FROM ${PREFIX}ss_assignments WHERE schedule_id = ?`, [t0, scheduleId]);
    await pool.query(`UPDATE ${PREFIX}ss_assignments a JOIN bench_due d ON d.server_id = a.server_id
      SET a.next_slot_at = d.due_at WHERE a.schedule_id = ?`, [scheduleId]);

    const end = t0.getTime() + windowMs;
    let lastProgress = Date.now();
    for (;;) {
      await sleep(1000);
      const done = Number((await one<{ n: number }>(pool, `SELECT COUNT(*) AS n FROM ${PREFIX}ss_sandbox_snapshots`)).n);
      if (done >= SERVERS) break;
      if (Date.now() > end + 60_000) { log(`  [lateness] stopping: ${SERVERS - done} slots still without a provider call a minute after the window`); break; }
      if (Date.now() - lastProgress >= 10_000) {
        lastProgress = Date.now();
        sidecars[0]!.sample();
        const soFar = percentiles(await latenessSoFar(pool, scheduleId));
        const elapsed = Math.max(0, (Date.now() - t0.getTime()) / 1000);
        log(`  [lateness] ${elapsed.toFixed(0)}/${windowSeconds} s: ${done.toLocaleString('en-US')} provider calls, p50 ${soFar.p50Ms ?? '—'} ms, p99 ${soFar.p99Ms ?? '—'} ms, max ${soFar.maxMs ?? '—'} ms`);
      }
    }
    const call = percentiles(await latenessSoFar(pool, scheduleId));
    const dispatched = await rows<{ ms: number }>(pool, `SELECT TIMESTAMPDIFF(MICROSECOND, d.due_at, s.created_at) / 1000 AS ms
      FROM ${PREFIX}ss_snapshots s JOIN bench_due d ON d.server_id = s.server_id WHERE s.schedule_id = ?`, [scheduleId]);
    result = {
      slots: SERVERS, windowSeconds, sidecars: 1,
      p50Ms: call.p50Ms, p99Ms: call.p99Ms, maxMs: call.maxMs,
      providerCall: call, dispatch: percentiles(dispatched.map((r) => Number(r.ms))),
      missing: SERVERS - call.n, peakRssMb: [],
    };
  } finally {
    await stopSidecars(sidecars);
  }
  result.peakRssMb = sidecars.map((s) => s.peakRssMb);
  // Leave the servers on the hourly schedule only, as the other phases expect.
  await pool.query(`DELETE FROM ${PREFIX}ss_assignments WHERE schedule_id = ?`, [scheduleId]);
  await pool.query(`DELETE FROM ${PREFIX}ss_schedules WHERE id = ?`, [scheduleId]);
  return result;
}

async function latenessSoFar(pool: Pool, scheduleId: number): Promise<number[]> {
  // The sandbox row's name is our marker name, which the snapshot row holds too.
  const r = await rows<{ ms: number }>(pool, `SELECT TIMESTAMPDIFF(MICROSECOND, d.due_at, sb.created_at) / 1000 AS ms
    FROM ${PREFIX}ss_snapshots s
    JOIN bench_due d ON d.server_id = s.server_id
    JOIN ${PREFIX}ss_sandbox_snapshots sb ON sb.provider = 'sandbox' AND sb.name = s.name
    WHERE s.schedule_id = ?`, [scheduleId]);
  return r.map((x) => Number(x.ms));
}
