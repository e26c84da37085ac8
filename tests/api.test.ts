import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

let t: TestDatabase;
let sc: Sidecar;
let serverId: number;
let scheduleId: number;
const clock = databaseClock();

beforeAll(async () => {
  t = await createTestDatabase();
  sc = await sidecarFor(t, { clock, providers: { sandbox: { type: 'sandbox', latencyMs: 0 }, 'broken-delete': { type: 'sandbox', latencyMs: 0, failDelete: ['*'] } } });
  serverId = await addServer(t, { title: 'web-1' });
  const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Hourly', intervalMinutes: 60, retention: { keepLast: 24 } });
  scheduleId = s.body.schedule.id;
});
afterAll(async () => { await sc.stop(0); await t.drop(); });

/** Row counts of every table we own: a rejected request must leave them all unchanged. */
async function counts() {
  const db = t.handle.db;
  const out: Record<string, number> = {};
  for (const table of ['ss_schedules', 'ss_assignments', 'ss_snapshots', 'ss_events'] as const) {
    const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out[table] = Number(r.n);
  }
  const snap = await db.selectFrom('ss_snapshots').select(['id', 'status', 'keep_forever', 'note', 'delete_not_before']).orderBy('id').execute();
  const sched = await db.selectFrom('ss_schedules').selectAll().orderBy('id').execute();
  return JSON.stringify({ out, snap, sched });
}

describe('seeded schedules', () => {
  test('when the database is new, then the four schedules users know are there', async () => {
    const res = await api(sc, 'get', '/api/v1/schedules');
    expect(res.status).toBe(200);
    const names = res.body.items.map((s: { name: string }) => s.name);
    for (const n of ['Every 60 Min', 'Every 12 Hours', 'Daily', 'Every Week']) expect(names).toContain(n);
    const weekly = res.body.items.find((s: { name: string }) => s.name === 'Every Week');
    expect(weekly.cron).toBe('0 0 * * 6');
    expect(new Date(weekly.nextRunAt).getUTCDay()).toBe(6);
  });
});

describe('schedules', () => {
  test('when a schedule is created, read, replaced and previewed, then the API answers with the documented shapes', async () => {
    const c = await api(sc, 'post', '/api/v1/schedules', { name: 'Nightly Berlin', cron: '30 2 * * *', timezone: 'Europe/Berlin', retention: { keepDaily: 7, keepWeekly: 4 } });
    expect(c.status).toBe(201);
    expect(c.body.schedule).toMatchObject({ name: 'Nightly Berlin', cron: '30 2 * * *', intervalMinutes: null, timezone: 'Europe/Berlin', enabled: true, retention: { keepDaily: 7, keepWeekly: 4, minKeep: 1 } });
    expect(c.body.schedule.retentionSummary).toMatch(/7 daily/);
    const id = c.body.schedule.id;
    const g = await api(sc, 'get', `/api/v1/schedules/${id}`);
    expect(g.body.schedule.name).toBe('Nightly Berlin');
    const p = await api(sc, 'put', `/api/v1/schedules/${id}`, { name: 'Nightly', intervalMinutes: 1440, retention: { keepLast: 3 } });
    expect(p.status).toBe(200);
    expect(p.body.schedule).toMatchObject({ name: 'Nightly', intervalMinutes: 1440, cron: null, timezone: 'UTC' });
    const pv = await api(sc, 'post', '/api/v1/schedules/preview', { name: 'x', cron: '0 3 * * *', timezone: 'UTC', retention: { keepLast: 2 } });
    expect(pv.status).toBe(200);
    expect(pv.body.nextRuns).toHaveLength(5);
    expect(pv.body.nextRuns.every((r: string) => r.endsWith('T03:00:00.000Z'))).toBe(true);
  });

  test('when a schedule with snapshots is deleted, then the answer says they are kept and they are', async () => {
    const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Doomed', intervalMinutes: 5, retention: { keepLast: 1 } });
    const id = s.body.schedule.id;
    const server = await addServer(t, { title: 'keeper' });
    await api(sc, 'put', `/api/v1/servers/${server}/schedules`, { scheduleIds: [id] });
    const now = await clock.now(t.handle.db);
    await t.handle.db.updateTable('ss_assignments').set({ next_slot_at: new Date(now.getTime() - 1) }).where('schedule_id', '=', id).execute();
    await runUntilIdle(sc);
    const d = await api(sc, 'delete', `/api/v1/schedules/${id}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ deleted: true, snapshotsKept: 1 });
    expect(d.body.message).toMatch(/stay in the list/);
    const left = await api(sc, 'get', `/api/v1/snapshots?serverId=${server}`);
    expect(left.body.items).toHaveLength(1);
    expect(left.body.items[0].scheduleName).toBe('(deleted schedule)');
    expect((await api(sc, 'get', `/api/v1/servers/${server}/schedules`)).body.scheduleIds).toEqual([]);
  });

  const badSchedules: Array<[string, unknown, string]> = [
    ['no name', { intervalMinutes: 5, retention: { keepLast: 1 } }, 'name'],
    ['empty name', { name: '   ', intervalMinutes: 5, retention: { keepLast: 1 } }, 'name'],
    ['name too long', { name: 'x'.repeat(300), intervalMinutes: 5, retention: { keepLast: 1 } }, 'name'],
    ['name not a string', { name: 42, intervalMinutes: 5, retention: { keepLast: 1 } }, 'name'],
    ['neither interval nor cron', { name: 'a', retention: { keepLast: 1 } }, 'intervalMinutes'],
    ['both interval and cron', { name: 'a', intervalMinutes: 5, cron: '* * * * *', retention: { keepLast: 1 } }, 'cron'],
    ['interval zero', { name: 'a', intervalMinutes: 0, retention: { keepLast: 1 } }, 'intervalMinutes'],
    ['interval fractional', { name: 'a', intervalMinutes: 1.5, retention: { keepLast: 1 } }, 'intervalMinutes'],
    ['interval huge', { name: 'a', intervalMinutes: 1e300, retention: { keepLast: 1 } }, 'intervalMinutes'],
    ['interval as string', { name: 'a', intervalMinutes: '5', retention: { keepLast: 1 } }, 'intervalMinutes'],
    ['bad cron', { name: 'a', cron: '61 * * * *', retention: { keepLast: 1 } }, 'cron'],
    ['cron with 6 fields', { name: 'a', cron: '0 0 * * * *', retention: { keepLast: 1 } }, 'cron'],
    ['unknown timezone', { name: 'a', intervalMinutes: 5, timezone: 'Mars/Olympus', retention: { keepLast: 1 } }, 'timezone'],
    ['no retention', { name: 'a', intervalMinutes: 5 }, 'retention'],
    ['retention without a bound', { name: 'a', intervalMinutes: 5, retention: { minKeep: 2 } }, 'retention'],
    ['negative keepLast', { name: 'a', intervalMinutes: 5, retention: { keepLast: -1 } }, 'retention.keepLast'],
    ['unknown retention field', { name: 'a', intervalMinutes: 5, retention: { keepLast: 1, keepForever: true } }, 'retention.keepForever'],
    ['unknown top-level field', { name: 'a', intervalMinutes: 5, retention: { keepLast: 1 }, owner: 'me' }, 'owner'],
    ['enabled not boolean', { name: 'a', intervalMinutes: 5, retention: { keepLast: 1 }, enabled: 'yes' }, 'enabled'],
    ['body is an array', [1, 2], 'body'],
    ['body is a string', '"hello"', 'body'],
  ];
  test.each(badSchedules)('when POST /schedules has %s, then 400 names the field and nothing is written', async (_what, body, field) => {
    const before = await counts();
    const res = await api(sc, 'post', '/api/v1/schedules', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(Object.keys(res.body.error.details.fields)).toContain(field);
    expect(res.body.error.message).toContain(field.split('.')[0]);
    expect(await counts()).toBe(before);
  });

  test.each(badSchedules.slice(0, 6))('when PUT /schedules/:id has %s, then 400 and the schedule is unchanged', async (_what, body, field) => {
    const before = await counts();
    const res = await api(sc, 'put', `/api/v1/schedules/${scheduleId}`, body);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details.fields)).toContain(field);
    expect(await counts()).toBe(before);
  });

  test.each([
    ['get', '/api/v1/schedules/999999'], ['put', '/api/v1/schedules/999999'], ['delete', '/api/v1/schedules/999999'],
    ['get', '/api/v1/schedules/999999/retention-preview'],
  ] as const)('when %s %s names an unknown schedule, then 404', async (method, path) => {
    const body = method === 'put' ? { name: 'a', intervalMinutes: 5, retention: { keepLast: 1 } } : undefined;
    const res = await api(sc, method, path, body);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  test.each(['abc', '0', '-1', '1.5', '99999999999999999999', '1e3'])('when the schedule id is %s, then 400 and no stack trace', async (id) => {
    const res = await api(sc, 'get', `/api/v1/schedules/${id}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|node_modules/);
  });
});

describe('server assignments', () => {
  test('when schedules are assigned, then GET shows them with nextRunAt; when unassigned, they go', async () => {
    const put = await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, { scheduleIds: [scheduleId] });
    expect(put.status).toBe(200);
    const get = await api(sc, 'get', `/api/v1/servers/${serverId}/schedules`);
    expect(get.body.scheduleIds).toEqual([scheduleId]);
    expect(new Date(get.body.schedules[0].nextRunAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const server = await api(sc, 'get', `/api/v1/servers/${serverId}`);
    expect(server.body.server).toMatchObject({ id: serverId, name: 'web-1', provider: 'sandbox', problem: null });
    expect(server.body.server.capabilities.delete).toBe(true);
    const cleared = await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, { scheduleIds: [] });
    expect(cleared.body.scheduleIds).toEqual([]);
  });

  test.each([
    ['unknown schedule', { scheduleIds: [987654] }, 400],
    ['ids not numbers', { scheduleIds: ['1'] }, 400],
    ['missing list', {}, 400],
    ['extra field', { scheduleIds: [], x: 1 }, 400],
    ['too many ids', { scheduleIds: Array.from({ length: 101 }, (_, i) => i + 1) }, 400],
  ])('when PUT assignments has %s, then %s and nothing changes', async (_w, body, status) => {
    const before = await counts();
    const res = await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, body);
    expect(res.status).toBe(status);
    expect(await counts()).toBe(before);
  });

  test('when the server does not exist, then 404 and nothing is written', async () => {
    const before = await counts();
    expect((await api(sc, 'put', '/api/v1/servers/888888/schedules', { scheduleIds: [scheduleId] })).status).toBe(404);
    expect((await api(sc, 'post', '/api/v1/servers/888888/snapshots', {})).status).toBe(404);
    expect((await api(sc, 'get', '/api/v1/servers/888888')).status).toBe(404);
    expect(await counts()).toBe(before);
  });

  test('when a server lacks provider data, then take-now is a 409 with a sentence, and its assignment shows the problem', async () => {
    const bare = await addServer(t, { title: 'bare', provider: null });
    const res = await api(sc, 'post', `/api/v1/servers/${bare}/snapshots`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/no provider set/);
    await api(sc, 'put', `/api/v1/servers/${bare}/schedules`, { scheduleIds: [scheduleId] });
    const now = await clock.now(t.handle.db);
    await t.handle.db.updateTable('ss_assignments').set({ next_slot_at: new Date(now.getTime() - 1) }).where('server_id', '=', bare).execute();
    await runUntilIdle(sc);
    const got = await api(sc, 'get', `/api/v1/servers/${bare}/schedules`);
    expect(got.body.schedules[0].problem).toMatch(/no provider set/);
    expect((await api(sc, 'get', `/api/v1/snapshots?serverId=${bare}`)).body.items).toEqual([]);
  });
});

describe('snapshots', () => {
  test('when a snapshot is taken now, protected, noted and trashed, then each step shows in the record and its audit history', async () => {
    const take = await api(sc, 'post', `/api/v1/servers/${serverId}/snapshots`, {}, '7');
    expect(take.status).toBe(202);
    expect(take.body.snapshot).toMatchObject({ serverId, origin: 'manual', status: 'requested', provider: 'sandbox', requestedBy: '7' });
    const id = take.body.snapshot.id;
    await runUntilIdle(sc);
    const got = await api(sc, 'get', `/api/v1/snapshots/${id}`);
    expect(got.body.snapshot.status).toBe('available');
    expect(got.body.snapshot.providerSnapshotId).toMatch(/^sbx-\d+$/);
    const patched = await api(sc, 'patch', `/api/v1/snapshots/${id}`, { keepForever: true, deleteNotBefore: '2030-01-31', note: 'before the upgrade' }, '7');
    expect(patched.status).toBe(200);
    expect(patched.body.snapshot).toMatchObject({ keepForever: true, note: 'before the upgrade', protection: 'Never delete automatically' });
    expect(patched.body.snapshot.deleteNotBefore).toBe('2030-01-31T23:59:59.999Z');
    sc.ctx.trashWaitMs = 5000;
    sc.engine.start();
    try {
      const trash = await api(sc, 'delete', `/api/v1/snapshots/${id}`, undefined, '7');
      expect(trash.status).toBe(200);
      expect(trash.body.deleted).toBe(true);
    } finally {
      await sc.engine.stop(0);
      sc.ctx.trashWaitMs = 0;
    }
    expect((await api(sc, 'get', `/api/v1/snapshots/${id}`)).status).toBe(404);
    const events = await api(sc, 'get', `/api/v1/snapshots/${id}/events`);
    const actions = events.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['requested', 'available', 'updated', 'trash_requested', 'deleted']));
    expect(events.body.items.find((e: { action: string }) => e.action === 'updated').actor).toBe('7');
  });

  test('when the provider refuses to delete, then the snapshot shows delete_failed with the reason, and Delete Record removes only our record', async () => {
    const server = await addServer(t, { title: 'stubborn', provider: 'broken-delete' });
    const take = await api(sc, 'post', `/api/v1/servers/${server}/snapshots`, {});
    const id = take.body.snapshot.id;
    await runUntilIdle(sc);
    const trash = await api(sc, 'delete', `/api/v1/snapshots/${id}`);
    expect(trash.status).toBe(202);
    await runUntilIdle(sc);
    const failed = await api(sc, 'get', `/api/v1/snapshots/${id}`);
    expect(failed.body.snapshot.status).toBe('delete_failed');
    expect(failed.body.snapshot.lastError).toMatch(/refused to delete/);
    const rec = await api(sc, 'delete', `/api/v1/snapshots/${id}/record`);
    expect(rec.status).toBe(200);
    expect(rec.body).toMatchObject({ deleted: true, providerCopyKept: true });
    expect(rec.body.message).toMatch(/left as it is/);
    expect((await api(sc, 'get', `/api/v1/snapshots/${id}`)).status).toBe(404);
    const events = await api(sc, 'get', `/api/v1/snapshots/${id}/events`);
    expect(events.body.items[0].action).toBe('record_deleted');
  });

  test('when a panel snapshot is recorded, then it appears as origin panel and becomes available', async () => {
    const hostId = await api(sc, 'post', '/api/v1/sandbox/snapshots', { serverId });
    expect(hostId.status).toBe(201);
    const rec = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: hostId.body.providerSnapshotId });
    expect(rec.status).toBe(201);
    expect(rec.body.snapshot).toMatchObject({ origin: 'panel', providerSnapshotId: hostId.body.providerSnapshotId });
    await runUntilIdle(sc);
    const list = await api(sc, 'get', `/api/v1/snapshots?origin=panel&serverId=${serverId}`);
    expect(list.body.items[0]).toMatchObject({ id: rec.body.snapshot.id, status: 'available', protection: expect.stringMatching(/never deleted automatically/) });
  });

  test('when the host marks an id intermediate for a provider that cannot follow one, then 409 says so and nothing is written', async () => {
    const before = await counts();
    const res = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: 'sbx-404', idType: 'intermediate' });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/cannot follow the host's intermediate snapshot id sbx-404/);
    expect(await counts()).toBe(before);
  });

  test('when the list is paged with a keyset cursor, then pages do not overlap and the last has no cursor', async () => {
    const server = await addServer(t, { title: 'pager' });
    for (let i = 0; i < 7; i++) await api(sc, 'post', `/api/v1/servers/${server}/snapshots`, {});
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/api/v1/snapshots?serverId=${server}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api(sc, 'get', path);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((s: { id: number }) => s.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(7);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    const byStatus = await api(sc, 'get', `/api/v1/snapshots?serverId=${server}&status=requested`);
    expect(byStatus.body.items).toHaveLength(7);
  });

  test.each([
    ['status=bogus', 'status'], ['origin=robot', 'origin'], ['limit=0', 'limit'], ['limit=100000', 'limit'], ['limit=abc', 'limit'],
    ['serverId=abc', 'serverId'], ['cursor=!!!', 'cursor'], ['color=red', 'color'], ['scheduleId=-4', 'scheduleId'],
  ])('when the list is asked with %s, then 400 names %s', async (qs, field) => {
    const res = await api(sc, 'get', `/api/v1/snapshots?${qs}`);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details.fields)).toContain(field);
  });

  test.each([
    ['keepForever not boolean', { keepForever: 'yes' }, 'keepForever'],
    ['bad date', { deleteNotBefore: '31/01/2030' }, 'deleteNotBefore'],
    ['impossible date', { deleteNotBefore: '2030-02-31' }, 'deleteNotBefore'],
    ['huge note', { note: 'x'.repeat(5000) }, 'note'],
    ['unknown field', { status: 'deleted' }, 'status'],
  ])('when PATCH has %s, then 400 names the field and nothing changes', async (_w, body, field) => {
    const take = await api(sc, 'post', `/api/v1/servers/${serverId}/snapshots`, {});
    const before = await counts();
    const res = await api(sc, 'patch', `/api/v1/snapshots/${take.body.snapshot.id}`, body);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details.fields)).toContain(field);
    expect(await counts()).toBe(before);
  });

  test.each(['', '/record'])('when a snapshot is still being created, then TRASH / DELETE RECORD (%s) is a 409 and it stays', async (suffix) => {
    const take = await api(sc, 'post', `/api/v1/servers/${serverId}/snapshots`, {});
    const before = await counts();
    const res = await api(sc, 'delete', `/api/v1/snapshots/${take.body.snapshot.id}${suffix}`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/still being created/);
    expect(await counts()).toBe(before);
  });

  test.each([
    ['get', '/api/v1/snapshots/777777'], ['patch', '/api/v1/snapshots/777777'], ['delete', '/api/v1/snapshots/777777'],
    ['delete', '/api/v1/snapshots/777777/record'], ['get', '/api/v1/snapshots/777777/events'],
  ] as const)('when %s %s names an unknown snapshot, then 404', async (method, path) => {
    const before = await counts();
    const res = await api(sc, method, path, method === 'patch' ? { note: 'x' } : undefined);
    expect(res.status).toBe(404);
    expect(await counts()).toBe(before);
  });

  test.each([
    ['unknown server', { serverId: 999999, providerSnapshotId: 'x' }, 404],
    ['missing id', { serverId: 1 }, 400],
    ['id too long', { serverId: 1, providerSnapshotId: 'x'.repeat(500) }, 400],
    ['an id type WPCD does not use', { serverId: 1, providerSnapshotId: 'x', idType: 'temporary' }, 400],
  ])('when panel-snapshots has %s, then %s and nothing is written', async (_w, body, status) => {
    const before = await counts();
    const res = await api(sc, 'post', '/api/v1/panel-snapshots', body);
    expect(res.status).toBe(status);
    expect(await counts()).toBe(before);
  });
});

describe('the HTTP layer itself', () => {
  test('when the body is malformed JSON, then 400 malformed_json and nothing is written', async () => {
    const before = await counts();
    const res = await api(sc, 'post', '/api/v1/schedules', '{"name": "a",');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
    expect(await counts()).toBe(before);
  });

  test('when the body is too large, then 413 with a sentence', async () => {
    const res = await api(sc, 'post', '/api/v1/schedules', JSON.stringify({ name: 'x'.repeat(100_000) }));
    expect(res.status).toBe(413);
    expect(res.body.error.message).toMatch(/larger than/);
  });

  test('when a route does not exist, then 404 in the JSON error shape', async () => {
    const res = await api(sc, 'get', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  test('when /healthz is asked without a signature, then it answers and reveals nothing else', async () => {
    const res = await request(sc.app).get('/healthz');
    expect(res.status).toBe(503); // the engine is not started in this file
    expect(res.body).toEqual({ status: 'degraded', database: 'up', engine: 'stopped' });
    sc.engine.start();
    try {
      const ok = await request(sc.app).get('/healthz');
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ status: 'ok', database: 'up', engine: 'running' });
    } finally {
      await sc.engine.stop(0);
    }
  });

  test('when /metrics is scraped, then it is Prometheus text with our series', async () => {
    const res = await request(sc.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/^ss_snapshots\{status="available"\} \d+$/m);
    expect(res.text).toMatch(/ss_http_request_duration_seconds_bucket/);
    expect(res.text).toMatch(/ss_engine_running 0/);
  });

  test('when the providers are listed, then capabilities are there and no credential is', async () => {
    const res = await api(sc, 'get', '/api/v1/providers');
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { slug: string }) => p.slug).sort()).toEqual(['broken-delete', 'sandbox']);
    expect(res.body.items[0].capabilities).toMatchObject({ create: true, delete: true });
  });
});

describe('panel snapshots recorded twice', () => {
  test('when the host fires its hook twice for one snapshot, then the list holds it once', async () => {
    const hostId = await api(sc, 'post', '/api/v1/sandbox/snapshots', { serverId });
    const first = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: hostId.body.providerSnapshotId });
    const second = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: hostId.body.providerSnapshotId });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.snapshot.id).toBe(first.body.snapshot.id);
    const list = await api(sc, 'get', `/api/v1/snapshots?origin=panel&serverId=${serverId}`);
    expect(list.body.items.filter((s: { providerSnapshotId: string }) => s.providerSnapshotId === hostId.body.providerSnapshotId)).toHaveLength(1);
  });
});

describe('one snapshot with retention in words', () => {
  test('when a scheduled snapshot is read, then the answer says what retention will do with it and why', async () => {
    const server = await addServer(t, { title: 'explained' });
    const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Explained', intervalMinutes: 60, retention: { keepLast: 1 } });
    await api(sc, 'put', `/api/v1/servers/${server}/schedules`, { scheduleIds: [s.body.schedule.id] });
    const now = await clock.now(t.handle.db);
    await t.handle.db.updateTable('ss_assignments').set({ next_slot_at: new Date(now.getTime() - 1) }).where('server_id', '=', server).execute();
    await runUntilIdle(sc);
    const [row] = (await api(sc, 'get', `/api/v1/snapshots?serverId=${server}`)).body.items;
    const one = await api(sc, 'get', `/api/v1/snapshots/${row.id}`);
    expect(one.body.snapshot.retention).toEqual({ action: 'keep', reasons: ['kept: last #1', 'kept: newest good snapshot (minKeep 1)'] });
    const manual = await api(sc, 'post', `/api/v1/servers/${server}/snapshots`, {});
    expect((await api(sc, 'get', `/api/v1/snapshots/${manual.body.snapshot.id}`)).body.snapshot.retention).toBeNull();
  });
});
