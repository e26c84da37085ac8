import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, Session } from './support/browser.js';
import { DebugLog } from './support/debug-log.js';
import { env, server, urls } from './support/env.js';
import { expectNotice } from './support/screens.js';

/**
 * The German pass: an administrator who picked Deutsch in their profile (WordPress's own
 * German from Debian's wordpress-l10n, ours from the plugin's languages/ folder) sees German
 * on every screen of ours, dates included. Uses its own user, so the English flows in
 * wp-admin.e2e.ts are untouched whatever order the files run in.
 */
let browser: Browser;
let admin: Session;
let deutsch: Session;
const log = new DebugLog(env.debugLog);
const login = `e2e-deutsch-${Date.now()}`;
const password = `pw-${Math.random().toString(36).slice(2)}-${Date.now()}`;
/** Its own server (run.sh seeds web-1 … web-13; the English flows use web-1 … web-12). */
const web13 = server('web-13');

const MONTHS = /(Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember)/;

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await Session.open(browser, 'admin');
});

afterEach(async () => {
  const problems = [...(await admin.takeProblems()), ...(deutsch ? await deutsch.takeProblems() : [])];
  expect({ problems, phpLines: log.newLines() }).toEqual({ problems: [], phpLines: [] });
});

afterAll(async () => {
  await deutsch?.close().catch(() => {});
  await admin?.close().catch(() => {});
  await browser?.close();
});

describe('a German-speaking administrator', () => {
  it('when an administrator picks Deutsch in the profile, then wp-admin and every screen of ours speak German', async () => {
    // The site admin adds a colleague as an administrator.
    await admin.login(env.admin.login, env.admin.password);
    await admin.goto('/wp-admin/user-new.php', 'de-user-new');
    const p = admin.page;
    await p.fill('#user_login', login);
    await p.fill('#email', `${login}@example.test`);
    await p.locator('#pass1').fill(password);
    const weak = p.locator('.pw-checkbox');
    if (await weak.isVisible()) await weak.check();
    await p.selectOption('#role', 'administrator');
    await admin.clickAndLoad(p.locator('#createusersub'), 'de-user-created');

    // The colleague chooses Deutsch in their own profile: WordPress offers it.
    deutsch = await Session.open(browser, 'deutsch');
    await deutsch.login(login, password);
    const d = deutsch.page;
    await deutsch.goto('/wp-admin/profile.php', 'de-profile');
    expect(await d.locator('#locale option[value="de_DE"]').count()).toBe(1);
    await d.selectOption('#locale', 'de_DE');
    await deutsch.clickAndLoad(d.locator('#submit'), 'de-profile-saved');

    // Menu and Schedules list.
    await deutsch.goto(urls.schedules, 'de-schedules');
    expect(await d.locator('#adminmenu').innerText()).toMatch(/Zeitpläne/);
    expect(await d.locator('#ss-schedules-screen h1').innerText()).toBe('Zeitpläne');
    const table = await d.locator('table.ss-schedules-table').innerText();
    expect(table).toMatch(/Häufigkeit/);
    expect(table).toMatch(/Behält/);
    expect(table).not.toMatch(/Keeps|Next run|Frequency/);

    // Add New form: labels, retention in words and the next runs with German months.
    await deutsch.clickAndLoad(d.locator('#ss-add-schedule'), 'de-schedule-form');
    expect(await d.locator('#ss-schedules-screen h1').innerText()).toBe('Neuen Zeitplan hinzufügen');
    expect(await d.locator('#ss-retention-preview').innerText()).toBe('Behält 7 tägliche und 4 wöchentliche; nie weniger als 1.');
    expect(await d.locator('#ss-next-runs li').first().innerText()).toMatch(MONTHS);
    await d.fill('#ss-retention-keepLast', '3');
    await expect.poll(() => d.locator('#ss-retention-preview').innerText(), { timeout: 10_000 }).toBe('Behält die letzten 3, 7 tägliche und 4 wöchentliche; nie weniger als 1.');

    // The server's Snapshots box: a snapshot taken in German, so the list and its screen have one.
    await deutsch.goto(urls.server(web13.id), 'de-server');
    const box = await d.locator('#ss-server-snapshots').innerText();
    expect(box).toMatch(/Jetzt Snapshot erstellen/);
    expect(box).toMatch(/Letzter Snapshot/);
    await deutsch.clickAndLoad(d.locator('#ss-take-snapshot-now'), 'de-server-snapshot-requested');
    expect(await expectNotice(d, 'snapshot-requested')).not.toMatch(/snapshot (was )?requested/i);

    // Snapshots list, with the search box, bulk actions and filters.
    await deutsch.goto(urls.snapshots({ serverId: web13.id }), 'de-snapshots');
    expect(await d.locator('#ss-snapshots-screen h1').innerText()).toBe('Snapshots');
    expect(await d.locator('#bulk-action-selector-top').innerText()).toMatch(/Mehrfachaktionen[\s\S]*Datensatz löschen/);
    expect(await d.inputValue('#ss-search-submit')).toBe('Snapshots durchsuchen');
    expect(await d.locator('#ss-filter-status').innerText()).toMatch(/Alle Status/);
    const row = d.locator('table.ss-snapshots-table tbody tr[data-snapshot-id]').first();
    expect(await row.locator('td.column-created').innerText()).toMatch(MONTHS);
    expect(await row.locator('td.column-origin').innerText()).toBe('Manuell');
    const id = await row.getAttribute('data-snapshot-id');

    // That snapshot's screen, its history included (the details the engine wrote, in German).
    await deutsch.goto(urls.snapshots({ view: 'edit', snapshot: id ?? '' }), 'de-snapshot');
    expect(await d.locator('#ss-snapshots-screen h1').innerText()).toBe('Snapshot bearbeiten');
    expect(await d.locator('#ss-snapshot-details').innerText()).toMatch(/Anbieter[\s\S]*Herkunft[\s\S]*Erstellt/);
    const history = await d.locator('#ss-snapshot-history').innerText();
    expect(history).toMatch(/Wann[\s\S]*Wer[\s\S]*Was[\s\S]*Angefordert[\s\S]*Manueller Snapshot/);
    expect(history).not.toMatch(/Manual snapshot|Provider id|Scheduled slot|Requested/);

    // Settings and its connection check.
    await deutsch.goto(urls.settings, 'de-settings');
    expect(await d.locator('#ss-settings-screen h1').innerText()).toBe('Snapshot-Einstellungen');
    expect(await d.locator('#ss-check-signature').innerText()).toMatch(/Der Dienst akzeptiert/);
  });
});
