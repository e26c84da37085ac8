import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import { assignmentHealth } from '../sidecar/health/state.js';
import { healthReason } from '../sidecar/http/ui/health-words.js';
import { translatorFor } from '../sidecar/http/ui/i18n.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

/**
 * Health on the wp-admin screens (issue 11): the "Needs attention" view, the health line and
 * the timeline picture in the server box and on the list filtered to one server, the critical
 * notice on our screens and the host's server list, and the dashboard widget.
 */
let t: TestDatabase;
let sc: Sidecar;
let healthy: number;
let broken: number;
let idle: number;
const clock = databaseClock();
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>';

const baseCtx = {
  locale: 'en_US', timezone: 'UTC', dateFormat: 'Y-m-d', timeFormat: 'H:i', perPage: 20, hidden: [] as string[],
  nonces: {}, args: {} as Record<string, string>,
  urls: {
    schedules: 'http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-schedules',
    snapshots: 'http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-snapshots',
    settings: 'http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-settings',
    adminPost: 'http://wp.test/wp-admin/admin-post.php',
  },
  user: { id: 1, name: 'Ada Admin' },
};

function render(screen: string, ctx: Record<string, unknown> = {}) {
  return api(sc, 'get', `/ui/v1/${screen}?ctx=${encodeURIComponent(JSON.stringify({ ...baseCtx, ...ctx }))}`);
}

function noLiveMarkup(html: string) {
  expect(html).not.toContain('<script>');
  expect(html).not.toContain('<img src=x');
}

const rows = (html: string) => [...html.matchAll(/<tr id="ss-snapshot-(\d+)"/g)].map((m) => Number(m[1]));

beforeAll(async () => {
  t = await createTestDatabase();
  sc = await sidecarFor(t, { clock, providers: { sandbox: { type: 'sandbox', latencyMs: 0, failCreate: ['i-broken'] } } });
  healthy = await addServer(t, { title: 'web-1' });
  broken = await addServer(t, { title: HOSTILE, instanceId: 'i-broken' });
  idle = await addServer(t, { title: 'idle-1' });
  const s = await api(sc, 'post', '/api/v1/schedules', { name: `Hourly ${HOSTILE}`, intervalMinutes: 60, retention: { keepLast: 3 }, warnAfterMinutes: 60, criticalAfterMinutes: 120 });
  const scheduleId = s.body.schedule.id as number;
  for (const id of [healthy, broken]) await api(sc, 'put', `/api/v1/servers/${id}/schedules`, { scheduleIds: [scheduleId] });
  // The broken server was assigned five hours ago and every hourly attempt since failed.
  const now = await clock.now(t.handle.db);
  const top = Math.floor(now.getTime() / 3600_000) * 3600_000;
  await t.handle.db.updateTable('ss_assignments').set({ created_at: new Date(top - 5 * 3600_000) }).where('server_id', '=', broken).execute();
  for (let i = 0; i < 4; i++) {
    const at = new Date(top - i * 3600_000);
    await t.handle.db.insertInto('ss_snapshots').values({
      server_id: broken, schedule_id: scheduleId, slot_at: at, origin: 'scheduled', status: 'failed', provider: 'sandbox', provider_type: 'sandbox',
      name: `ss-x-${i}`, server_name: HOSTILE, instance_id: 'i-broken', keep_forever: 0, last_error: `The provider refused ${HOSTILE}.`,
      attempts: 1, requested_by: 'scheduler', created_at: at, updated_at: at,
    }).execute();
  }
  // The healthy one has a good snapshot just now, taken by hand (counts for the timeline).
  await api(sc, 'post', `/api/v1/servers/${healthy}/snapshots`, {});
  await runUntilIdle(sc);
  await t.handle.db.updateTable('ss_snapshots').set({ schedule_id: scheduleId, slot_at: new Date(top), origin: 'scheduled' }).where('server_id', '=', healthy).execute();
  await sc.alerts.evaluate({ force: true });
});
afterAll(async () => { await sc.stop(0); await t.drop(); });

describe('Snapshots list: Needs attention', () => {
  test('when one server is critical, then the view link counts it and lists only its snapshots', async () => {
    const all = await render('snapshots');
    expect(all.text).toMatch(/id="ss-view-needs-attention"[^>]*>Needs attention <span class="count">\(1\)<\/span>/);
    expect(all.text).toMatch(/<li class="all"><a href="[^"]+" class="current" aria-current="page">All<\/a>/);
    expect(rows(all.text).length).toBe(5);
    const attention = await render('snapshots', { args: { needsAttention: '1' } });
    expect(attention.text).toMatch(/id="ss-view-needs-attention" href="[^"]+" class="current" aria-current="page"/);
    expect(rows(attention.text)).toHaveLength(4);
    for (const row of attention.text.match(/<tr id="ss-snapshot-[\s\S]*?<\/tr>/g) ?? []) expect(row).not.toContain('web-1');
    expect(attention.text).toContain('<input type="hidden" name="needsAttention" value="1" />');
    noLiveMarkup(attention.text);
  });

  test('when a server manager may see only the healthy server, then the view link counts none of the others', async () => {
    const mine = await render('snapshots', { servers: [healthy] });
    expect(mine.text).toMatch(/id="ss-view-needs-attention"[^>]*>Needs attention <span class="count">\(0\)<\/span>/);
    const both = await render('snapshots', { servers: [healthy, broken] });
    expect(both.text).toMatch(/id="ss-view-needs-attention"[^>]*>Needs attention <span class="count">\(1\)<\/span>/);
  });
});

describe('server box', () => {
  test('when the server is critical, then the box says so in words, with since when, the schedule and the reason, all as text', async () => {
    const res = await render('server-box', { serverId: broken });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/id="ss-server-health" data-state="critical"><strong>Health: Critical<\/strong> — since \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(res.text).toContain('schedule “Hourly &lt;script&gt;');
    expect(res.text).toContain('<span class="ss-health-reason">There is no good snapshot yet, older than 2 hours (critical). The provider refused &lt;script&gt;');
    noLiveMarkup(res.text);
  });

  test('when the server has snapshots, then the picture shows one mark per snapshot with a text equivalent, and 90 days on request', async () => {
    const res = await render('server-box', { serverId: broken });
    const svg = /<svg[\s\S]*?<\/svg>/.exec(res.text)![0];
    expect(svg).toContain('role="img"');
    expect(svg).toMatch(new RegExp(`aria-labelledby="ss-timeline-${broken}-title ss-timeline-${broken}-desc"`));
    expect(svg.match(/class="ss-mark ss-mark-failed"/g)).toHaveLength(4);
    expect(svg).toContain('<desc id="ss-timeline-' + broken + '-desc">4 snapshots in the last 30 days: 4 failed.</desc>');
    const text = /<details class="ss-timeline-text"[\s\S]*?<\/details>/.exec(res.text)![0];
    expect(text.match(/<li class="ss-timeline-item ss-timeline-failed">/g)).toHaveLength(4);
    expect(text).toContain('failed: The provider refused &lt;script&gt;');
    noLiveMarkup(res.text);
    expect(res.text).toMatch(/href="[^"]*ss_days=90[^"]*">90 days<\/a>/);
    const ninety = await render('server-box', { serverId: broken, args: { ss_days: '90' } });
    expect(ninety.text).toContain('data-days="90"');
    expect(ninety.text).toContain('last 90 days');
  });

  test('when the box is drawn in the side column, then its picture is the narrow one: larger words in its own units, dates only at its ends', async () => {
    const labels = (svg: string) => [...svg.matchAll(/<text x="[\d.]+" y="\d+" text-anchor="(\w+)" fill="#50575e">([^<]+)<\/text>/g)].map((m) => [m[1], m[2]]);
    for (const days of ['30', '90']) {
      const svg = /<svg[\s\S]*?<\/svg>/.exec((await render('server-box', { serverId: broken, args: { ss_days: days } })).text)![0];
      expect(svg).toMatch(/class="ss-timeline ss-timeline-narrow" viewBox="0 0 320 \d+"[^>]* font-size="13"/);
      // The oldest day on the left, today on the right, each kept inside the picture, short ("Nov 30").
      expect(labels(svg).map(([anchor]) => anchor)).toEqual(['end', 'start']);
      for (const [, text] of labels(svg)) expect(text).toMatch(/^[A-Z][a-z]{2} \d{1,2}$/);
    }
    const german = /<svg[\s\S]*?<\/svg>/.exec((await render('server-box', { serverId: broken, locale: 'de_DE' })).text)![0];
    for (const [, text] of labels(german)) expect(text).toMatch(/^\d{1,2}\. (Jan|Feb|März|Apr|Mai|Juni|Juli|Aug|Sep|Okt|Nov|Dez)\.?$/);
    // Above the list, full width: the wide picture with a date every week.
    const wide = /<svg[\s\S]*?<\/svg>/.exec((await render('snapshots', { args: { serverId: String(broken) } })).text)![0];
    expect(wide).toMatch(/class="ss-timeline" viewBox="0 0 720 \d+"[^>]* font-size="11"/);
    expect(labels(wide).length).toBeGreaterThanOrEqual(4);
    expect(new Set(labels(wide).map(([anchor]) => anchor))).toEqual(new Set(['middle']));
  });

  test('when a server has no schedule and no snapshots, then the box says nothing is expected and the picture is empty', async () => {
    const res = await render('server-box', { serverId: idle });
    expect(res.text).toContain('Health: no schedule is assigned, so nothing is expected.');
    expect(res.text).toContain('No snapshots in the last 30 days.');
    expect(res.text).not.toContain('class="ss-mark');
  });

  test('when the user reads German, then the health line, the picture and its text are German', async () => {
    const res = await render('server-box', { serverId: broken, locale: 'de_DE' });
    expect(res.text).toContain('Zustand: Kritisch');
    // Why, in German; the provider's own words stay as the provider wrote them (as text).
    expect(res.text).toContain('<span class="ss-health-reason">Es gibt noch keinen guten Snapshot, älter als 2 Stunden (kritisch). The provider refused &lt;script&gt;');
    expect(res.text).not.toContain('There is no good snapshot yet');
    expect(res.text).toContain('4 Snapshots in den letzten 30 Tagen: 4 fehlgeschlagen.');
    expect(res.text).toContain('>Behalten<');
    expect(res.text).not.toContain('>Problems<');
  });
});

describe('Snapshots list filtered to one server', () => {
  test('when filtered to a server, then the same picture stands above the table; unfiltered, none', async () => {
    const res = await render('snapshots', { args: { serverId: String(healthy) } });
    expect(res.text).toContain(`id="ss-timeline-${healthy}"`);
    expect(res.text.indexOf('ss-timeline-box')).toBeLessThan(res.text.indexOf('wp-list-table'));
    expect(res.text.match(/class="ss-mark ss-mark-kept"/g)).toHaveLength(1);
    expect((await render('snapshots')).text).not.toContain('ss-timeline-box');
  });
});

describe('critical notice', () => {
  test('when a server is critical, then our screens and the host list notice name it as text and link to what needs attention', async () => {
    for (const screen of ['snapshots', 'schedules', 'settings', 'notice']) {
      const res = await render(screen);
      expect(res.text, screen).toContain('id="ss-critical-notice"');
      expect(res.text, screen).toContain('1 server has no recent good snapshot (critical):</strong> &lt;script&gt;');
      expect(res.text, screen).toMatch(/href="[^"]*needsAttention=1" id="ss-critical-notice-link"/);
      noLiveMarkup(res.text);
    }
    expect((await render('server-box', { serverId: healthy })).text).not.toContain('ss-critical-notice');
  });

  test('when nothing is critical, then the host list gets an empty answer and no screen shows the notice', async () => {
    const open = await t.handle.db.selectFrom('ss_incidents').select(['id', 'state']).where('open_server_id', 'is not', null).execute();
    await t.handle.db.updateTable('ss_incidents').set({ state: 'warning' }).execute();
    try {
      expect((await render('notice')).text.trim()).toBe('');
      expect((await render('snapshots')).text).not.toContain('ss-critical-notice');
    } finally {
      for (const o of open) await t.handle.db.updateTable('ss_incidents').set({ state: o.state }).where('id', '=', o.id).execute();
    }
  });

  test('when the user reads German, then the notice is German', async () => {
    const res = await render('notice', { locale: 'de_DE' });
    expect(res.text).toContain('1 Server hat keinen aktuellen guten Snapshot (kritisch):');
  });
});

describe('dashboard widget', () => {
  test('when one server is critical and one ok, then the widget counts them and links the worst to its snapshots', async () => {
    const res = await render('dashboard');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/data-state="critical"><a href="[^"]*needsAttention=1">1 server Critical<\/a>/);
    expect(res.text).toMatch(/data-state="ok">1 server OK</);
    const worst = /<ul class="ss-dashboard-worst"[\s\S]*?<\/ul>/.exec(res.text)![0];
    expect(worst).toContain(`href="http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&amp;page=ss-snapshots&amp;serverId=${broken}"`);
    expect(worst).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    noLiveMarkup(res.text);
    const de = await render('dashboard', { locale: 'de_DE' });
    expect(de.text).toContain('1 Server Kritisch');
    expect(de.text).toContain('Es gibt noch keinen guten Snapshot, älter als 2 Stunden (kritisch).');
    expect(de.text).toContain('Braucht Aufmerksamkeit');
  });

  test('when no server has a schedule, then the widget says so and offers to add one', async () => {
    const assignments = await t.handle.db.selectFrom('ss_assignments').selectAll().execute();
    await t.handle.db.deleteFrom('ss_assignments').execute();
    try {
      const res = await render('dashboard');
      expect(res.text).toContain('No server has a snapshot schedule yet.');
      expect(res.text).not.toContain('ss-dashboard-worst');
    } finally {
      await t.handle.db.insertInto('ss_assignments').values(assignments).execute();
    }
  });
});

describe('schedule form: health limits', () => {
  const values = { name: 'Limits', timezone: 'UTC', frequency: 'interval', intervalMinutes: '60', retention: { keepLast: '2' }, enabled: '1' };

  test('when the limits are left empty, then the boxes show the defaults for the frequency as placeholders', async () => {
    const res = await render('schedule-form', { args: { view: 'new' } });
    expect(res.text).toMatch(/id="ss-schedule-warnAfterMinutes" name="ss_schedule\[warnAfterMinutes\]" value="" placeholder="2880"/);
    expect(res.text).toMatch(/id="ss-schedule-criticalAfterMinutes" name="ss_schedule\[criticalAfterMinutes\]" value="" placeholder="5760"/);
    const de = await render('schedule-form', { args: { view: 'new' }, locale: 'de_DE' });
    expect(de.text).toContain('Warnen nach');
  });

  test('when "warn after" and "critical after" are typed, then they are saved with the schedule and shown again on edit', async () => {
    const save = await api(sc, 'post', '/ui/v1/forms/schedule', { ctx: baseCtx, schedule: 'new', values: { ...values, warnAfterMinutes: '90', criticalAfterMinutes: '300' } });
    expect(save.body.errors ?? {}).toEqual({});
    expect(save.body).toMatchObject({ saved: true });
    const got = await api(sc, 'get', `/api/v1/schedules/${save.body.id}`);
    expect(got.body.schedule).toMatchObject({ warnAfterMinutes: 90, criticalAfterMinutes: 300 });
    const edit = await render('schedule-form', { args: { view: 'edit', schedule: String(save.body.id) } });
    expect(edit.text).toMatch(/name="ss_schedule\[warnAfterMinutes\]" value="90"/);
    // Emptied again: back to the defaults.
    await api(sc, 'post', '/ui/v1/forms/schedule', { ctx: baseCtx, schedule: String(save.body.id), values });
    expect((await api(sc, 'get', `/api/v1/schedules/${save.body.id}`)).body.schedule).toMatchObject({ warnAfterMinutes: null, criticalAfterMinutes: null });
    await api(sc, 'delete', `/api/v1/schedules/${save.body.id}`);
  });

  test('when "critical after" is below "warn after" or not a number, then nothing is saved and the box says why', async () => {
    const below = await api(sc, 'post', '/ui/v1/forms/schedule', { ctx: baseCtx, schedule: 'new', values: { ...values, warnAfterMinutes: '300', criticalAfterMinutes: '90' } });
    expect(below.body.saved).toBe(false);
    expect(below.body.errors.criticalAfterMinutes).toContain('must be at least');
    const text = await api(sc, 'post', '/ui/v1/forms/schedule', { ctx: baseCtx, schedule: 'new', values: { ...values, warnAfterMinutes: 'soon' } });
    expect(text.body.errors.warnAfterMinutes).toContain('whole number of minutes');
    const res = await render('schedule-form', { args: { view: 'new' }, form: { values: below.body.values, errors: below.body.errors } });
    expect(res.text).toContain('id="ss-error-criticalAfterMinutes"');
    expect(res.text).toMatch(/name="ss_schedule\[criticalAfterMinutes\]" value="90"/);
  });
});

describe('Settings: alert channels', () => {
  test('when no channel is configured, then Settings says how to set one up and the test button is disabled', async () => {
    const res = await render('settings');
    expect(res.text).toContain('id="ss-alert-channels-none"');
    expect(res.text).toMatch(/id="ss-test-alerts" value="Send test message" disabled="disabled"/);
  });

  test('when email and a webhook are configured, then Settings lists both without a secret and offers the test button with its nonce', async () => {
    const other = await sidecarFor(t, {
      clock, startAlerts: false,
      env: {
        SS_SMTP_URL: 'smtp://alerts:smtp-pass-w0rd@127.0.0.1:2525', SS_ALERT_EMAIL_FROM: 'snapshots@example.com', SS_ALERT_EMAIL_TO: 'ops@example.com',
        SS_ALERT_WEBHOOK_URL: 'https://hooks.example.com/T000/secret-path', SS_ALERT_WEBHOOK_SECRET: 'hook-secret-0123456789',
      },
    });
    try {
      const q = encodeURIComponent(JSON.stringify({ ...baseCtx, nonces: { ss_test_alerts: 'n-test' } }));
      const res = await api(other, 'get', `/ui/v1/settings?ctx=${q}`);
      const list = /<ul class="ss-alert-channels"[\s\S]*?<\/ul>/.exec(res.text)![0];
      expect(list).toContain('Email from snapshots@example.com to ops@example.com through smtp://127.0.0.1:2525');
      expect(list).toContain('Webhook to https://hooks.example.com, signed (X-SS-Signature)');
      for (const secret of ['smtp-pass-w0rd', 'hook-secret-0123456789', 'secret-path']) expect(res.text).not.toContain(secret);
      expect(res.text).toContain('<input type="hidden" name="action" value="ss_test_alerts" />');
      expect(res.text).toContain('<input type="hidden" name="_wpnonce" value="n-test" />');
      expect(res.text).not.toMatch(/id="ss-test-alerts"[^>]*disabled/);
    } finally {
      await other.stop(0);
    }
  });

  test('when the test message went out or failed, then the notice says so with what each channel answered, in German too', async () => {
    const sent = await render('settings', { notice: { code: 'alerts-test-sent', count: 0, detail: 'The mail server accepted the test message.' } });
    expect(sent.text).toContain('The test message was sent to every alert channel. The mail server accepted the test message.');
    const failed = await render('settings', { locale: 'de_DE', notice: { code: 'alerts-test-failed', count: 0, detail: `Webhook refused ${HOSTILE}` } });
    expect(failed.text).toContain('notice-error');
    expect(failed.text).toContain('Die Testnachricht hat nicht jeden Benachrichtigungskanal erreicht.');
    noLiveMarkup(failed.text);
  });
});

describe('Needs attention: what the alert worker found, or judged now', () => {
  const count = (html: string) => Number(/id="ss-view-needs-attention"[^>]*>Needs attention <span class="count">\((\d+)\)/.exec(html)?.[1]);

  test('when a sidecar judged health moments ago, then the count and the view are the servers it found not ok', async () => {
    await sc.alerts.evaluate({ force: true });
    const open = await t.handle.db.selectFrom('ss_incidents').select('server_id').where('open_server_id', 'is not', null).execute();
    expect(open.map((o) => Number(o.server_id))).toEqual([broken]);
    expect(count((await render('snapshots')).text)).toBe(1);
    const view = await render('snapshots', { args: { needsAttention: '1' } });
    expect(rows(view.text)).toHaveLength(4);
  });

  test('when no sidecar has judged health for longer than two check periods, then the screen judges it itself', async () => {
    const now = await clock.now(t.handle.db);
    await t.handle.db.updateTable('ss_alert_runs').set({ last_run_at: new Date(now.getTime() - 3 * 3600_000) }).where('name', '=', 'evaluate').execute();
    // The stale record says nobody needs attention; the screen must not believe it.
    await t.handle.db.updateTable('ss_incidents').set({ open_server_id: null }).where('open_server_id', 'is not', null).execute();
    expect(count((await render('snapshots')).text)).toBe(1);
    const view = await render('snapshots', { args: { needsAttention: '1' } });
    expect(rows(view.text)).toHaveLength(4);
    for (const row of view.text.match(/<tr id="ss-snapshot-[\s\S]*?<\/tr>/g) ?? []) expect(row).not.toContain('web-1');
  });
});

describe('health on every screen while the alert worker is part-way through a pass', () => {
  const count = (html: string) => Number(/id="ss-view-needs-attention"[^>]*>Needs attention <span class="count">\((\d+)\)/.exec(html)?.[1]);

  /** A pass under way: its lease held, the last finished pass hours ago (a slow pass over a large fleet, or the first one). */
  async function passUnderWay<T>(use: () => Promise<T>): Promise<T> {
    const now = await clock.now(t.handle.db);
    await t.handle.db.updateTable('ss_alert_runs').set({ last_run_at: new Date(now.getTime() - 3 * 3600_000), lease_until: new Date(now.getTime() + 60_000), lease_owner: 'another-sidecar' })
      .where('name', '=', 'evaluate').execute();
    try {
      return await use();
    } finally {
      await t.handle.db.updateTable('ss_alert_runs').set({ lease_until: now, lease_owner: null }).where('name', '=', 'evaluate').execute();
      await sc.alerts.evaluate({ force: true });
    }
  }

  test('when a pass is under way, then the list counts and shows the incidents it keeps instead of judging every server for each screen', async () => {
    await sc.alerts.evaluate({ force: true });
    await passUnderWay(async () => {
      // What the pass has found so far says nobody needs attention; judged live it would be 1.
      await t.handle.db.updateTable('ss_incidents').set({ open_server_id: null }).where('open_server_id', 'is not', null).execute();
      expect(count((await render('snapshots')).text)).toBe(0);
      expect(rows((await render('snapshots', { args: { needsAttention: '1' } })).text)).toEqual([]);
    });
    // The pass finished: the broken server is found again.
    expect(count((await render('snapshots')).text)).toBe(1);
  });

  test('when the worker has judged, then the dashboard counts its incidents and judges only the worst few again, dropping one fixed since', async () => {
    await sc.alerts.evaluate({ force: true });
    await passUnderWay(async () => {
      // An incident the worker opened earlier for web-1, which has a good snapshot now.
      const now = await clock.now(t.handle.db);
      await t.handle.db.insertInto('ss_incidents').values({
        server_id: healthy, open_server_id: healthy, schedule_id: null, state: 'warning', server_name: 'web-1', schedule_name: null,
        reason: 'old news', started_at: new Date(now.getTime() - 600_000), resolved_at: null,
      }).execute();
      const res = await render('dashboard');
      expect(res.text).toMatch(/data-state="critical"><a href="[^"]*needsAttention=1">1 server Critical<\/a>/);
      expect(res.text).toMatch(/data-state="warning"><a href="[^"]*needsAttention=1">1 server Warning<\/a>/);
      expect(res.text).toMatch(/data-state="ok">0 servers OK</);
      const worst = /<ul class="ss-dashboard-worst"[\s\S]*?<\/ul>/.exec(res.text)![0];
      expect(worst).toContain(`data-server-id="${broken}"`);
      expect(worst).not.toContain(`data-server-id="${healthy}"`);
      expect(worst).toContain('There is no good snapshot yet');
      noLiveMarkup(res.text);
    });
    // The next pass resolves the stale incident.
    const after = await render('dashboard');
    expect(after.text).toMatch(/data-state="ok">1 server OK</);
    expect(after.text).toMatch(/data-state="warning">0 servers Warning</);
  });
});

describe('why a server is not ok, in the user\'s language', () => {
  const now = new Date('2026-03-10T12:00:00Z');
  const facts = {
    serverId: 7, scheduleId: 1, scheduleName: 'Hourly', enabled: true, timing: { intervalMinutes: 60, cron: null, timezone: 'UTC', spreadMinutes: 0 },
    warnAfterMinutes: 120, criticalAfterMinutes: 1440, assignedAt: new Date('2026-03-01T00:00:00Z'), problem: null,
    lastGoodAt: new Date('2026-03-10T09:00:00Z'), lastAttemptAt: new Date('2026-03-10T09:00:00Z'), lastOkAttemptAt: new Date('2026-03-10T09:00:00Z'),
    failedInRow: 0, firstFailedAt: null, lastFailedReason: null,
  };
  const when = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');

  test('when slots were missed, then German says how many and what to check, with the newest good snapshot\'s date', () => {
    const h = assignmentHealth(facts as Parameters<typeof assignmentHealth>[0], now, 5);
    expect(h.state).toBe('warning');
    expect(h.reason).toContain('No snapshot was taken for the last 2 scheduled times');
    expect(healthReason(translatorFor('de_DE'), h.why, when)).toBe(
      'Der neueste gute Snapshot ist vom 2026-03-10 09:00, älter als 2 Stunden. Zu den letzten 2 geplanten Zeitpunkten wurde kein Snapshot erstellt; prüfe, ob ein Sidecar läuft.');
  });

  test('when the last attempts failed, then the sentence counts them and keeps the provider\'s words', () => {
    const h = assignmentHealth({ ...facts, lastGoodAt: new Date('2026-03-10T11:00:00Z'), lastAttemptAt: new Date('2026-03-10T11:55:00Z'), lastOkAttemptAt: new Date('2026-03-10T08:00:00Z'),
      failedInRow: 3, firstFailedAt: new Date('2026-03-10T09:00:00Z'), lastFailedReason: 'quota exceeded' } as Parameters<typeof assignmentHealth>[0], now, 3);
    expect(h.state).toBe('failing');
    expect(healthReason(translatorFor('de_DE'), h.why, when)).toBe('Die letzten 3 Versuche sind fehlgeschlagen. quota exceeded');
    expect(healthReason(translatorFor('en_US'), h.why, when)).toBe(h.reason);
  });
});
