import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../sidecar/db.js';
import type { Sidecar } from '../sidecar/sidecar.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { api, runUntilIdle, sidecarFor } from './helpers/sidecar.js';

/**
 * The wp-admin screens the sidecar renders (GET /ui/v1/<screen>), as WordPress asks for them:
 * signed, with the user's locale, the site's timezone and formats, Screen Options and nonces.
 */
let t: TestDatabase;
let sc: Sidecar;
let serverId: number;
let hostileServer: number;
let scheduleId: number;
const clock = databaseClock();
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>';

const baseCtx = {
  locale: 'en_US', timezone: 'Europe/Berlin', dateFormat: 'F j, Y', timeFormat: 'g:i a', perPage: 20, hidden: [] as string[],
  nonces: { ss_trash_snapshot: 'n-trash', ss_delete_snapshot_record: 'n-record', ss_update_snapshot: 'n-update', ss_save_schedule: 'n-save', ss_delete_schedule: 'n-del', ss_bulk_snapshots: 'n-bulk', ss_server_schedules: 'n-server', ss_save_settings: 'n-settings' },
  args: {} as Record<string, string>,
  urls: {
    schedules: 'http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-schedules',
    snapshots: 'http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-snapshots',
    settings: 'http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-settings',
    adminPost: 'http://wp.test/wp-admin/admin-post.php',
  },
  user: { id: 1, name: 'Ada Admin' },
};

export function render(screen: string, ctx: Partial<typeof baseCtx> & Record<string, unknown> = {}) {
  const q = encodeURIComponent(JSON.stringify({ ...baseCtx, ...ctx }));
  return api(sc, 'get', `/ui/v1/${screen}?ctx=${q}`);
}

beforeAll(async () => {
  t = await createTestDatabase();
  sc = await sidecarFor(t, { clock });
  serverId = await addServer(t, { title: 'web-1' });
  hostileServer = await addServer(t, { title: HOSTILE });
  const s = await api(sc, 'post', '/api/v1/schedules', { name: HOSTILE, intervalMinutes: 60, retention: { keepLast: 3, keepDaily: 7 } });
  scheduleId = s.body.schedule.id;
  await api(sc, 'put', `/api/v1/servers/${hostileServer}/schedules`, { scheduleIds: [scheduleId] });
  const m = await api(sc, 'post', `/api/v1/servers/${hostileServer}/snapshots`, { note: HOSTILE });
  await runUntilIdle(sc);
  await api(sc, 'patch', `/api/v1/snapshots/${m.body.snapshot.id}`, { note: HOSTILE, keepForever: true });
  await api(sc, 'post', `/api/v1/servers/${serverId}/snapshots`, {});
  await runUntilIdle(sc);
});
afterAll(async () => { await sc.stop(0); await t.drop(); });

function noLiveMarkup(html: string) {
  expect(html).not.toContain('<script>');
  expect(html).not.toContain('<img src=x');
}

describe('every screen', () => {
  test('when a schedule, a server and a note carry markup, then every screen shows it as text', async () => {
    const snaps = await api(sc, 'get', `/api/v1/snapshots?serverId=${hostileServer}`);
    const snapId = String(snaps.body.items[0].id);
    for (const [screen, ctx] of [
      ['schedules', {}], ['schedule-form', { args: { view: 'edit', schedule: String(scheduleId) } }],
      ['schedule-delete', { args: { schedule: String(scheduleId) } }], ['snapshots', {}],
      ['snapshot', { args: { snapshot: snapId } }], ['server-box', { serverId: hostileServer }], ['settings', {}],
    ] as const) {
      const res = await render(screen, ctx as Record<string, unknown>);
      expect(res.status, screen).toBe(200);
      expect(res.type).toBe('text/html');
      noLiveMarkup(res.text);
    }
    const list = await render('snapshots');
    expect(list.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  test('when the request is not signed, then no screen is rendered', async () => {
    const { default: request } = await import('supertest');
    const res = await request(sc.app).get(`/ui/v1/schedules?ctx=${encodeURIComponent(JSON.stringify(baseCtx))}`);
    expect(res.status).toBe(401);
  });

  test('when the context is missing, then the answer says which part is wrong', async () => {
    const res = await api(sc, 'get', '/ui/v1/schedules');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/context/);
  });
});

describe('Snapshots list', () => {
  test('when a server is added after the list was shown and the list is filtered to it, then the filter names it', async () => {
    await render('snapshots');
    const late = await addServer(t, { title: 'late-arrival-1' });
    const res = await render('snapshots', { args: { serverId: String(late) } });
    expect(res.text).toContain(`<option value="${late}" selected='selected'>late-arrival-1</option>`);
  });

  test('when columns are hidden in Screen Options, then their header and cells carry "hidden", and the list has WordPress list-table markup', async () => {
    const res = await render('snapshots', { hidden: ['size', 'provider'] });
    expect(res.text).toContain('wp-list-table widefat fixed striped');
    expect(res.text).toMatch(/<th scope="col" id="size" class="manage-column column-size hidden">/);
    expect(res.text).toMatch(/<td class="size column-size hidden"/);
    expect(res.text).toMatch(/class="status column-status"/);
    expect(res.text).toContain('class="row-actions"');
    expect(res.text).toContain('class="toggle-row"');
    expect(res.text).toContain('check-column');
    expect(res.text).toContain('_wpnonce=n-trash');
    expect(res.text).toContain('Delete Record');
  });

  test('when searching by server name, then only that server\'s snapshots are listed', async () => {
    const res = await render('snapshots', { args: { s: 'web-1' } });
    const rows = res.text.match(/<tr id="ss-snapshot-\d+"[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('web-1');
    const none = await render('snapshots', { args: { s: 'no-such-server' } });
    expect(none.text).toContain('No snapshots match these filters.');
    // The empty row spans the visible columns only, as core's get_column_count() (and its
    // Screen Options script, which adjusts colspanchange on each toggle) expects: 1 + 8 columns.
    expect(none.text).toContain('<tr class="no-items"><td class="colspanchange" colspan="9">');
    const narrower = await render('snapshots', { hidden: ['size', 'provider'], args: { s: 'no-such-server' } });
    expect(narrower.text).toContain('<tr class="no-items"><td class="colspanchange" colspan="7">');
  });

  test('when a server manager may manage only some servers, then the list shows only those, even when asked for another', async () => {
    const rowsOf = (html: string) => html.match(/<tr id="ss-snapshot-\d+"[\s\S]*?<\/tr>/g) ?? [];
    const mine = await render('snapshots', { servers: [serverId] });
    expect(rowsOf(mine.text)).toHaveLength(1);
    expect(rowsOf(mine.text)[0]).toContain('web-1');
    const asked = await render('snapshots', { servers: [serverId], args: { serverId: String(hostileServer) } });
    expect(rowsOf(asked.text)).toHaveLength(1);
    expect(rowsOf(asked.text)[0]).toContain('web-1');
    expect(rowsOf((await render('snapshots', { servers: [] })).text)).toHaveLength(0);
  });

  test('when the list is longer than a page, then "Older →" leads on and "← Newer" back', async () => {
    const first = await render('snapshots', { perPage: 1 });
    const older = /class="button ss-page-older" href="([^"]+)"/.exec(first.text);
    expect(older).not.toBeNull();
    const next = new URL(older![1]!.replace(/&amp;/g, '&'));
    const second = await render('snapshots', { perPage: 1, args: Object.fromEntries(next.searchParams) });
    expect(second.text).toContain('ss-page-newer');
  });
});

describe('Schedule form', () => {
  test('when a new schedule is opened, then the form shows next runs and retention in words', async () => {
    const res = await render('schedule-form', { args: { view: 'new' } });
    expect(res.text).toContain('id="ss-schedule-form"');
    expect(res.text).toMatch(/<ol id="ss-next-runs" class="ss-next-runs"><li>/);
    expect(res.text).toContain('Keeps 7 daily and 4 weekly; never fewer than 1.');
  });

  test('when a save is refused, then the form keeps what was typed and says beside the field why', async () => {
    const save = await api(sc, 'post', '/ui/v1/forms/schedule', { ctx: baseCtx, schedule: 'new', values: { name: '', frequency: 'interval', intervalMinutes: '60', retention: { keepLast: '2' } } });
    expect(save.body.saved).toBe(false);
    expect(save.body.errors.name).toMatch(/name/i);
    const res = await render('schedule-form', { args: { view: 'new' }, form: { values: save.body.values, errors: save.body.errors } });
    expect(res.text).toContain('id="ss-error-name"');
  });

  test('when a schedule that was deleted is opened, then the screen says it does not exist', async () => {
    const res = await render('schedule-form', { args: { view: 'edit', schedule: '999999' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('notice-error');
  });
});

describe('bulk actions', () => {
  test('when Delete Record is applied to ticked rows, then each row\'s outcome is reported and the rendered notice lists them', async () => {
    const list = await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}`);
    const ids = list.body.items.map((x: { id: number }) => x.id);
    const res = await api(sc, 'post', '/api/v1/snapshots/bulk', { action: 'delete_record', ids: [...ids, 999999] });
    expect(res.status).toBe(200);
    expect(res.body.results).toContainEqual(expect.objectContaining({ id: ids[0], outcome: 'record-deleted' }));
    expect(res.body.results).toContainEqual(expect.objectContaining({ id: 999999, outcome: 'not-found' }));
    const after = await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}`);
    expect(after.body.items).toHaveLength(0);
    const page = await render('snapshots', { notice: { code: 'bulk-done', count: 0, detail: '', results: res.body.results } });
    expect(page.text).toContain('ss-bulk-results');
    expect(page.text).toMatch(/Snapshot 999999: /);
  });
});

describe('German', () => {
  test('when the user\'s locale is de_DE, then the screens, the sidecar\'s sentences and the dates are German', async () => {
    const res = await render('schedules', { locale: 'de_DE', dateFormat: 'j. F Y', timeFormat: 'G:i' });
    expect(res.text).toContain('Zeitpläne');
    expect(res.text).toContain('Behält die letzten 3 und 7 tägliche; nie weniger als 1.');
    expect(res.text).toContain('Jede Stunde');
    const snaps = await render('snapshots', { locale: 'de_DE', dateFormat: 'l, j. F Y', timeFormat: 'G:i' });
    expect(snaps.text).toMatch(/(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), \d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4} \d{1,2}:\d{2}/);
    expect(snaps.text).toContain('Datensatz löschen');
    expect(snaps.text).not.toContain('Delete Record');
  });

  test('when a snapshot\'s history is read in German, then what the engine and the screens wrote is German, its dates as the site prints them', async () => {
    const made = await api(sc, 'post', `/api/v1/servers/${serverId}/snapshots`, {});
    await runUntilIdle(sc);
    const id = Number(made.body.snapshot.id);
    // As the plugin sends it: the end of the chosen day in the site's timezone (Europe/Berlin here).
    await api(sc, 'patch', `/api/v1/snapshots/${id}`, { keepForever: true, deleteNotBefore: '2031-12-30T23:59:59+01:00', note: 'vor dem Umzug' });
    await api(sc, 'patch', `/api/v1/snapshots/${id}`, { deleteNotBefore: null });
    const res = await render('snapshot', { locale: 'de_DE', dateFormat: 'j. F Y', timeFormat: 'G:i', args: { snapshot: String(id) } });
    const history = /<table class="widefat striped ss-history"[\s\S]*?<\/table>/.exec(res.text)![0];
    const details = [...history.matchAll(/<tr><td>[\s\S]*?<\/td><td>[\s\S]*?<\/td><td>[\s\S]*?<\/td><td>([\s\S]*?)<\/td><\/tr>/g)].map((m) => m[1]);
    // Newest first: the two changes made here, then what the engine wrote as it made the snapshot.
    expect(details.slice(0, 2)).toEqual([
      'Nicht löschen vor: entfernt',
      'Nie automatisch löschen: an; Nicht löschen vor dem 30. Dezember 2031; Notiz geändert',
    ]);
    expect(details).toContain('Manueller Snapshot');
    expect(details).toContainEqual(expect.stringMatching(/^ID beim Anbieter: sbx-\d+$/));
    // No date left as the database keeps it (the <time> element's datetime attribute aside).
    expect(details.join('\n')).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    const english = await render('snapshot', { args: { snapshot: String(id) } });
    expect(english.text).toContain('Never delete automatically: on; Do not delete before December 30, 2031; Note changed');
  });

  test('when a locale has no catalogue, then the screens are English', async () => {
    const res = await render('schedules', { locale: 'fr_FR' });
    expect(res.text).toContain('>Schedules<');
  });
});
