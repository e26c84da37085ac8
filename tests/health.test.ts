import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import { computeAllHealth, healthPages } from '../sidecar/health/health.js';
import { timelineSvg } from '../sidecar/health/timeline-svg.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { advanceToNextSlot, api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

let t: TestDatabase;
let sc: Sidecar;
const clock = databaseClock();
let healthy: number;
let broken: number;
let stale: number;

/** Scheduled rows as the engine leaves them, `hoursAgo` each (relative to the last full hour). */
async function slots(serverId: number, scheduleId: number, list: Array<{ hoursAgo: number; status: 'available' | 'failed'; keepForever?: boolean }>) {
  const now = await clock.now(t.handle.db);
  const top = Math.floor(now.getTime() / 3600_000) * 3600_000;
  for (const s of list) {
    const at = new Date(top - s.hoursAgo * 3600_000);
    await t.handle.db.insertInto('ss_snapshots').values({
      server_id: serverId, schedule_id: scheduleId, slot_at: at, origin: 'scheduled', status: s.status, provider: 'sandbox', provider_type: 'sandbox',
      name: `ss-${serverId}-${s.hoursAgo}`, server_name: null, instance_id: 'i', keep_forever: s.keepForever ? 1 : 0,
      last_error: s.status === 'failed' ? 'The <sandbox> refused & said "no".' : null, attempts: 1, requested_by: 'scheduler',
      created_at: at, available_at: s.status === 'available' ? at : null, updated_at: at,
    }).execute();
  }
}

async function scheduleFor(serverId: number, body: Record<string, unknown> = {}) {
  const s = await api(sc, 'post', '/api/v1/schedules', { name: `S${serverId}`, intervalMinutes: 60, spreadMinutes: 0, retention: { keepLast: 5 }, ...body });
  await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, { scheduleIds: [s.body.schedule.id] });
  const now = await clock.now(t.handle.db);
  await t.handle.db.updateTable('ss_assignments').set({ created_at: new Date(now.getTime() - 30 * 86_400_000) }).where('server_id', '=', serverId).execute();
  return s.body.schedule.id as number;
}

beforeAll(async () => {
  t = await createTestDatabase();
  sc = await sidecarFor(t, { clock, env: { SS_ADMIN_URL: 'https://panel.example.com/wp-admin/' } });
  healthy = await addServer(t, { title: 'fine-1' });
  broken = await addServer(t, { title: 'broken-1' });
  stale = await addServer(t, { title: 'old-<1>' });
  await slots(healthy, await scheduleFor(healthy), [{ hoursAgo: 0, status: 'available' }, { hoursAgo: 1, status: 'available' }]);
  await slots(broken, await scheduleFor(broken), [{ hoursAgo: 0, status: 'failed' }, { hoursAgo: 1, status: 'failed' }, { hoursAgo: 2, status: 'failed' }, { hoursAgo: 3, status: 'available' }]);
  await slots(stale, await scheduleFor(stale, { warnAfterMinutes: 60, criticalAfterMinutes: 600 }), [{ hoursAgo: 48, status: 'available', keepForever: true }]);
});
afterAll(async () => { await sc.stop(0); await t.drop(); });

describe('schedule health limits', () => {
  test('when a schedule is saved with or without limits, then the API shows them and the defaults in effect', async () => {
    const c = await api(sc, 'post', '/api/v1/schedules', { name: 'Limits', intervalMinutes: 30, retention: { keepLast: 2 }, warnAfterMinutes: 90 });
    expect(c.status).toBe(201);
    expect(c.body.schedule).toMatchObject({ warnAfterMinutes: 90, criticalAfterMinutes: null, health: { warnAfterMinutes: 90, criticalAfterMinutes: 120, defaults: true } });
    const p = await api(sc, 'put', `/api/v1/schedules/${c.body.schedule.id}`, { name: 'Limits', intervalMinutes: 30, retention: { keepLast: 2 } });
    expect(p.body.schedule).toMatchObject({ warnAfterMinutes: null, criticalAfterMinutes: null, health: { warnAfterMinutes: 60, criticalAfterMinutes: 120 } });
    const g = await api(sc, 'get', `/api/v1/schedules/${c.body.schedule.id}`);
    expect(g.body.schedule.health.warnAfterMinutes).toBe(60);
  });

  test.each([
    [{ warnAfterMinutes: 0 }, 'warnAfterMinutes', /at least 1/],
    [{ warnAfterMinutes: 'soon' }, 'warnAfterMinutes', /./],
    [{ warnAfterMinutes: 120, criticalAfterMinutes: 60 }, 'criticalAfterMinutes', /at least warnAfterMinutes/],
  ])('when the limits are %j, then 400 names %s and nothing is saved', async (limits, field, why) => {
    const before = (await t.handle.db.selectFrom('ss_schedules').select('id').execute()).length;
    const r = await api(sc, 'post', '/api/v1/schedules', { name: 'Bad', intervalMinutes: 60, retention: { keepLast: 1 }, ...limits });
    expect(r.status).toBe(400);
    expect(r.body.error.details.fields[field]).toMatch(why);
    expect((await t.handle.db.selectFrom('ss_schedules').select('id').execute()).length).toBe(before);
  });
});

describe('health API', () => {
  test('when servers are fine, failing and stale, then GET /health counts them and lists the worst first with links', async () => {
    const r = await api(sc, 'get', '/api/v1/health');
    expect(r.status).toBe(200);
    expect(r.body.counts).toEqual({ ok: 1, warning: 0, failing: 1, critical: 1 });
    expect(r.body.worst.map((w: { serverId: number }) => w.serverId)).toEqual([stale, broken]);
    expect(r.body.worst[0]).toMatchObject({ serverName: 'old-<1>', state: 'critical', snapshotsUrl: `https://panel.example.com/wp-admin/admin.php?page=ss-snapshots&serverId=${stale}` });
    expect(r.body.worst[1].reason).toMatch(/last 3 attempts failed\. The <sandbox> refused/);
  });

  test('when health is judged a page of servers at a time, then each server comes once, whole, as in one pass', async () => {
    const now = await clock.now(t.handle.db);
    const whole = await computeAllHealth(t.handle.db, now, 3);
    const seen: number[] = [];
    let pages = 0;
    for await (const page of healthPages(t.handle.db, now, 3, { serversPerPage: 1, paceRatio: 0.5 })) {
      pages += 1;
      for (const [id, h] of page) { seen.push(id); expect(h).toEqual(whole.get(id)); }
    }
    expect(pages).toBe(whole.size);
    expect(seen).toEqual([...whole.keys()].sort((a, b) => a - b));
    expect(whole.get(broken)?.state).toBe('failing');
    expect(whole.get(stale)?.state).toBe('critical');
  });

  test('when one server is asked for, then its health per schedule comes back; an unknown server is a 404', async () => {
    const r = await api(sc, 'get', `/api/v1/servers/${broken}/health`);
    expect(r.body.health).toMatchObject({ serverId: broken, serverName: 'broken-1', state: 'failing', schedules: [{ state: 'failing', failuresInRow: 3, warnAfterMinutes: 120 }] });
    expect((await api(sc, 'get', '/api/v1/servers/999999/health')).status).toBe(404);
  });

  test('when the list is filtered by needsAttention, then only snapshots of servers that are not ok are listed', async () => {
    const r = await api(sc, 'get', '/api/v1/snapshots?needsAttention=1&limit=200');
    expect(r.status).toBe(200);
    const servers = new Set(r.body.items.map((i: { serverId: number }) => i.serverId));
    expect([...servers].sort()).toEqual([broken, stale].sort());
    expect((await api(sc, 'get', '/api/v1/snapshots?needsAttention=maybe')).status).toBe(400);
  });

  test('when a good snapshot arrives for the failing server, then it is ok again', async () => {
    const other = await addServer(t, { title: 'recovering' });
    const id = await scheduleFor(other, { warnAfterMinutes: 100_000 });
    await slots(other, id, [{ hoursAgo: 1, status: 'failed' }, { hoursAgo: 2, status: 'failed' }, { hoursAgo: 3, status: 'failed' }]);
    expect((await api(sc, 'get', `/api/v1/servers/${other}/health`)).body.health.state).toBe('failing');
    await t.handle.db.updateTable('ss_assignments').set({ next_slot_at: new Date((await clock.now(t.handle.db)).getTime() - 1) }).where('server_id', '=', other).execute();
    await runUntilIdle(sc);
    expect((await api(sc, 'get', `/api/v1/servers/${other}/health`)).body.health.state).toBe('ok');
  });

  test('when /metrics is scraped, then the last good snapshot per server and servers by state are there', async () => {
    const m = await request(sc.app).get('/metrics');
    expect(m.text).toMatch(new RegExp(`ss_server_last_good_snapshot_timestamp_seconds\\{server_id="${healthy}",state="ok"\\} \\d{10}`));
    expect(m.text).toMatch(/ss_servers_by_health\{state="critical"\} 1/);
    expect(m.text).toMatch(/ss_snapshot_failures\{provider="sandbox"\} \d+/);
  });
});

describe('timeline picture', () => {
  test('when a server has kept, protected, failed and pruned snapshots, then the SVG and its text equivalent show each kind', async () => {
    const id = await addServer(t, { title: 'pic & <svg>' });
    const sched = await scheduleFor(id, { retention: { keepLast: 1 } });
    await slots(id, sched, [{ hoursAgo: 30, status: 'available', keepForever: true }, { hoursAgo: 5, status: 'failed' }]);
    const now = await clock.now(t.handle.db);
    await t.handle.db.updateTable('ss_assignments').set({ next_slot_at: new Date(now.getTime() - 1) }).where('server_id', '=', id).execute();
    await runUntilIdle(sc);
    await advanceToNextSlot(clock, t.handle.db, 3600_000);
    await runUntilIdle(sc);
    const r = await api(sc, 'get', `/api/v1/servers/${id}/timeline?days=30`);
    expect(r.status).toBe(200);
    const kinds = r.body.items.map((i: { kind: string }) => i.kind);
    for (const k of ['protected', 'failed', 'kept', 'pruned']) expect(kinds).toContain(k);
    const pruned = r.body.items.find((i: { kind: string }) => i.kind === 'pruned');
    expect(pruned.label).toMatch(/pruned by retention: deleted: beyond keepLast 1/);
    expect(r.body.svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="ss-timeline-\d+-title ss-timeline-\d+-desc"/);
    expect(r.body.svg).toContain('<title id="ss-timeline-');
    expect(r.body.svg).toContain('pic &amp; &lt;svg&gt;');
    expect(r.body.svg).not.toContain('<svg>');
    expect(r.body.svg).toContain('The &lt;sandbox&gt; refused &amp; said &quot;no&quot;.');
    expect((await api(sc, 'get', `/api/v1/servers/${id}/timeline?days=7`)).status).toBe(400);
  });

  test('when there is nothing to draw, then the description says so', () => {
    const svg = timelineSvg({ serverName: 'x', now: new Date('2026-01-31T00:00:00Z'), days: 90, items: [] });
    expect(svg).toContain('<desc id="ss-timeline-desc">No snapshots in the last 90 days.</desc>');
  });
});
