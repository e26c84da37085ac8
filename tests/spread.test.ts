import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import { dueSlotAtOrBefore, nextDueAfter, spreadOffsetMs } from '../sidecar/slots.js';
import { addServer, addServers, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { advance, advanceToNextSlot, api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

const HOUR = 3600_000;

async function scheduledOf(serverIds: number[]) {
  return await t.handle.db.selectFrom('ss_snapshots').select(['server_id', 'slot_at', 'created_at'])
    .where('server_id', 'in', serverIds).where('origin', '=', 'scheduled').orderBy('id').execute();
}

describe('spread, not burst', () => {
  test('when 100 servers follow "every 60 minutes", then they are dispatched as a stream over the hour, each exactly once per slot, at its own stable offset', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock });
    try {
      await advanceToNextSlot(clock, t.handle.db, HOUR);
      const servers = await addServers(t, 100, { titlePrefix: 'spread' });
      const created = await api(sc, 'post', '/api/v1/schedules', { name: 'Hourly', intervalMinutes: 60, retention: { keepLast: 5 } });
      expect(created.status).toBe(201);
      expect(created.body.schedule.spreadWindowMinutes).toBe(60);
      const scheduleId = created.body.schedule.id as number;
      for (const s of servers) expect((await api(sc, 'put', `/api/v1/servers/${s}/schedules`, { scheduleIds: [scheduleId] })).status).toBe(200);
      await runUntilIdle(sc);
      // Jump to one second past the next hour: from here on, watch one whole slot in 5-minute steps.
      // (The slot before it, owed since the assignment, is caught up first: not part of the count.)
      advance(clock, HOUR);
      await runUntilIdle(sc);
      const start = (await clock.now(t.handle.db)).getTime();
      const before = (await scheduledOf(servers)).length;
      const perStep: number[] = [];
      let seen = before;
      for (let step = 0; step < 12; step++) {
        advance(clock, 5 * 60_000);
        await runUntilIdle(sc);
        const n = (await scheduledOf(servers)).length;
        perStep.push(n - seen);
        seen = n;
      }
      // A stream: no 5-minute step carries the hour's burst, and (almost) every step has some.
      expect(Math.max(...perStep)).toBeLessThanOrEqual(20);
      expect(perStep.filter((n) => n > 0).length).toBeGreaterThanOrEqual(10);
      const rows = await scheduledOf(servers);
      const slotH = Math.floor(start / HOUR) * HOUR;
      for (const s of servers) {
        const mine = rows.filter((r) => Number(r.server_id) === s);
        const slots = mine.map((r) => r.slot_at!.getTime());
        // Exactly one snapshot per slot, and the slot is the nominal full hour.
        expect(new Set(slots).size).toBe(slots.length);
        expect(slots.every((x) => x % HOUR === 0)).toBe(true);
        expect(slots).toContain(slotH);
        // It ran at its offset after the slot (within one 5-minute step of it), never before.
        const run = mine.find((r) => r.slot_at!.getTime() === slotH)!;
        const late = run.created_at.getTime() - slotH;
        const offset = spreadOffsetMs({ intervalMinutes: 60, cron: null, timezone: 'UTC' }, s);
        expect(late).toBeGreaterThanOrEqual(offset);
        expect(late - offset).toBeLessThanOrEqual(5 * 60_000 + 2000);
      }
      // The server's next run shows the offset: the slot, and the run that many seconds later.
      const one = await api(sc, 'get', `/api/v1/servers/${servers[7]}`);
      const next = one.body.server?.schedules?.[0] ?? one.body.schedules?.[0];
      expect(new Date(next.nextRunAt).getTime() - new Date(next.slotAt).getTime()).toBe(next.spreadOffsetSeconds * 1000);
      expect(new Date(next.slotAt).getTime() % HOUR).toBe(0);
    } finally {
      await sc.stop(0);
    }
  });

  test('when a cron schedule has no spread window, then it runs on the minute the admin wrote; a spread window moves it inside the window', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock });
    try {
      await advanceToNextSlot(clock, t.handle.db, HOUR);
      const server = await addServer(t, { title: 'cron-exact' });
      const exact = await api(sc, 'post', '/api/v1/schedules', { name: 'On the hour', cron: '0 * * * *', retention: { keepLast: 5 } });
      expect(exact.status).toBe(201);
      expect(exact.body.schedule.spreadWindowMinutes).toBe(0);
      await api(sc, 'put', `/api/v1/servers/${server}/schedules`, { scheduleIds: [exact.body.schedule.id] });
      advance(clock, HOUR);
      await runUntilIdle(sc);
      const [row] = await scheduledOf([server]);
      expect(row).toBeDefined();
      expect(row!.slot_at!.getTime() % HOUR).toBe(0);
      // Dispatched as soon as the clock passed the full hour (the test stepped 1 s past it), not minutes later.
      expect(row!.created_at.getTime() - row!.slot_at!.getTime()).toBeLessThanOrEqual(10_000);

      const wide = await api(sc, 'post', '/api/v1/schedules', { name: 'Spread too wide', cron: '0 * * * *', spreadMinutes: 60, retention: { keepLast: 5 } });
      expect(wide.status).toBe(400);
      expect(JSON.stringify(wide.body)).toContain('spreadMinutes');
      const tooLong = await api(sc, 'post', '/api/v1/schedules', { name: 'Interval too wide', intervalMinutes: 30, spreadMinutes: 31, retention: { keepLast: 5 } });
      expect(tooLong.status).toBe(400);
      const spread = await api(sc, 'post', '/api/v1/schedules', { name: 'Spread cron', cron: '0 * * * *', spreadMinutes: 30, retention: { keepLast: 5 } });
      expect(spread.status).toBe(201);
      expect(spread.body.schedule.spreadMinutes).toBe(30);
    } finally {
      await sc.stop(0);
    }
  });
});

describe('spread across daylight saving', () => {
  test('when a daily 02:30 Berlin cron with a 60-minute spread crosses both DST changes, then each server runs once per day, at its offset after the slot', () => {
    const t = { intervalMinutes: null, cron: '30 2 * * *', timezone: 'Europe/Berlin', spreadMinutes: 60 };
    for (const from of ['2026-03-26T00:00:00Z', '2026-10-22T00:00:00Z']) {
      for (const serverId of [1, 2, 3, 17, 12_345, 99_999]) {
        const offset = spreadOffsetMs(t, serverId);
        expect(offset).toBeGreaterThanOrEqual(0);
        expect(offset).toBeLessThan(HOUR);
        let cursor = new Date(from);
        const slots: number[] = [];
        for (let i = 0; i < 7; i++) {
          const { slotAt, dueAt } = nextDueAfter(t, serverId, cursor);
          expect(dueAt.getTime() - slotAt.getTime()).toBe(offset);
          // The run belongs to exactly that slot.
          expect(dueSlotAtOrBefore(t, serverId, dueAt).getTime()).toBe(slotAt.getTime());
          slots.push(slotAt.getTime());
          cursor = dueAt;
        }
        // Seven consecutive days, one run each (a 23- or 25-hour day included).
        const days = new Set(slots.map((x) => new Date(x).toISOString().slice(0, 10)));
        expect(days.size).toBe(7);
        for (let i = 1; i < slots.length; i++) expect([23, 24, 25]).toContain((slots[i]! - slots[i - 1]!) / HOUR);
      }
    }
  });
});
