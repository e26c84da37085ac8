/**
 * Scenario 5 — clock and calendar, at the engine level (a real sidecar object on a real
 * database; its clock is the database clock plus a test offset, tests/helpers/sidecar.ts).
 *   DST       every schedule shape across spring and autumn changes in four timezones,
 *             stepping the clock every 15 minutes: daily cron runs once per local day (a
 *             02:30 that does not exist runs at 03:30, one that happens twice runs the first
 *             time), an hourly cron runs once per wall-clock hour, an every-60-minutes
 *             schedule runs every real hour with no gap and no double.
 *   far clock the database clock 3 days ahead of the host's: signed requests (host clock)
 *             still work, slots follow the database clock.
 *   downtime  a day without ticks gives one catch-up snapshot per schedule, not a burst.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { databaseClock, type Clock } from '../../sidecar/db.js';
import { sandboxContents } from '../../sidecar/providers/sandbox.js';
import type { Sidecar } from '../../sidecar/sidecar.js';
import { signedHeaders } from '../../sidecar/signing.js';
import { nextSlotAfter } from '../../sidecar/slots.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { SECRET, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';
import request from 'supertest';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';
import { dbNow } from './harness/world.js';

const SCENARIO = '5 clock and calendar';
let t: TestDatabase;
let passed = false;
const tally = { rounds: 0, lost: 0, duplicated: 0, orphaned: 0, notes: [] as string[], problems: [] as string[] };
const started = Date.now();

beforeAll(async () => { markStarted(SCENARIO); t = await createTestDatabase(); });
afterAll(async () => {
  // Orphans: sandbox snapshots carrying our marker that no record points to.
  const copies = await sandboxContents(t.handle.db);
  const known = new Set((await t.handle.db.selectFrom('ss_snapshots').select('provider_snapshot_id').execute()).map((r) => r.provider_snapshot_id));
  tally.orphaned = copies.filter((c) => /^ss-\d+-/.test(c.name) && !known.has(`sbx-${c.id}`)).length;
  const markers = new Map<string, number>();
  for (const c of copies) markers.set(c.name, (markers.get(c.name) ?? 0) + 1);
  tally.duplicated += [...markers.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
  passed = passed && tally.orphaned === 0 && tally.duplicated === 0 && tally.lost === 0;
  writeResult({
    scenario: SCENARIO, rounds: tally.rounds, roundsOf: 'clock steps', faults: tally.notes.length,
    lost: tally.lost, duplicated: tally.duplicated, orphaned: tally.orphaned,
    notes: tally.notes.join('; '), passed, ms: Date.now() - started,
  });
  if (passed) await t.drop();
  else console.log(`${SCENARIO}: database ${t.name} kept; problems:\n${tally.problems.join('\n')}`);
});

/** Move the engine's clock to `target` (absolute, so the steps do not drift). */
async function setClock(clock: Clock, target: Date): Promise<void> {
  clock.__test__offsetMs = target.getTime() - (await dbNow(t.handle.db)).getTime();
}

async function schedule(sc: Sidecar, body: Record<string, unknown>): Promise<number> {
  const r = await api(sc, 'post', '/api/v1/schedules', { retention: { keepLast: 1000 }, ...body });
  if (r.status !== 201) throw new Error(`schedule refused: ${JSON.stringify(r.body)}`);
  return r.body.schedule.id as number;
}

/** Assign directly with the next slot after `from` (the engine's clock is about to jump there). */
async function assign(serverId: number, scheduleId: number, from: Date): Promise<void> {
  const s = await t.handle.db.selectFrom('ss_schedules').selectAll().where('id', '=', scheduleId).executeTakeFirstOrThrow();
  await t.handle.db.insertInto('ss_assignments').values({
    server_id: serverId, schedule_id: scheduleId, problem: null, created_at: from,
    next_slot_at: nextSlotAfter({ intervalMinutes: s.interval_minutes, cron: s.cron, timezone: s.timezone }, from),
  }).execute();
}

async function slotsOf(serverId: number, scheduleId: number): Promise<Date[]> {
  const rows = await t.handle.db.selectFrom('ss_snapshots').select(['slot_at', 'status']).where('server_id', '=', serverId).where('schedule_id', '=', scheduleId).orderBy('slot_at').execute();
  for (const r of rows) if (r.status !== 'available') tally.problems.push(`snapshot for slot ${r.slot_at?.toISOString()} ended ${r.status}`);
  return rows.map((r) => r.slot_at!);
}

const TRANSITIONS: Array<{ zone: string; at: string; kind: 'spring' | 'autumn' }> = [
  { zone: 'Europe/Berlin', at: '2027-03-28T01:00:00Z', kind: 'spring' },
  { zone: 'Europe/Berlin', at: '2027-10-31T01:00:00Z', kind: 'autumn' },
  { zone: 'America/New_York', at: '2027-03-14T07:00:00Z', kind: 'spring' },
  { zone: 'America/New_York', at: '2027-11-07T06:00:00Z', kind: 'autumn' },
  { zone: 'Australia/Sydney', at: '2027-04-03T16:00:00Z', kind: 'autumn' },
  { zone: 'Australia/Sydney', at: '2027-10-02T16:00:00Z', kind: 'spring' },
];

test('when the clock crosses DST changes in several timezones, then each schedule keeps its documented rhythm with no double and no gap', async () => {
  const clock = databaseClock();
  const sc = await sidecarFor(t, { clock, providers: { sandbox: { type: 'sandbox', latencyMs: 0 } } });
  try {
    for (const tr of TRANSITIONS) {
      const change = new Date(tr.at);
      const start = new Date(change.getTime() - 86_400_000 + 7 * 60_000);
      const end = new Date(start.getTime() + SCALE.dstDays * 86_400_000);
      const server = await addServer(t, { title: `dst-${tr.zone}-${tr.kind}`, instanceId: `i-dst-${tr.kind}-${tr.zone}` });
      const ids = {
        daily0130: await schedule(sc, { name: `${tr.zone} 01:30`, cron: '30 1 * * *', timezone: tr.zone }),
        daily0230: await schedule(sc, { name: `${tr.zone} 02:30`, cron: '30 2 * * *', timezone: tr.zone }),
        hourly: await schedule(sc, { name: `${tr.zone} hourly cron`, cron: '0 * * * *', timezone: tr.zone }),
        every60: await schedule(sc, { name: `${tr.zone} every 60`, intervalMinutes: 60, timezone: tr.zone }),
      };
      for (const id of Object.values(ids)) await assign(server, id, start);
      for (let at = start.getTime(); at <= end.getTime(); at += 15 * 60_000) {
        await setClock(clock, new Date(at));
        await runUntilIdle(sc);
        tally.rounds++;
      }
      await t.handle.db.deleteFrom('ss_assignments').where('server_id', '=', server).execute();

      const local = (d: Date) => DateTime.fromJSDate(d, { zone: tr.zone });
      const changeDay = local(change).toISODate();
      const fullDays = new Set<string>();
      for (let d = local(start).startOf('day').plus({ days: 1 }); d.plus({ days: 1 }) <= local(end); d = d.plus({ days: 1 })) fullDays.add(d.toISODate()!);

      // Daily crons: exactly one per full local day; on the change day at the documented instant.
      for (const [key, wall] of [['daily0130', '01:30'], ['daily0230', '02:30']] as const) {
        const slots = await slotsOf(server, ids[key]);
        for (const day of fullDays) {
          const onDay = slots.filter((s) => local(s).toISODate() === day);
          if (onDay.length === 0) { tally.lost++; tally.problems.push(`${tr.zone} ${wall}: no run on ${day}`); }
          if (onDay.length > 1) { tally.duplicated += onDay.length - 1; tally.problems.push(`${tr.zone} ${wall}: ${onDay.length} runs on ${day}`); }
          if (day !== changeDay || onDay.length !== 1) continue;
          const got = local(onDay[0]!);
          const [h, m] = wall.split(':').map(Number) as [number, number];
          const wanted = DateTime.fromObject({ year: got.year, month: got.month, day: got.day, hour: h, minute: m }, { zone: tr.zone });
          const exists = wanted.hour === h && wanted.minute === m;
          if (exists) {
            // Happens once or twice: the first instant that shows this wall time.
            const first = [wanted.minus({ hours: 1 }), wanted].filter((c) => c.hour === h && c.minute === m && c.day === got.day).sort((a, b) => a.toMillis() - b.toMillis())[0]!;
            if (got.toMillis() !== first.toMillis()) tally.problems.push(`${tr.zone} ${wall} on ${day}: ran at ${got.toISO()}, expected the first ${first.toISO()}`);
          } else if (!(got.hour === h + 1 && got.minute === m)) {
            tally.problems.push(`${tr.zone} ${wall} on ${day} does not exist: ran at ${got.toISO()}, expected one hour later on the wall clock`);
          }
        }
      }
      // Hourly cron: once per wall-clock hour that exists that day (23 on a spring day, 24 on an autumn one).
      const hourly = await slotsOf(server, ids.hourly);
      for (const day of fullDays) {
        const onDay = hourly.filter((s) => local(s).toISODate() === day);
        const wallHours = new Set(onDay.map((s) => local(s).hour));
        const dayStart = DateTime.fromISO(day, { zone: tr.zone }).startOf('day');
        const existing = new Set<number>();
        for (let x = dayStart; x < dayStart.plus({ days: 1 }); x = x.plus({ minutes: 30 })) existing.add(x.hour);
        if (wallHours.size !== onDay.length) { tally.duplicated += onDay.length - wallHours.size; tally.problems.push(`${tr.zone} hourly cron on ${day}: a wall-clock hour ran twice`); }
        const missing = [...existing].filter((hr) => !wallHours.has(hr));
        if (missing.length > 0) { tally.lost += missing.length; tally.problems.push(`${tr.zone} hourly cron on ${day}: hours ${missing.join(',')} never ran`); }
      }
      // Every 60 minutes: real elapsed time, one slot per real hour, no gap and no double.
      const every = (await slotsOf(server, ids.every60)).map((d) => d.getTime());
      const expected = Math.floor(end.getTime() / 3600_000) - Math.floor(start.getTime() / 3600_000);
      if (every.length < expected) { tally.lost += expected - every.length; tally.problems.push(`${tr.zone} every 60: ${every.length} of ${expected} slots`); }
      if (every.length > expected) { tally.duplicated += every.length - expected; tally.problems.push(`${tr.zone} every 60: ${every.length} slots for ${expected} hours`); }
      if (every.some((x, i) => i > 0 && x - every[i - 1]! !== 3600_000)) tally.problems.push(`${tr.zone} every 60: slots are not one real hour apart`);
      tally.notes.push(`${tr.zone.split('/')[1]} ${tr.kind}`);
    }
  } finally {
    await sc.stop(0);
  }
  expect(tally.problems).toEqual([]);
});

test('when the database clock is 3 days ahead of the host clock, then signed requests still work and slots follow the database clock', async () => {
  const clock = databaseClock();
  const sc = await sidecarFor(t, { clock, providers: { sandbox: { type: 'sandbox', latencyMs: 0 } } });
  try {
    clock.__test__offsetMs = 3 * 86_400_000;
    const engineNow = await clock.now(t.handle.db);
    const server = await addServer(t, { title: 'far-clock', instanceId: 'i-far' });
    const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Far hourly', intervalMinutes: 60, spreadMinutes: 0, retention: { keepLast: 5 } });
    expect(s.status).toBe(201);
    const put = await api(sc, 'put', `/api/v1/servers/${server}/schedules`, { scheduleIds: [s.body.schedule.id] });
    expect(put.status).toBe(200);
    const nextRunAt = new Date(put.body.schedules[0].nextRunAt).getTime();
    // The next slot is the next hour by the engine's (database) clock, 3 days ahead of the host.
    expect(nextRunAt).toBeGreaterThan(engineNow.getTime());
    expect(nextRunAt).toBeLessThanOrEqual(engineNow.getTime() + 3600_000);
    expect(nextRunAt - Date.now()).toBeGreaterThan(2.9 * 86_400_000);
    clock.__test__offsetMs += 3600_000;
    await runUntilIdle(sc);
    const rows = await t.handle.db.selectFrom('ss_snapshots').selectAll().where('server_id', '=', server).execute();
    expect(rows.map((r) => r.status)).toEqual(['available']);
    expect(rows[0]!.slot_at!.getTime()).toBe(nextRunAt);
    tally.rounds += 2;
    // Signatures use the host clock: a request stamped with the database clock's time is refused…
    const path = '/api/v1/schedules';
    const skewed = signedHeaders(SECRET, { method: 'GET', pathWithQuery: path, timestamp: Math.floor(engineNow.getTime() / 1000) });
    expect((await request(sc.app).get(path).set(skewed)).status).toBe(401);
    // …and one stamped with the host's time is accepted, once.
    const fresh = signedHeaders(SECRET, { method: 'GET', pathWithQuery: path });
    expect((await request(sc.app).get(path).set(fresh)).status).toBe(200);
    expect((await request(sc.app).get(path).set(fresh)).status).toBe(401);
    tally.notes.push('DB clock +3 d: slots by DB clock, signatures by host clock');
  } finally {
    await sc.stop(0);
  }
});

test('when the sidecar was down for a day, then each schedule makes one catch-up snapshot, not a burst', async () => {
  const clock = databaseClock();
  const sc = await sidecarFor(t, { clock, providers: { sandbox: { type: 'sandbox', latencyMs: 0 } } });
  try {
    const server = await addServer(t, { title: 'downtime', instanceId: 'i-down' });
    const shapes = [
      { name: 'Every 5', intervalMinutes: 5 },
      { name: 'Every 60', intervalMinutes: 60 },
      { name: 'Every 6 h cron', cron: '0 */6 * * *', timezone: 'UTC' },
      { name: 'Daily Berlin', cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      { name: 'Hourly New York', cron: '0 * * * *', timezone: 'America/New_York' },
    ];
    const ids: number[] = [];
    for (const shape of shapes) ids.push(await schedule(sc, shape));
    await setClock(clock, new Date('2027-06-01T10:07:00Z'));
    for (const id of ids) await assign(server, id, await clock.now(t.handle.db));
    for (let i = 0; i < 8; i++) { clock.__test__offsetMs += 15 * 60_000; await runUntilIdle(sc); tally.rounds++; }
    const before = new Map<number, number>();
    for (const id of ids) before.set(id, (await slotsOf(server, id)).length);
    clock.__test__offsetMs += 26 * 3600_000; // down for a day (and then some)
    await runUntilIdle(sc);
    tally.rounds++;
    const now = await clock.now(t.handle.db);
    for (const [i, id] of ids.entries()) {
      const slots = await slotsOf(server, id);
      const added = slots.length - before.get(id)!;
      if (added < 1) { tally.lost++; tally.problems.push(`${shapes[i]!.name}: no catch-up`); }
      if (added > 1) { tally.duplicated += added - 1; tally.problems.push(`${shapes[i]!.name}: ${added} snapshots after the downtime (a burst)`); }
      const last = slots[slots.length - 1]!;
      if (now.getTime() - last.getTime() > 86_400_000) tally.problems.push(`${shapes[i]!.name}: the catch-up is not the latest slot`);
      const a = await t.handle.db.selectFrom('ss_assignments').select('next_slot_at').where('server_id', '=', server).where('schedule_id', '=', id).executeTakeFirstOrThrow();
      if (a.next_slot_at.getTime() <= now.getTime()) tally.problems.push(`${shapes[i]!.name}: the next slot is not in the future`);
    }
    tally.notes.push(`26 h down: ${shapes.length} schedules, one catch-up each`);
  } finally {
    await sc.stop(0);
  }
  expect(tally.problems).toEqual([]);
  passed = true;
});
