import { createHmac } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock, type Clock } from '../sidecar/db.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { startSmtp, startWebhook } from './helpers/alerts.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { advance, advanceToNextSlot, api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

const HOOK_SECRET = 'hook-secret-0123456789';
let t: TestDatabase;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let hook: Awaited<ReturnType<typeof startWebhook>>;
const running: Sidecar[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  smtp = await startSmtp({ user: 'alerts', pass: 'smtp-pass-w0rd' });
  hook = await startWebhook();
});
afterEach(async () => {
  hook.state.mode = 'ok';
  hook.dropHeld();
  for (const s of running.splice(0)) await s.stop(0);
  smtp.messages.length = 0;
  hook.received.length = 0;
  await t.handle.db.deleteFrom('ss_alert_deliveries').execute();
  await t.handle.db.deleteFrom('ss_incidents').execute();
  await t.handle.db.deleteFrom('ss_alert_runs').execute();
  await t.handle.db.deleteFrom('ss_assignments').execute();
});
afterAll(async () => { await smtp.close(); await hook.close(); await t.drop(); });

function alertEnv(extra: Record<string, string> = {}) {
  return {
    SS_SMTP_URL: smtp.url, SS_ALERT_EMAIL_FROM: 'snapshots@example.com', SS_ALERT_EMAIL_TO: 'ops@example.com',
    SS_ALERT_WEBHOOK_URL: hook.url, SS_ALERT_WEBHOOK_SECRET: HOOK_SECRET, SS_ADMIN_URL: 'https://panel.example.com/wp-admin',
    SS_ALERT_CHECK_MS: '100', SS_ALERT_TIMEOUT_MS: '5000', ...extra,
  };
}

async function start(opts: Parameters<typeof sidecarFor>[1] = {}) {
  const sc = await sidecarFor(t, {
    providers: { sandbox: { type: 'sandbox', latencyMs: 0, failCreate: ['i-broken'] } },
    env: alertEnv(), alertOptions: { tickMs: 50, backoffBaseMs: 100, backoffMaxMs: 200 }, ...opts,
  });
  running.push(sc);
  return sc;
}

async function setInstance(serverId: number, instanceId: string) {
  const c = await createConnection({ uri: t.url });
  await c.query(`UPDATE ${t.prefix}postmeta SET meta_value = ? WHERE post_id = ? AND meta_key = 'wpcd_server_provider_instance_id'`, [instanceId, serverId]);
  await c.end();
}

/** A schedule (hourly, failing after 3; staleness limits far away unless given) assigned to a server. */
async function assign(sc: Sidecar, serverId: number, extra: Record<string, unknown> = {}) {
  const s = await api(sc, 'post', '/api/v1/schedules', { name: `Hourly ${serverId}`, intervalMinutes: 60, retention: { keepLast: 5 }, warnAfterMinutes: 6000, ...extra });
  expect(s.status).toBe(201);
  await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, { scheduleIds: [s.body.schedule.id] });
  return s.body.schedule.id as number;
}

/** Failed scheduled attempts in the last hours, as the engine leaves them. */
async function failedSlots(clock: Clock, serverId: number, scheduleId: number, n: number) {
  const now = await clock.now(t.handle.db);
  const top = Math.floor(now.getTime() / 3600_000) * 3600_000;
  await t.handle.db.updateTable('ss_assignments').set({ created_at: new Date(top - (n + 1) * 3600_000) }).where('server_id', '=', serverId).execute();
  for (let i = 0; i < n; i++) {
    const at = new Date(top - i * 3600_000);
    await t.handle.db.insertInto('ss_snapshots').values({
      server_id: serverId, schedule_id: scheduleId, slot_at: at, origin: 'scheduled', status: 'failed', provider: 'sandbox', provider_type: 'sandbox',
      name: `ss-x-${serverId}-${i}`, server_name: 'x', instance_id: 'i-broken', keep_forever: 0, last_error: 'The sandbox provider refused (an injected failure).',
      attempts: 1, requested_by: 'scheduler', created_at: at, updated_at: at,
    }).execute();
  }
}

const sign = (body: string) => createHmac('sha256', HOOK_SECRET).update(body).digest('hex');

describe('alerts through the engine', () => {
  test('when the provider fails three slots in a row and then works again, then exactly one alert and one recovery arrive by mail and webhook', async () => {
    const clock = databaseClock();
    const sc = await start({ clock });
    const serverId = await addServer(t, { title: 'web-1', instanceId: 'i-broken' });
    const scheduleId = await assign(sc, serverId);
    const step = async () => {
      await advanceToNextSlot(clock, t.handle.db, 3600_000);
      await runUntilIdle(sc);
      await sc.alerts.evaluate({ force: true });
      while (await sc.alerts.deliver() > 0) { /* send everything due */ }
    };
    for (let i = 0; i < 2; i++) await step();
    expect(hook.received).toHaveLength(0);
    await step(); // third failure in a row: failing
    await step(); // a fourth failure changes nothing
    expect(hook.received).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);

    const alert = hook.received[0]!;
    expect(alert.json).toMatchObject({ event: 'server.health', serverId, serverName: 'web-1', state: 'failing', scheduleId, scheduleName: `Hourly ${serverId}` });
    expect(alert.headers['x-ss-signature']).toBe(sign(alert.body));
    expect(String(alert.json.reason)).toMatch(/last 3 attempts failed.*injected failure/);
    expect(String(alert.json.text)).toContain(`https://panel.example.com/wp-admin/admin.php?page=ss-snapshots&serverId=${serverId}`);
    const mail = smtp.messages[0]!;
    expect(mail.to).toEqual(['ops@example.com']);
    expect(mail.subject).toMatch(/web-1 is failing/);
    expect(mail.raw).toContain(`Incident ${alert.json.incidentId}`);

    await setInstance(serverId, 'i-fixed');
    await step();
    expect(hook.received).toHaveLength(2);
    expect(smtp.messages).toHaveLength(2);
    expect(hook.received[1]!.json).toMatchObject({ state: 'ok', incidentId: alert.json.incidentId, serverName: 'web-1' });
    expect(smtp.messages[1]!.subject).toMatch(/web-1 has recovered/);
    await step();
    expect(hook.received).toHaveLength(2);
    const list = await api(sc, 'get', '/api/v1/alerts/incidents');
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ serverId, state: 'failing', open: false });
  });
});

describe('several sidecars', () => {
  test('when two sidecars evaluate and send at the same time, then each channel gets the alert once', async () => {
    const clock = databaseClock();
    const a = await start({ clock });
    const b = await start({ clock, env: { ...alertEnv(), SS_INSTANCE_ID: 'second' } });
    const serverId = await addServer(t, { title: 'db-1', instanceId: 'i-broken' });
    const scheduleId = await assign(a, serverId);
    await failedSlots(clock, serverId, scheduleId, 3);
    for (let i = 0; i < 5; i++) {
      await Promise.all([a.alerts.evaluate({ force: true }), b.alerts.evaluate({ force: true })]);
      await Promise.all([a.alerts.deliver(), b.alerts.deliver(), a.alerts.deliver(), b.alerts.deliver()]);
    }
    expect(hook.received).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    const rows = await t.handle.db.selectFrom('ss_alert_deliveries').selectAll().execute();
    expect(rows.map((r) => `${r.channel}:${r.status}`).sort()).toEqual(['email:sent', 'webhook:sent']);
  });

  test('when the sidecar sending a message dies mid-send, then another sends it after the lease, with the same incident id', async () => {
    const clock = databaseClock();
    const a = await start({ clock, env: alertEnv({ SS_SMTP_URL: '', SS_ALERT_EMAIL_TO: '', SS_ALERT_TIMEOUT_MS: '60000' }), alertOptions: { leaseMs: 2000 } });
    const b = await start({ clock, env: alertEnv({ SS_SMTP_URL: '', SS_ALERT_EMAIL_TO: '', SS_INSTANCE_ID: 'second' }), alertOptions: { leaseMs: 2000 } });
    const serverId = await addServer(t, { title: 'mail-1', instanceId: 'i-broken' });
    const scheduleId = await assign(a, serverId);
    await failedSlots(clock, serverId, scheduleId, 3);
    await a.alerts.evaluate({ force: true });
    hook.state.mode = 'hang';
    const stuck = a.alerts.deliver();
    await hook.waitFor(1);
    // Sidecar a is "dead" from here on: its request never completes. Within the lease nobody else sends.
    hook.state.mode = 'ok';
    expect(await b.alerts.deliver()).toBe(0);
    advance(clock, 2500);
    expect(await b.alerts.deliver()).toBe(1);
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]!.body).toBe(hook.received[0]!.body);
    expect(hook.received[1]!.json.incidentId).toBe(hook.received[0]!.json.incidentId);
    hook.dropHeld();
    await stuck;
    const row = await t.handle.db.selectFrom('ss_alert_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

describe('a slow or failing channel', () => {
  test('when the webhook hangs, then snapshots are still taken at once and the mail goes out', async () => {
    const clock = databaseClock();
    const sc = await start({ clock, startEngine: true, startAlerts: true, env: alertEnv({ SS_ALERT_TIMEOUT_MS: '60000' }) });
    const broken = await addServer(t, { title: 'slow-1', instanceId: 'i-broken' });
    const healthy = await addServer(t, { title: 'fine-1' });
    const scheduleId = await assign(sc, broken);
    hook.state.mode = 'hang';
    await failedSlots(clock, broken, scheduleId, 3);
    await hook.waitFor(1);
    await smtp.waitFor(1);
    const started = Date.now();
    const settled = new Promise<number>((resolve) => sc.engine.on('settled', (e: { id: number }) => resolve(e.id)));
    const r = await api(sc, 'post', `/api/v1/servers/${healthy}/snapshots`, {});
    expect(r.status).toBe(202);
    const settledId = await settled;
    const snap = await t.handle.db.selectFrom('ss_snapshots').select('status').where('id', '=', settledId).executeTakeFirstOrThrow();
    expect(snap.status).toBe('available');
    expect(Date.now() - started).toBeLessThan(3000);
    const pending = await t.handle.db.selectFrom('ss_alert_deliveries').select(['channel', 'status']).where('channel', '=', 'webhook').executeTakeFirstOrThrow();
    expect(pending.status).toBe('pending'); // still in flight at the hanging webhook
  });

  test('when the webhook answers 500, then the message is retried with backoff until it is accepted', async () => {
    const clock = databaseClock();
    const sc = await start({ clock, env: alertEnv({ SS_SMTP_URL: '', SS_ALERT_EMAIL_TO: '' }) });
    const serverId = await addServer(t, { title: 'retry-1', instanceId: 'i-broken' });
    await failedSlots(clock, serverId, await assign(sc, serverId), 3);
    await sc.alerts.evaluate({ force: true });
    hook.state.mode = 'fail';
    expect(await sc.alerts.deliver()).toBe(1);
    const row = await t.handle.db.selectFrom('ss_alert_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');
    expect(row.last_error).toMatch(/answered HTTP 500; expected 2xx/);
    hook.state.mode = 'ok';
    advance(clock, 1000);
    expect(await sc.alerts.deliver()).toBe(1);
    expect(hook.received).toHaveLength(2);
    const after = await t.handle.db.selectFrom('ss_alert_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(after.status).toBe('sent');
  });
});

describe('daily digest', () => {
  test('when incidents are open after the digest time, then one digest a day lists them', async () => {
    const clock = databaseClock();
    const sc = await start({ clock, env: alertEnv({ SS_ALERT_DIGEST: '00:00', SS_SMTP_URL: '', SS_ALERT_EMAIL_TO: '' }) });
    const serverId = await addServer(t, { title: 'digest-1', instanceId: 'i-broken' });
    await failedSlots(clock, serverId, await assign(sc, serverId), 3);
    await sc.alerts.evaluate({ force: true });
    expect(await sc.alerts.queueDigest()).toBe(true);
    expect(await sc.alerts.queueDigest()).toBe(true); // queued again the same day: deduplicated
    while (await sc.alerts.deliver() > 0) { /* send */ }
    const digests = hook.received.filter((h) => h.json.event === 'health.digest');
    expect(digests).toHaveLength(1);
    expect(String(digests[0]!.json.text)).toMatch(/1 server still needs attention: digest-1 \(failing\)/);
    advance(clock, 86_400_000);
    await sc.alerts.queueDigest();
    while (await sc.alerts.deliver() > 0) { /* send */ }
    expect(hook.received.filter((h) => h.json.event === 'health.digest')).toHaveLength(2);
  });
});

describe('channels in the API', () => {
  test('when channels are listed and tested, then no secret is shown and each channel reports its own outcome', async () => {
    const sc = await start();
    const ch = await api(sc, 'get', '/api/v1/alerts/channels');
    expect(ch.status).toBe(200);
    expect(ch.body.channels).toEqual([
      { channel: 'email', server: `smtp://127.0.0.1:${smtp.url.split(':').pop()}`, from: 'snapshots@example.com', to: ['ops@example.com'] },
      { channel: 'webhook', target: `http://${new URL(hook.url).host}`, signed: true },
    ]);
    const text = JSON.stringify(ch.body);
    for (const secret of ['smtp-pass-w0rd', HOOK_SECRET, 'secret-token-path']) expect(text).not.toContain(secret);

    const ok = await api(sc, 'post', '/api/v1/alerts/test');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, results: [{ channel: 'email', ok: true }, { channel: 'webhook', ok: true }] });
    await smtp.waitFor(1);
    expect(hook.received[0]!.json.event).toBe('alerts.test');

    hook.state.mode = 'fail';
    const bad = await api(sc, 'post', '/api/v1/alerts/test');
    expect(bad.body).toMatchObject({ ok: false, results: [{ channel: 'email', ok: true }, { channel: 'webhook', ok: false }] });
    expect(bad.body.results[1].message).toMatch(/HTTP 500/);
    expect(JSON.stringify(bad.body)).not.toContain('secret-token-path');
  });

  test('when the SMTP password is wrong, then the test says the mail server refused, without the password', async () => {
    const sc = await start({ env: alertEnv({ SS_SMTP_URL: smtp.url.replace('smtp-pass-w0rd', 'wrong-pass-123'), SS_ALERT_WEBHOOK_URL: '', SS_ALERT_WEBHOOK_SECRET: '' }) });
    const r = await api(sc, 'post', '/api/v1/alerts/test');
    expect(r.body.ok).toBe(false);
    expect(r.body.results[0].message).toMatch(/mail server refused/);
    expect(JSON.stringify(r.body)).not.toContain('wrong-pass-123');
  });

  test('when no channel is configured, then the test answers 409 saying what to set', async () => {
    const sc = await start({ env: { SS_ALERT_CHECK_MS: '100' } });
    const r = await api(sc, 'post', '/api/v1/alerts/test');
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/SS_SMTP_URL/);
  });
});
