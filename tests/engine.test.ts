import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import { sandboxContents } from '../sidecar/providers/sandbox.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { advance, advanceToNextSlot, api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

let t: TestDatabase;
beforeAll(async () => { t = await createTestDatabase(); });
afterAll(async () => { await t.drop(); });

async function snapshotsOf(serverId: number) {
  return await t.handle.db.selectFrom('ss_snapshots').selectAll().where('server_id', '=', serverId).orderBy('id').execute();
}

describe('a 1-minute schedule on 3 servers', () => {
  test('when 5 minutes pass, then each server has exactly one snapshot per slot, and keepLast prunes the oldest while a manual one stays', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock });
    try {
      // Start one second past a minute boundary, so each 60 s step below crosses exactly one slot.
      await advanceToNextSlot(clock, t.handle.db, 60_000);
      const servers = [await addServer(t, { title: 'a' }), await addServer(t, { title: 'b' }), await addServer(t, { title: 'c' })];
      const created = await api(sc, 'post', '/api/v1/schedules', { name: 'Every minute', intervalMinutes: 1, timezone: 'UTC', retention: { keepLast: 3 } });
      expect(created.status).toBe(201);
      const scheduleId = created.body.schedule.id as number;
      for (const s of servers) {
        const put = await api(sc, 'put', `/api/v1/servers/${s}/schedules`, { scheduleIds: [scheduleId] });
        expect(put.status).toBe(200);
      }
      const manual = await api(sc, 'post', `/api/v1/servers/${servers[0]}/snapshots`, {});
      expect(manual.status).toBe(202);
      await runUntilIdle(sc);

      for (let minute = 0; minute < 5; minute++) {
        advance(clock, 60_000);
        await runUntilIdle(sc);
        // A second pass in the same minute must not create anything new.
        await runUntilIdle(sc);
      }
      for (const s of servers) {
        const rows = await snapshotsOf(s);
        const scheduled = rows.filter((r) => r.origin === 'scheduled');
        expect(scheduled.map((r) => r.status)).toEqual(['available', 'available', 'available']);
        const slots = scheduled.map((r) => r.slot_at!.getTime());
        expect(new Set(slots).size).toBe(slots.length);
        for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(60_000);
      }
      const first = await snapshotsOf(servers[0]!);
      expect(first.filter((r) => r.origin === 'manual').map((r) => r.status)).toEqual(['available']);
      // 5 slots were snapshotted per server; the two oldest were deleted at the provider too.
      const events = await t.handle.db.selectFrom('ss_events').select(['action']).where('server_id', '=', servers[1]!).execute();
      expect(events.filter((e) => e.action === 'requested')).toHaveLength(5);
      expect(events.filter((e) => e.action === 'deleted')).toHaveLength(2);
      const cloud = await sandboxContents(t.handle.db, 'sandbox');
      expect(cloud.filter((c) => c.instance_id === `i-${servers[1]}`)).toHaveLength(3);
    } finally {
      await sc.stop(0);
    }
  });
});

describe('downtime', () => {
  test('when the sidecar was down for a day, then each schedule makes one catch-up snapshot, not a burst', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock });
    try {
      const server = await addServer(t, { title: 'sleepy' });
      const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Hourly', intervalMinutes: 60, retention: { keepLast: 100 } });
      await api(sc, 'put', `/api/v1/servers/${server}/schedules`, { scheduleIds: [s.body.schedule.id] });
      advance(clock, 24 * 3600_000);
      await runUntilIdle(sc);
      const rows = await snapshotsOf(server);
      expect(rows).toHaveLength(1);
      const now = await clock.now(t.handle.db);
      // The latest slot already due for this server: its spread offset (under an hour) after the slot.
      expect(now.getTime() - rows[0]!.slot_at!.getTime()).toBeLessThan(2 * 3600_000);
      const a = await t.handle.db.selectFrom('ss_assignments').selectAll().where('server_id', '=', server).executeTakeFirstOrThrow();
      expect(a.next_slot_at.getTime()).toBeGreaterThan(now.getTime());
    } finally {
      await sc.stop(0);
    }
  });
});

describe('several engines on one database', () => {
  test('when 4 engines race over 200 due slots, then each slot is claimed once and the provider sees one create per slot', async () => {
    const clock = databaseClock();
    const engines = await Promise.all([0, 1, 2, 3].map((i) => sidecarFor(t, { clock, env: { SS_INSTANCE_ID: `e${i}` }, providers: { race: { type: 'sandbox', latencyMs: 0 } } })));
    try {
      const db = t.handle.db;
      const ids: number[] = [];
      for (let i = 0; i < 200; i++) ids.push(await addServer(t, { title: `r${i}`, provider: 'race' }));
      // Once a year: an hourly schedule spreads its servers over the hour, so some would fall
      // due again while the engines race (a second, legitimate slot for them).
      const s = await api(engines[0]!, 'post', '/api/v1/schedules', { name: 'Race', cron: '0 0 1 1 *', timezone: 'UTC', retention: { keepLast: 5 } });
      const now = await clock.now(db);
      await db.insertInto('ss_assignments').values(ids.map((id) => ({ server_id: id, schedule_id: s.body.schedule.id, next_slot_at: new Date(now.getTime() - 1000), problem: null, created_at: now }))).execute();
      await Promise.all(engines.map(async (e) => { for (let i = 0; i < 20; i++) { await e.engine.tick(); await e.engine.drain(); } }));
      const rows = await db.selectFrom('ss_snapshots').select(['server_id', 'status']).where('server_id', 'in', ids).execute();
      expect(rows).toHaveLength(200);
      expect(new Set(rows.map((r) => r.server_id)).size).toBe(200);
      expect(rows.every((r) => r.status === 'available')).toBe(true);
      const cloud = await sandboxContents(db, 'race');
      expect(cloud).toHaveLength(200);
      const dispatchedBy = engines.map((e) => e.engine.stats.dispatched);
      expect(dispatchedBy.reduce((a, b) => a + b, 0)).toBe(200);
    } finally {
      await Promise.all(engines.map((e) => e.stop(0)));
    }
  });
});

describe('crash recovery', () => {
  test('when a sidecar dies after the provider accepted, then after the lease another one adopts the snapshot and makes no second one', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { crashy: { type: 'sandbox', latencyMs: 60_000 } } });
    try {
      const db = t.handle.db;
      const server = await addServer(t, { title: 'crash', provider: 'crashy' });
      const res = await api(sc, 'post', `/api/v1/servers/${server}/snapshots`, {});
      const id = res.body.snapshot.id as number;
      // The "crashed" sidecar: it claimed the row and called the provider, then vanished before storing the result.
      const now = await clock.now(db);
      const row = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      await db.updateTable('ss_snapshots').set({ lease_owner: 'dead:1', attempts: 1, next_attempt_at: new Date(now.getTime() + 30_000) }).where('id', '=', id).execute();
      await sc.ctx.providers.get('crashy')!.create({ serverId: server, instanceId: row.instance_id!, region: null, name: null }, { snapshotId: id, name: row.name });
      expect(await sandboxContents(db, 'crashy')).toHaveLength(1);

      await runUntilIdle(sc); // lease still held by the dead sidecar: nothing happens
      expect((await db.selectFrom('ss_snapshots').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('requested');
      advance(clock, 31_000);
      await runUntilIdle(sc);
      const after = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(after.status).toBe('creating');
      expect(after.provider_snapshot_id).toBe(`sbx-${(await sandboxContents(db, 'crashy'))[0]!.id}`);
      // /metrics counts the snapshot the provider made once, though the sidecar that asked for it never could.
      expect(sc.engine.stats.outcomes.created).toBe(1);
      advance(clock, 61_000);
      await runUntilIdle(sc);
      expect((await db.selectFrom('ss_snapshots').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('available');
      expect(await sandboxContents(db, 'crashy')).toHaveLength(1);
      const actions = (await db.selectFrom('ss_events').select('action').where('snapshot_id', '=', id).execute()).map((e) => e.action);
      expect(actions).toContain('adopted');
    } finally {
      await sc.stop(0);
    }
  });

  test('when the engine stops (SIGTERM) during a slow provider call, then its lease is released for another sidecar at once', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { slow: { type: 'sandbox', latencyMs: 0, slowMs: 2000 } } });
    try {
      const db = t.handle.db;
      const server = await addServer(t, { title: 'slow', provider: 'slow' });
      const res = await api(sc, 'post', `/api/v1/servers/${server}/snapshots`, {});
      const id = res.body.snapshot.id as number;
      await sc.engine.tick(); // claims it; the provider call is in flight
      const leased = await db.selectFrom('ss_snapshots').select(['lease_owner']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(leased.lease_owner).toMatch(/^sidecar-/);
      const { released } = await sc.engine.stop(0);
      expect(released).toBe(1);
      const row = await db.selectFrom('ss_snapshots').select(['lease_owner', 'next_attempt_at']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.lease_owner).toBeNull();
      const now = await clock.now(db);
      expect(row.next_attempt_at!.getTime()).toBeLessThanOrEqual(now.getTime());
    } finally {
      await sc.stop(0);
    }
  });
});


describe('retention through the engine', () => {
  test('when a schedule keeps failing, then its last good snapshot survives every later run', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { flaky: { type: 'sandbox', latencyMs: 0 } }, limits: { createAttempts: 1 } });
    try {
      await advanceToNextSlot(clock, t.handle.db, 60_000);
      const server = await addServer(t, { title: 'flaky', provider: 'flaky', instanceId: 'i-flaky' });
      const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Flaky', intervalMinutes: 1, retention: { keepLast: 1, maxAgeDays: 1 } });
      await api(sc, 'put', `/api/v1/servers/${server}/schedules`, { scheduleIds: [s.body.schedule.id] });
      advance(clock, 60_000);
      await runUntilIdle(sc);
      const good = await snapshotsOf(server);
      expect(good.map((r) => r.status)).toEqual(['available']);
      // From now on every create fails at the provider.
      await sc.stop(0);
      const failing = await sidecarFor(t, { clock, providers: { flaky: { type: 'sandbox', latencyMs: 0, failCreate: ['i-flaky'] } }, limits: { createAttempts: 1 } });
      try {
        for (let i = 0; i < 3; i++) { advance(clock, 60_000); await runUntilIdle(failing); }
        advance(clock, 3 * 86_400_000); // far past maxAgeDays: the age sweep (an upkeep chore) deletes
        await failing.upkeep.run('retention-sweep');
        await runUntilIdle(failing);
        const rows = await snapshotsOf(server);
        expect(rows.filter((r) => r.status === 'available').map((r) => r.id)).toEqual([good[0]!.id]);
        expect(rows.filter((r) => r.status === 'failed').length).toBeGreaterThanOrEqual(3);
        expect(rows.find((r) => r.status === 'failed')!.last_error).toMatch(/refused to snapshot/);
        const preview = await api(failing, 'get', `/api/v1/schedules/${s.body.schedule.id}/retention-preview?serverId=${server}`);
        const kept = preview.body.servers[0].decisions.find((d: { id: number }) => d.id === good[0]!.id);
        expect(kept.action).toBe('keep');
        expect(kept.reasons.join(' ')).toMatch(/minKeep/);
      } finally {
        await failing.stop(0);
      }
    } finally {
      await sc.stop(0).catch(() => {});
    }
  });

  test('when maxAgeDays passes with no new runs, then the sweep deletes the old ones but keeps the newest', async () => {
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { aging: { type: 'sandbox', latencyMs: 0 } } });
    try {
      const server = await addServer(t, { title: 'aging', provider: 'aging' });
      const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Aging', intervalMinutes: 60, retention: { maxAgeDays: 2 } });
      await api(sc, 'put', `/api/v1/servers/${server}/schedules`, { scheduleIds: [s.body.schedule.id] });
      for (let i = 0; i < 3; i++) { advance(clock, 3600_000); await runUntilIdle(sc); }
      expect((await snapshotsOf(server)).filter((r) => r.status === 'available')).toHaveLength(3);
      await api(sc, 'put', `/api/v1/schedules/${s.body.schedule.id}`, { name: 'Aging', intervalMinutes: 60, enabled: false, retention: { maxAgeDays: 2 } });
      advance(clock, 5 * 86_400_000);
      await sc.upkeep.run('retention-sweep');
      await runUntilIdle(sc);
      const left = await snapshotsOf(server);
      expect(left).toHaveLength(1);
      expect(left[0]!.status).toBe('available');
      const events = await t.handle.db.selectFrom('ss_events').select(['detail']).where('server_id', '=', server).where('action', '=', 'retention_delete').execute();
      expect(events).toHaveLength(2);
      expect(events[0]!.detail).toMatch(/older than 2 days/);
    } finally {
      await sc.stop(0);
    }
  });
});
