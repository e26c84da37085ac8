import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, Session } from './support/browser.js';
import { DebugLog } from './support/debug-log.js';
import { env, server, urls } from './support/env.js';

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
const web1 = server('web-1');

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

    // Snapshots list, with the search box, bulk actions and filters.
    await deutsch.goto(urls.snapshots(), 'de-snapshots');
    expect(await d.locator('#ss-snapshots-screen h1').innerText()).toBe('Snapshots');
    expect(await d.locator('#bulk-action-selector-top').innerText()).toMatch(/Mehrfachaktionen[\s\S]*Datensatz löschen/);
    expect(await d.inputValue('#ss-search-submit')).toBe('Snapshots durchsuchen');
    expect(await d.locator('#ss-filter-status').innerText()).toMatch(/Alle Status/);
    const rows = d.locator('table.ss-snapshots-table tbody tr[data-snapshot-id]');
    if (await rows.count() > 0) {
      expect(await rows.first().locator('td.column-created').innerText()).toMatch(MONTHS);
      const id = await rows.first().getAttribute('data-snapshot-id');
      // One snapshot's screen.
      await deutsch.goto(urls.snapshots({ view: 'edit', snapshot: id ?? '' }), 'de-snapshot');
      expect(await d.locator('#ss-snapshots-screen h1').innerText()).toBe('Snapshot bearbeiten');
      expect(await d.locator('#ss-snapshot-details').innerText()).toMatch(/Anbieter[\s\S]*Herkunft[\s\S]*Erstellt/);
      expect(await d.locator('#ss-snapshot-history').innerText()).toMatch(/Wann[\s\S]*Wer[\s\S]*Was/);
    }

    // The server's Snapshots box.
    await deutsch.goto(urls.server(web1.id), 'de-server');
    const box = await d.locator('#ss-server-snapshots').innerText();
    expect(box).toMatch(/Jetzt Snapshot erstellen/);
    expect(box).toMatch(/Letzter Snapshot/);

    // Settings and its connection check.
    await deutsch.goto(urls.settings, 'de-settings');
    expect(await d.locator('#ss-settings-screen h1').innerText()).toBe('Snapshot-Einstellungen');
    expect(await d.locator('#ss-check-signature').innerText()).toMatch(/Der Dienst akzeptiert/);
  });
});
