/**
 * Scenario 6 — retention safety, property-based, through the database.
 * fast-check draws a random history (statuses, origins, ages, protections) and random rules
 * (every count rule, maxAgeDays, minKeep, a timezone); the history is inserted as real rows,
 * sidecar/engine/apply-retention.ts `applyRetention` runs against the database, and the rows
 * are read back. Whatever the draw:
 *   - it never queues for deletion a keepForever snapshot, one before its deleteNotBefore,
 *     a manual or panel snapshot, or anything not `available` (pending, failed, …);
 *   - it never leaves fewer than minKeep good snapshots: the newest minKeep stay;
 *   - the same input gives the same decision (a second server with the same history), and
 *     running it again queues nothing more;
 *   - every deletion it queues carries an audit event saying why.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { applyRetention } from '../../sidecar/engine/apply-retention.js';
import type { SnapshotOrigin, SnapshotStatus } from '../../sidecar/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { runSeed } from './harness/random.js';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';

const SCENARIO = '6 retention safety';
let t: TestDatabase;
let passed = false;
const started = Date.now();
const seed = runSeed();
const tally = { runs: 0, rows: 0, protectedRows: 0, queued: 0, lost: 0, duplicated: 0, orphaned: 0, example: '' };

beforeAll(async () => { markStarted(SCENARIO); t = await createTestDatabase(); });
afterAll(async () => {
  writeResult({
    scenario: SCENARIO, rounds: tally.runs, roundsOf: 'histories', faults: 0,
    lost: tally.lost, duplicated: tally.duplicated, orphaned: tally.orphaned,
    notes: `${tally.rows} snapshot rows (${tally.protectedRows} protected, pending, failed, manual or panel), ${tally.queued} queued for deletion; lost = protected/minKeep rows queued, duplicated = decisions that differ on the same input or on a re-run, orphaned = queued without an audit reason; seed ${seed}`,
    passed, ms: Date.now() - started,
  });
  if (passed) await t.drop();
  else console.log(`${SCENARIO}: database ${t.name} kept; first counterexample: ${tally.example}`);
});

const STATUSES: SnapshotStatus[] = ['requested', 'creating', 'failed', 'deleting', 'delete_failed', 'superseded', ...Array<SnapshotStatus>(18).fill('available')];
const ORIGINS: SnapshotOrigin[] = ['manual', 'panel', ...Array<SnapshotOrigin>(10).fill('scheduled')];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata'];
const NOW = new Date('2027-07-15T12:00:00.000Z');

const count = fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 1 });
const rulesArb = fc.record({
  keepLast: count, keepHourly: count, keepDaily: count, keepWeekly: count, keepMonthly: count, keepYearly: count,
  maxAgeDays: fc.option(fc.integer({ min: 1, max: 120 }), { nil: null, freq: 2 }),
  minKeep: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  timezone: fc.constantFrom(...ZONES),
});
const snapshotArb = fc.record({
  /** Age of the slot, minutes before NOW (unique per history: a slot is snapshotted once). */
  ageMinutes: fc.integer({ min: 0, max: 200 * 24 * 60 }),
  status: fc.constantFrom(...STATUSES),
  origin: fc.constantFrom(...ORIGINS),
  keepForever: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  deleteNotBeforeMinutes: fc.option(fc.integer({ min: -60 * 24 * 30, max: 60 * 24 * 30 }), { nil: null, freq: 4 }),
});
const historyArb = fc.uniqueArray(snapshotArb, { minLength: 0, maxLength: 60, size: 'medium', selector: (s) => s.ageMinutes });

interface Drawn { ageMinutes: number; status: SnapshotStatus; origin: SnapshotOrigin; keepForever: boolean; deleteNotBeforeMinutes: number | null }
let nextServer = 1_000_000;

async function insertHistory(serverId: number, scheduleId: number, history: Drawn[]): Promise<number[]> {
  const ids: number[] = [];
  for (const h of history) {
    const at = new Date(NOW.getTime() - h.ageMinutes * 60_000);
    const res = await t.handle.db.insertInto('ss_snapshots').values({
      // Manual and panel rows carry the schedule id too here: retention must still leave them alone.
      server_id: serverId, schedule_id: scheduleId, slot_at: h.origin === 'scheduled' ? at : null,
      origin: h.origin, status: h.status, provider: 'sandbox', provider_type: 'sandbox',
      provider_snapshot_id: ['requested'].includes(h.status) ? null : `sbx-${serverId}-${h.ageMinutes}`,
      name: `ss-prop-${serverId}-${h.ageMinutes}`, server_name: 'prop', instance_id: 'i-prop', keep_forever: h.keepForever ? 1 : 0,
      delete_not_before: h.deleteNotBeforeMinutes === null ? null : new Date(NOW.getTime() + h.deleteNotBeforeMinutes * 60_000),
      attempts: 0, next_attempt_at: null, requested_by: 'scheduler', created_at: at, updated_at: at,
    }).executeTakeFirstOrThrow();
    ids.push(Number(res.insertId));
  }
  return ids;
}

async function statuses(ids: number[]): Promise<string[]> {
  const rows = await t.handle.db.selectFrom('ss_snapshots').select(['id', 'status']).where('id', 'in', ids.length ? ids : [0]).execute();
  const by = new Map(rows.map((r) => [Number(r.id), r.status]));
  return ids.map((id) => by.get(id) ?? 'gone');
}

test(`when retention runs on ${SCALE.retentionRuns} random histories and rules through the database, then it never deletes what it must keep, and decides the same way every time`, async () => {
  await fc.assert(fc.asyncProperty(historyArb, rulesArb, async (history: Drawn[], rules) => {
    tally.runs++;
    tally.rows += history.length;
    const db = t.handle.db;
    const sched = await db.insertInto('ss_schedules').values({
      name: 'prop', interval_minutes: 60, cron: null, timezone: rules.timezone,
      keep_last: rules.keepLast, keep_hourly: rules.keepHourly, keep_daily: rules.keepDaily, keep_weekly: rules.keepWeekly,
      keep_monthly: rules.keepMonthly, keep_yearly: rules.keepYearly, max_age_days: rules.maxAgeDays, min_keep: rules.minKeep ?? 1,
      enabled: 1, no_reboot: 1, created_at: NOW, updated_at: NOW,
    }).executeTakeFirstOrThrow();
    const scheduleId = Number(sched.insertId);
    const a = nextServer++;
    const b = nextServer++;
    const idsA = await insertHistory(a, scheduleId, history);
    const idsB = await insertHistory(b, scheduleId, history);

    const decisionsA = await applyRetention(db, NOW, a, scheduleId);
    const decisionsB = await applyRetention(db, NOW, b, scheduleId);
    const afterA = await statuses(idsA);
    const afterB = await statuses(idsB);
    const problems: string[] = [];

    // What it must never queue.
    const minKeep = rules.minKeep ?? 1;
    const pool = history.map((h, i) => ({ h, i })).filter(({ h }) => h.status === 'available' && h.origin === 'scheduled')
      .sort((x, y) => x.h.ageMinutes - y.h.ageMinutes); // newest first
    const newest = new Set(pool.slice(0, minKeep).map(({ i }) => i));
    history.forEach((h, i) => {
      const queued = h.status === 'available' && afterA[i] === 'deleting';
      const changed = afterA[i] !== h.status;
      if (queued) tally.queued++;
      if (changed && !queued) { tally.lost++; problems.push(`row ${i} changed from ${h.status} to ${afterA[i]}`); }
      if (h.origin !== 'scheduled' || h.status !== 'available' || h.keepForever || (h.deleteNotBeforeMinutes ?? 0) > 0) tally.protectedRows++;
      if (!queued) return;
      const why = h.origin !== 'scheduled' ? `${h.origin} snapshot`
        : h.keepForever ? 'keepForever'
          : h.deleteNotBeforeMinutes !== null && h.deleteNotBeforeMinutes > 0 ? 'deleteNotBefore in the future'
            : newest.has(i) ? `one of the newest ${minKeep} (minKeep)` : null;
      if (why) { tally.lost++; problems.push(`row ${i} (${why}) was queued for deletion`); }
    });
    const goodLeft = pool.filter(({ i }) => afterA[i] === 'available').length;
    if (goodLeft < Math.min(minKeep, pool.length)) { tally.lost++; problems.push(`${goodLeft} good snapshot(s) left, minKeep ${minKeep}`); }

    // Same input, same decision; a re-run queues nothing more.
    if (JSON.stringify(afterA) !== JSON.stringify(afterB)) { tally.duplicated++; problems.push('the same history on another server was decided differently'); }
    const strip = (ds: typeof decisionsA, ids: number[]) => ds.map((d) => ({ i: ids.indexOf(d.id), action: d.action, reasons: d.reasons })).sort((x, y) => x.i - y.i);
    if (JSON.stringify(strip(decisionsA, idsA)) !== JSON.stringify(strip(decisionsB, idsB))) { tally.duplicated++; problems.push('decisions (with reasons) differ for the same history'); }
    await applyRetention(db, NOW, a, scheduleId);
    const again = await statuses(idsA);
    if (JSON.stringify(again) !== JSON.stringify(afterA)) { tally.duplicated++; problems.push(`a re-run queued more: ${again.filter((s, i) => s !== afterA[i]).length}`); }

    // Every queued deletion is explained in the audit log.
    const queuedIds = idsA.filter((_, i) => history[i]!.status === 'available' && afterA[i] === 'deleting');
    if (queuedIds.length > 0) {
      const events = await db.selectFrom('ss_events').select(['snapshot_id', 'detail']).where('action', '=', 'retention_delete').where('snapshot_id', 'in', queuedIds).execute();
      const explained = new Set(events.filter((e) => (e.detail ?? '').startsWith('deleted:')).map((e) => Number(e.snapshot_id)));
      const unexplained = queuedIds.filter((id) => !explained.has(id)).length;
      if (unexplained > 0) { tally.orphaned += unexplained; problems.push(`${unexplained} deletion(s) without a reason in the audit log`); }
    }
    if (problems.length > 0 && !tally.example) tally.example = `${JSON.stringify({ rules, history })} → ${problems.join('; ')}`;
    return problems.length === 0;
  }), { numRuns: SCALE.retentionRuns, seed, endOnFailure: true });
  passed = tally.lost === 0 && tally.duplicated === 0 && tally.orphaned === 0;
  expect(passed).toBe(true);
});
