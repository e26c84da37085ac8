/**
 * Scheduled Snapshots in a real wp-admin: Chromium, WordPress (php -S), the sidecar with its
 * schedule engine, MariaDB — all started by tests/e2e/run.sh. Each flow makes its own data in
 * its own set-up (a schedule with a name no other flow uses, a server no other flow touches,
 * its own snapshots), so any one runs alone (`-t`) and one failing does not fail the others.
 *
 * After every test: no unexpected dialog (an alert() from injected markup fails the test),
 * no JavaScript error, the shared secret in no response, and no new line in WordPress's
 * debug.log other than core's own PHP 8.2 deprecations.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, Session } from './support/browser.js';
import { DebugLog } from './support/debug-log.js';
import { env, server, urls } from './support/env.js';
import { expectNotice, hoverRow, isoDateInDays, snapshotRow, snapshotRows, until, waitForSnapshotStatus } from './support/screens.js';

/** One server per flow (run.sh seeds web-1 … web-12), so no flow sees another's snapshots. */
const servers = {
  assign: server('web-1'),
  hostileSchedule: server('web-2'),
  deleteFails: server('web-3'), // its instance is in the sandbox's failDelete list
  takeNow: server('web-4'),
  protect: server('web-5'),
  trash: server('web-6'),
  panel: server('web-7'),
  retention: server('web-8'),
  hostileNote: server('web-9'),
  roles: server('web-10'),
  noNonce: server('web-11'),
  bulk: server('web-12'),
};

/** A name no other flow (or earlier run on the same site) uses. */
const unique = (name: string) => `${name} ${Math.random().toString(36).slice(2, 7)}`;
const HOSTILE_NAME = '<script>alert(1)</script>';
const HOSTILE_NOTE = '<img src=x onerror=alert(2)>';

/** "in 22 seconds", "in 1 min" — or, when the slot is being dispatched this very moment, "1 second ago". */
const RELATIVE = /(?:in \d+ (?:seconds?|secs?|mins?|minutes?)|\d+ (?:seconds?|secs?) ago)/;

/**
 * The retention flow's schedule is assigned in its set-up; its third slot comes at most 3 min
 * after the assignment (first slot within a minute, then one a minute), and snapshots take
 * 1.5 s to become available. Bounded with some slack for a busy two-core machine.
 */
const RETENTION_WAIT_MS = 230_000;
const protectUntil = isoDateInDays(30);

let browser: Browser;
let admin: Session;
const sessions: Session[] = [];
const suiteLog = new DebugLog(env.debugLog);
const testLog = new DebugLog(env.debugLog);
const allProblems: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await Session.open(browser, 'admin');
  sessions.push(admin);
  await admin.login(env.admin.login, env.admin.password);
});

afterEach(async () => {
  const problems: string[] = [];
  for (const s of sessions) problems.push(...(await s.takeProblems()).map((p) => `${s.who}: ${p}`));
  allProblems.push(...problems);
  const phpLines = testLog.newLines();
  expect({ problems, phpLines }, 'dialogs, page errors, leaked secret, or PHP lines in debug.log').toEqual({ problems: [], phpLines: [] });
});

afterAll(async () => {
  for (const s of sessions) await s.close().catch(() => {});
  await browser?.close();
});

/** Snapshot ids in the list as it is filtered now. */
async function idsOnList(filters: Record<string, string | number>, label: string): Promise<string[]> {
  await admin.goto(urls.snapshots(filters), label);
  return (await snapshotRows(admin.page)).map((r) => r.id);
}

/** Open a server's edit screen from the host's server list, as a user would. */
async function openServer(name: string): Promise<void> {
  await admin.goto(urls.servers, 'servers');
  await admin.clickAndLoad(admin.page.locator('a.row-title', { hasText: new RegExp(`^${name}$`) }), `server-${name}`);
  await admin.page.locator('#ss-server-snapshots').waitFor();
}

/** "Take snapshot now" in the server's Snapshots box; returns the new snapshot's id. */
async function takeSnapshotNow(name: string, serverId: number): Promise<string> {
  const before = new Set(await idsOnList({ serverId, origin: 'manual' }, `snapshots-${name}-before`));
  await openServer(name);
  await admin.clickAndLoad(admin.page.locator('#ss-take-snapshot-now'), `server-${name}-snapshot-requested`);
  await expectNotice(admin.page, 'snapshot-requested');
  const after = await idsOnList({ serverId, origin: 'manual' }, `snapshots-${name}-after`);
  const fresh = after.filter((id) => !before.has(id));
  expect(fresh, `one new manual snapshot of ${name} in the list`).toHaveLength(1);
  return fresh[0]!;
}

/** Set-up: a 1-minute schedule made with the form; returns its id. */
async function createSchedule(name: string, keepLast: number): Promise<string> {
  const { page } = admin;
  await admin.goto(`${urls.schedules}&view=new`, 'setup-schedule-new');
  await page.fill('#ss-schedule-name', name);
  await page.check('#ss-frequency-interval');
  await page.fill('#ss-schedule-interval', '1');
  await page.fill('#ss-retention-keepLast', String(keepLast));
  await page.fill('#ss-retention-keepDaily', '');
  await page.fill('#ss-retention-keepWeekly', '');
  await admin.clickAndLoad(page.locator('#ss-schedule-submit'), 'setup-schedule-created');
  await expectNotice(page, 'schedule-created');
  const row = page.locator('table.ss-schedules-table tbody tr', { has: page.locator('a.ss-schedule-name', { hasText: name }) });
  const id = (await row.getAttribute('data-schedule-id')) ?? '';
  expect(id, `the new schedule "${name}" is listed`).toMatch(/^\d+$/);
  return id;
}

/** Set-up: tick the schedule in the server's Snapshots box and Update. */
async function assignSchedule(name: string, scheduleId: string): Promise<void> {
  await openServer(name);
  await admin.page.locator(`#ss-server-schedule-${scheduleId}`).check();
  await admin.clickAndLoad(admin.page.locator('#publish'), `setup-server-${name}-assigned`);
  await expectNotice(admin.page, 'server-schedules-saved');
}

/** Set-up: a manual snapshot of the server, available. */
async function availableSnapshot(name: string, serverId: number): Promise<string> {
  const id = await takeSnapshotNow(name, serverId);
  await waitForSnapshotStatus(admin, id, 'available');
  return id;
}

/** Set-up: protect a snapshot (never delete, a date, a note) on its screen. */
async function protectSnapshot(serverId: number, id: string): Promise<void> {
  const { page } = admin;
  await admin.goto(urls.snapshots({ serverId }), 'setup-snapshots-to-protect');
  const actions = await hoverRow(snapshotRow(page, id));
  await admin.clickAndLoad(actions.locator('a.ss-action-edit'), 'setup-snapshot-edit');
  await page.check('#ss-keep-forever');
  await page.fill('#ss-delete-not-before', protectUntil);
  await page.fill('#ss-note', 'Protected by the set-up.');
  await admin.clickAndLoad(page.locator('#ss-snapshot-submit'), 'setup-snapshot-protected');
  await expectNotice(page, 'snapshot-updated');
}

/** The host's backup tab takes a snapshot of the server; returns the id it has in the Snapshots list. */
async function takePanelSnapshot(name: string, serverId: number): Promise<string> {
  const { page } = admin;
  const before = new Set(await idsOnList({ serverId, origin: 'panel' }, `snapshots-panel-${name}-before`));
  await openServer(name);
  await admin.clickAndLoad(page.locator('#ss-standin-take-snapshot'), `server-${name}-backup-tab`);
  expect(await page.locator('#ss-standin-notice').innerText()).toMatch(/took snapshot sbx-\d+ and fired the host hook/);
  expect(await page.locator('.ss-notice.notice-error').count(), 'no "could not be added" notice').toBe(0);

  const after = await idsOnList({ serverId, origin: 'panel' }, `snapshots-panel-${name}-after`);
  const fresh = after.filter((id) => !before.has(id));
  expect(fresh, `one new panel snapshot of ${name} in the list`).toHaveLength(1);
  return fresh[0]!;
}

describe('Scheduled Snapshots in wp-admin', () => {
  it('when the admin logs in at wp-login.php, then wp-admin offers Schedules, Snapshots and Snapshot Settings under Servers', async () => {
    const fresh = await Session.open(browser, 'admin');
    sessions.push(fresh);
    await fresh.login(env.admin.login, env.admin.password);
    expect(fresh.page.url()).toContain('/wp-admin/');
    const menu = fresh.page.locator('#menu-posts-wpcd_app_server .wp-submenu a');
    const items = (await menu.allInnerTexts()).map((t) => t.trim());
    expect(items).toEqual(expect.arrayContaining(['Schedules', 'Snapshots', 'Snapshot Settings']));
  });

  it('when a schedule is added with an empty name, then the form keeps what was typed and says beside the name why; when it is valid, then the list shows it with its retention in words and next run', async () => {
    const { page } = admin;
    const scheduleName = unique('E2E every minute');
    await admin.goto(urls.schedules, 'schedules');
    await admin.clickAndLoad(page.locator('#ss-add-schedule'), 'schedule-add-new');
    // A fresh form already previews its defaults: retention in words and the next five runs.
    expect(await page.locator('#ss-retention-preview').innerText()).toBe('Keeps 7 daily and 4 weekly; never fewer than 1.');
    expect(await page.locator('#ss-next-runs li').count()).toBe(5);
    await page.fill('#ss-schedule-name', '');
    await page.check('#ss-frequency-interval');
    await page.fill('#ss-schedule-interval', '1');
    await page.fill('#ss-retention-keepLast', '2');
    await page.fill('#ss-retention-keepDaily', '');
    await page.fill('#ss-retention-keepWeekly', '');
    // The live preview (admin-ajax) follows the form as it is typed, name or no name.
    await expect.poll(() => page.locator('#ss-retention-preview').innerText(), { timeout: 10_000 }).toBe('Keeps the last 2; never fewer than 1.');
    await expect.poll(() => page.locator('#ss-next-runs li').first().innerText(), { timeout: 10_000 }).toMatch(RELATIVE);
    expect(await page.locator('#ss-preview-message').innerText()).toBe('');
    await admin.shot('schedule-form-filled-no-name');
    await admin.clickAndLoad(page.locator('#ss-schedule-submit'), 'schedule-empty-name-refused');

    await expectNotice(page, 'schedule-invalid');
    const nameCell = page.locator('tr:has(#ss-schedule-name) td');
    await expect.poll(() => nameCell.locator('#ss-error-name').innerText()).toMatch(/name must not be empty/i);
    expect(await page.getAttribute('#ss-schedule-name', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#ss-schedule-name', 'aria-describedby')).toBe('ss-error-name');
    expect(await page.inputValue('#ss-schedule-interval')).toBe('1');
    expect(await page.inputValue('#ss-retention-keepLast')).toBe('2');
    expect(await page.inputValue('#ss-retention-keepDaily')).toBe('');
    expect(await page.locator('#ss-retention-preview').innerText()).toBe('Keeps the last 2; never fewer than 1.');
    expect(await page.locator('#ss-next-runs li').count()).toBe(5);

    await page.fill('#ss-schedule-name', scheduleName);
    await admin.clickAndLoad(page.locator('#ss-schedule-submit'), 'schedule-created');
    await expectNotice(page, 'schedule-created');
    const row = page.locator('table.ss-schedules-table tbody tr', { has: page.locator('a.ss-schedule-name', { hasText: scheduleName }) });
    await row.waitFor();
    expect(await row.getAttribute('data-schedule-id')).toMatch(/^\d+$/);
    expect((await row.locator('td.column-frequency').innerText()).trim()).toBe('Every minute');
    expect((await row.locator('td.column-retention').innerText()).trim()).toBe('Keeps the last 2; never fewer than 1.');
    expect((await row.locator('td.column-servers').innerText()).trim()).toBe('0 servers');
    // Next run: the next whole minute, shown in the site's date format with "in … " beside it.
    const next = await row.locator('td.column-next_run time').getAttribute('datetime');
    const inMs = new Date(next ?? '').getTime() - Date.now();
    expect(inMs).toBeGreaterThan(-5_000);
    expect(inMs).toBeLessThanOrEqual(65_000);
    expect(await row.locator('td.column-next_run').innerText()).toMatch(RELATIVE);
  });

  it('when the schedule is ticked in a server\'s Snapshots box and the host\'s Update is clicked, then after the reload the box shows it checked with its next run', async () => {
    const { page } = admin;
    const web1 = servers.assign;
    const scheduleName = unique('E2E every minute');
    const scheduleId = await createSchedule(scheduleName, 2);
    await openServer(web1.name);
    const box = page.locator(`#ss-server-schedule-${scheduleId}`);
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await admin.shot('server-web-1-schedule-ticked');
    await admin.clickAndLoad(page.locator('#publish'), 'server-web-1-updated');

    await expectNotice(page, 'server-schedules-saved');
    expect(await page.locator(`#ss-server-schedule-${scheduleId}`).isChecked()).toBe(true);
    const item = page.locator(`#ss-server-schedules li[data-schedule-id="${scheduleId}"]`);
    expect(await item.innerText()).toContain(scheduleName);
    expect(await item.locator('.ss-next-run').innerText()).toMatch(new RegExp(`next run .+\\(${RELATIVE.source}\\)`));

    await admin.goto(urls.schedules, 'schedules-after-assign');
    const row = page.locator(`#ss-schedule-${scheduleId}`);
    expect((await row.locator('td.column-servers').innerText()).trim()).toBe('1 server');
  });

  it('when a schedule is named <script>alert(1)</script>, then the Schedules list, its edit form and a server\'s Snapshots box show the name as text and no script runs', async () => {
    const { page } = admin;
    const hostileName = unique(HOSTILE_NAME);
    await admin.goto(`${urls.schedules}&view=new`, 'hostile-schedule-new');
    await page.fill('#ss-schedule-name', hostileName);
    await page.fill('#ss-schedule-interval', '1');
    await page.fill('#ss-retention-keepLast', '3');
    await page.fill('#ss-retention-keepDaily', '');
    await page.fill('#ss-retention-keepWeekly', '');
    await admin.clickAndLoad(page.locator('#ss-schedule-submit'), 'hostile-schedule-created');
    await expectNotice(page, 'schedule-created');

    const link = page.locator('a.ss-schedule-name', { hasText: hostileName });
    expect(await link.innerText()).toBe(hostileName);
    const hostileScheduleId = (await page.locator('table.ss-schedules-table tbody tr', { has: link }).getAttribute('data-schedule-id')) ?? '';
    expect(hostileScheduleId).toMatch(/^\d+$/);
    await expectNoInjectedMarkup();

    await admin.clickAndLoad(link, 'hostile-schedule-edit');
    expect(await page.inputValue('#ss-schedule-name')).toBe(hostileName);
    await expectNoInjectedMarkup();

    // A server's Snapshots box names it as text too, before and after it is assigned.
    await openServer(servers.hostileSchedule.name);
    const label = page.locator(`#ss-server-schedules li[data-schedule-id="${hostileScheduleId}"] label`);
    expect((await label.innerText()).trim()).toBe(hostileName);
    await page.locator(`#ss-server-schedule-${hostileScheduleId}`).check();
    await admin.clickAndLoad(page.locator('#publish'), 'server-hostile-assigned');
    await expectNotice(page, 'server-schedules-saved');
    expect(await page.locator(`#ss-server-schedule-${hostileScheduleId}`).isChecked()).toBe(true);
    expect((await label.innerText()).trim()).toBe(hostileName);
    await expectNoInjectedMarkup();
  });

  it('when Take snapshot now is clicked in a server\'s Snapshots box, then the Snapshots list shows a manual snapshot that becomes available', async () => {
    const { takeNow } = servers;
    const manualId = await takeSnapshotNow(takeNow.name, takeNow.id);
    const row = (await snapshotRows(admin.page)).find((r) => r.id === manualId)!;
    expect(row.server).toBe(takeNow.name);
    expect(row.origin).toBe('Manual');
    expect(['requested', 'creating', 'available']).toContain(row.status);

    const done = await waitForSnapshotStatus(admin, manualId, 'available');
    expect(done.statusText).toBe('Available');
  });

  it('when a snapshot is protected (never delete, a date, a note), then the screen shows the values and its history lists each change with who and when', async () => {
    const { page } = admin;
    const web1 = servers.protect;
    const manualId = await availableSnapshot(web1.name, web1.id);
    await admin.goto(urls.snapshots({ serverId: web1.id }), 'snapshots-web-1');
    const row = snapshotRow(page, manualId);
    const actions = await hoverRow(row);
    await admin.clickAndLoad(actions.locator('a.ss-action-edit'), 'snapshot-edit');
    expect(await page.locator('#ss-snapshot-details').getAttribute('data-snapshot-id')).toBe(manualId);

    const clickedAt = Date.now();
    await page.check('#ss-keep-forever');
    await page.fill('#ss-delete-not-before', protectUntil);
    await page.fill('#ss-note', 'Before the PHP 8.3 upgrade — keep.');
    await admin.shot('snapshot-protection-filled');
    await admin.clickAndLoad(page.locator('#ss-snapshot-submit'), 'snapshot-protected');

    await expectNotice(page, 'snapshot-updated');
    expect(await page.isChecked('#ss-keep-forever')).toBe(true);
    expect(await page.inputValue('#ss-delete-not-before')).toBe(protectUntil);
    expect(await page.inputValue('#ss-note')).toBe('Before the PHP 8.3 upgrade — keep.');
    const details = await page.locator('#ss-snapshot-details').innerText();
    expect(details).toMatch(/Protection\s+Never delete automatically/);

    const history = await page.locator('#ss-snapshot-history tbody tr').evaluateAll((rows) => rows.map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim());
      return { at: tr.querySelector('time')?.getAttribute('datetime') ?? '', when: cells[0], who: cells[1], what: cells[2], details: cells[3] };
    }));
    const change = history.find((h) => h.what === 'Protection or note changed');
    expect(change, `a "Protection or note changed" event in ${JSON.stringify(history)}`).toBeDefined();
    expect(change!.who).toBe('admin');
    expect(change!.details).toContain('Never delete automatically: on');
    // The day as the site prints dates (WordPress's default date format, F j, Y).
    const untilWords = new Date(`${protectUntil}T12:00:00Z`).toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
    expect(change!.details).toContain(`Do not delete before ${untilWords}`);
    expect(change!.details).toContain('Note changed');
    expect(Math.abs(new Date(change!.at).getTime() - clickedAt)).toBeLessThan(120_000);
    expect(change!.when).not.toBe('');
    // The earlier events are there too: who asked for it, and the scheduler making it available.
    expect(history.map((h) => h.what)).toEqual(expect.arrayContaining(['Requested', 'Available']));
    expect(history.find((h) => h.what === 'Requested')!.who).toBe('admin');

    await admin.goto(urls.snapshots({ serverId: web1.id }), 'snapshots-web-1-protected');
    expect((await snapshotRows(page)).find((r) => r.id === manualId)!.protection).toBe('Never delete automatically');
  });

  it('when a row is hovered, then Edit | Trash | Delete Record appear; when Trash is confirmed, then the snapshot leaves the list', async () => {
    const { page } = admin;
    const id = await availableSnapshot(servers.trash.name, servers.trash.id);

    const row = snapshotRow(page, id);
    const actions = row.locator('.row-actions');
    // WordPress keeps row actions off-screen until the row is hovered or focused.
    await page.mouse.move(0, 0);
    const hidden = await actions.boundingBox();
    expect(hidden === null || hidden.x < 0, `row actions hidden before hover (box ${JSON.stringify(hidden)})`).toBe(true);
    await hoverRow(row);
    const shown = await actions.boundingBox();
    expect(shown !== null && shown.x >= 0, `row actions on screen after hover (box ${JSON.stringify(shown)})`).toBe(true);
    expect((await actions.innerText()).replace(/\s+/g, ' ').trim()).toBe('Edit | Trash | Delete Record');
    await admin.shot('snapshot-row-hovered');

    const confirms = await admin.withConfirm(/deleted at Sandbox/, async () => {
      await admin.clickAndLoad(actions.locator('a.ss-action-trash'), 'snapshot-trashed');
    });
    expect(confirms).toHaveLength(1);
    expect(await expectNotice(page, 'snapshot-trashed')).toMatch(/Deleted at Sandbox .* removed from the list/);
    expect(await row.count()).toBe(0);
    await admin.reload('snapshots-after-trash');
    expect(await snapshotRow(page, id).count()).toBe(0);
  });

  it('when the provider refuses to delete, then Trash leaves the row as delete_failed with the reason; when Delete Record is confirmed (the provider copy stays), then it leaves the list', async () => {
    const { page } = admin;
    const web3 = servers.deleteFails;
    const id = await availableSnapshot(web3.name, web3.id);

    const confirms = await admin.withConfirm(/Trash this snapshot\?/, async () => {
      const actions = await hoverRow(snapshotRow(page, id));
      await admin.clickAndLoad(actions.locator('a.ss-action-trash'), 'snapshot-trash-failed');
    });
    expect(confirms).toHaveLength(1);
    expect(await expectNotice(page, 'snapshot-trash-failed')).toMatch(/could not delete it: .*refused to delete.* Use Delete Record/);
    const failed = (await snapshotRows(page)).find((r) => r.id === id);
    expect(failed?.status).toBe('delete_failed');
    expect(failed?.statusText).toMatch(/^Delete failed\n.*refused to delete snapshot sbx-\d+/);

    // The server's Snapshots box says the same about its last snapshot (web-3 has no schedule).
    await openServer(web3.name);
    const last = page.locator('#ss-server-last-snapshot');
    expect(await last.getAttribute('data-status')).toBe('delete_failed');
    expect(await last.locator('a').getAttribute('href')).toContain(`snapshot=${id}`);
    expect(await last.innerText()).toMatch(/Delete failed \(Manual\)\n.*refused to delete snapshot sbx-\d+/);
    await admin.goto(urls.snapshots({ serverId: web3.id }), 'snapshots-web-3-delete-failed');

    const recordConfirms = await admin.withConfirm(/Delete only the record/, async () => {
      const actions = await hoverRow(snapshotRow(page, id));
      expect((await actions.innerText()).replace(/\s+/g, ' ').trim()).toBe('Edit | Trash | Delete Record');
      await admin.clickAndLoad(actions.locator('a.ss-action-delete-record'), 'snapshot-record-deleted');
    });
    expect(recordConfirms).toHaveLength(1);
    expect(recordConfirms[0]).toMatch(/Nothing is deleted at the provider/);
    expect(await expectNotice(page, 'snapshot-record-deleted')).toMatch(/copy at the provider \(sbx-\d+\) was left as it is/);
    expect(await snapshotRow(page, id).count()).toBe(0);
  });

  it('when snapshots are searched by server name, then only that server\'s are listed; when two are ticked and Bulk actions → Trash is applied, then the notice reports each and both leave the list', async () => {
    const { page } = admin;
    const web12 = servers.bulk;
    const first = await availableSnapshot(web12.name, web12.id);
    const second = await availableSnapshot(web12.name, web12.id);

    await admin.goto(urls.snapshots(), 'snapshots-before-search');
    await page.fill('#ss-snapshot-search', web12.name);
    await admin.clickAndLoad(page.locator('#ss-search-submit'), 'snapshots-searched');
    expect(await page.locator('#ss-snapshots-screen .subtitle').innerText()).toBe(`Search results for: ${web12.name}`);
    const found = await snapshotRows(page);
    expect(found.map((r) => r.id)).toEqual(expect.arrayContaining([first, second]));
    expect([...new Set(found.map((r) => r.server))]).toEqual([web12.name]);

    await page.check(`#cb-select-${first}`);
    await page.check(`#cb-select-${second}`);
    await page.selectOption('#bulk-action-selector-top', 'trash');
    const confirms = await admin.withConfirm(/Apply this action to every ticked snapshot\?/, async () => {
      await admin.clickAndLoad(page.locator('#doaction'), 'snapshots-bulk-trashed');
    });
    expect(confirms).toHaveLength(1);
    const notice = await expectNotice(page, 'bulk-done');
    expect(notice).toContain('2 of 2 snapshots done.');
    for (const id of [first, second]) {
      expect(notice).toContain(`Snapshot ${id}: deleted at the provider and removed from the list.`);
      expect(await snapshotRow(page, id).count()).toBe(0);
    }
    // Back on the same search.
    expect(await page.inputValue('#ss-snapshot-search')).toBe(web12.name);
  });

  it('when a column is unticked in Screen Options, then WordPress hides it at once and the list keeps it hidden after a reload', async () => {
    const { page } = admin;
    const sizeHeader = page.locator('table.ss-snapshots-table thead th.column-size');
    const savedColumns = () => page.waitForResponse((r) => r.url().includes('/admin-ajax.php') && (r.request().postData() ?? '').includes('action=hidden-columns'));
    await admin.goto(urls.snapshots(), 'snapshots-screen-options');
    await page.click('#show-settings-link');
    const toggle = page.locator('#size-hide');
    await toggle.waitFor({ state: 'visible' });
    expect(await toggle.isChecked()).toBe(true);
    expect(await sizeHeader.isVisible()).toBe(true);
    const saved = savedColumns();
    await toggle.uncheck();
    expect((await saved).status()).toBe(200);
    expect(await sizeHeader.isVisible()).toBe(false);

    await admin.reload('snapshots-size-hidden');
    expect(await sizeHeader.getAttribute('class')).toMatch(/\bhidden\b/);
    expect(await sizeHeader.isVisible()).toBe(false);
    for (const cell of await page.locator('table.ss-snapshots-table tbody td.column-size').all()) expect(await cell.isVisible()).toBe(false);
    // The visible columns still fill the table: the header and the first row (or the "no snapshots" row) end at its edge.
    const gaps = await page.locator('table.ss-snapshots-table').evaluate((table) => {
      const right = (tr: Element | null) => Math.max(...[...(tr?.children ?? [])].filter((c) => getComputedStyle(c).display !== 'none').map((c) => c.getBoundingClientRect().right));
      const edge = table.getBoundingClientRect().right;
      return { header: Math.round(edge - right(table.querySelector('thead tr'))), firstRow: Math.round(edge - right(table.querySelector('tbody tr'))) };
    });
    expect(gaps.header).toBeLessThanOrEqual(2);
    expect(gaps.firstRow).toBeLessThanOrEqual(2);

    // Put it back, as WordPress keeps it per user.
    await page.click('#show-settings-link');
    const back = savedColumns();
    await page.locator('#size-hide').check();
    expect((await back).status()).toBe(200);
    expect(await sizeHeader.isVisible()).toBe(true);
  });

  it('when the host\'s backup tab takes a snapshot, then it enters the Snapshots list with origin panel', async () => {
    const panelId = await takePanelSnapshot(servers.panel.name, servers.panel.id);
    const row = (await snapshotRows(admin.page)).find((r) => r.id === panelId)!;
    expect(row.origin).toBe('Backup tab');
    expect(row.server).toBe(servers.panel.name);
    await waitForSnapshotStatus(admin, panelId, 'available');
  });

  it('when the 1-minute keep-last-2 schedule has made three snapshots, then the oldest leaves the list while the manual (protected) and panel snapshots stay', async ({ signal }) => {
    const { page } = admin;
    const web1 = servers.retention;
    // Set-up: the schedule on its own server, beside a protected manual and a panel snapshot.
    const scheduleId = await createSchedule(unique('E2E keep last 2'), 2);
    await assignSchedule(web1.name, scheduleId);
    const manualId = await availableSnapshot(web1.name, web1.id);
    await protectSnapshot(web1.id, manualId);
    const panelId = await takePanelSnapshot(web1.name, web1.id);
    await waitForSnapshotStatus(admin, panelId, 'available');

    const filters = { serverId: web1.id, scheduleId };
    const seen = new Map<string, string>(); // id → last status seen
    let current: string[] = [];
    // Watch the schedule's snapshots of the server: the engine makes one a minute; the third makes
    // retention delete the first. The first lives at least two minutes, and the set-up since the
    // assignment takes well under that, so the watch sees it before it goes. Bounded: three
    // slots plus slack.
    const oldest = await until('three scheduled snapshots were made and the oldest left the list', async () => {
      await page.goto(urls.snapshots(filters), { waitUntil: 'load' });
      const rows = await snapshotRows(page);
      for (const r of rows) {
        expect(r.origin).toBe('Scheduled');
        seen.set(r.id, r.status);
      }
      current = rows.map((r) => r.id);
      const ids = [...seen.keys()].sort((a, b) => Number(a) - Number(b));
      if (ids.length >= 3 && !current.includes(ids[0]!)) return ids[0]!;
      return undefined;
    }, { timeoutMs: RETENTION_WAIT_MS, intervalMs: 2000, page, signal, describe: async () => `seen ${JSON.stringify([...seen])}, listed ${JSON.stringify(current)}` });
    await admin.shot('retention-oldest-gone');

    const ids = [...seen.keys()].sort((a, b) => Number(a) - Number(b));
    // The two newest available ones are kept (keepLast 2); a newer one may be on its way.
    const newest = ids.slice(-2);
    for (const id of newest) expect(current, `snapshot ${id} still listed`).toContain(id);
    expect(current).not.toContain(oldest);

    // The manual snapshot (protected) and the panel snapshot of the same server are untouched.
    await admin.goto(urls.snapshots({ serverId: web1.id }), 'snapshots-web-1-after-retention');
    const all = await snapshotRows(page);
    expect(all.find((r) => r.id === manualId)?.status).toBe('available');
    expect(all.find((r) => r.id === panelId)?.status).toBe('available');
    expect(all.find((r) => r.id === oldest)).toBeUndefined();

    // The Schedules list still shows the schedule's next run, a minute away at most.
    await admin.goto(urls.schedules, 'schedules-after-retention');
    const next = await page.locator(`#ss-schedule-${scheduleId} td.column-next_run time`).getAttribute('datetime');
    expect(new Date(next ?? '').getTime() - Date.now()).toBeLessThanOrEqual(65_000);
  }, RETENTION_WAIT_MS + 90_000);

  it('when a hostile note and schedule name reach the Snapshots list and a snapshot\'s screen, then they show as text and no script runs', async ({ signal }) => {
    const { page } = admin;
    const web2 = servers.hostileNote;
    // Set-up: a hostile-named 1-minute schedule on its own server; its first slot is within a minute.
    const hostileName = unique(HOSTILE_NAME);
    const hostileScheduleId = await createSchedule(hostileName, 3);
    await assignSchedule(web2.name, hostileScheduleId);
    const filters = { serverId: web2.id, scheduleId: hostileScheduleId };
    let rows: Awaited<ReturnType<typeof snapshotRows>> = [];
    const first = await until('the hostile schedule made a snapshot of its server', async () => {
      await page.goto(urls.snapshots(filters), { waitUntil: 'load' });
      rows = await snapshotRows(page);
      return rows.find((r) => r.status === 'available');
    }, { timeoutMs: 120_000, intervalMs: 2000, page, signal, describe: async () => JSON.stringify(rows) });
    await admin.shot('snapshots-hostile-schedule');
    expect(first.schedule).toBe(hostileName);
    // The list's schedule filter names it as text, and it is the selected filter.
    const option = page.locator(`#ss-filter-schedule option[value="${hostileScheduleId}"]`);
    expect(await option.innerText()).toBe(hostileName);
    expect(await page.inputValue('#ss-filter-schedule')).toBe(hostileScheduleId);
    await expectNoInjectedMarkup();

    const actions = await hoverRow(snapshotRow(page, first.id));
    await admin.clickAndLoad(actions.locator('a.ss-action-edit'), 'hostile-snapshot-edit');
    expect(await detailsValue('Schedule')).toBe(hostileName);
    await page.fill('#ss-note', HOSTILE_NOTE);
    await admin.clickAndLoad(page.locator('#ss-snapshot-submit'), 'hostile-note-saved');
    await expectNotice(page, 'snapshot-updated');
    expect(await page.inputValue('#ss-note')).toBe(HOSTILE_NOTE);
    expect(await detailsValue('Schedule')).toBe(hostileName);
    await expectNoInjectedMarkup();

    // The list filtered by that schedule (the filter form, as a user would submit it).
    await admin.goto(urls.snapshots(), 'snapshots-all');
    await page.selectOption('#ss-filter-schedule', hostileScheduleId);
    await admin.clickAndLoad(page.locator('#ss-filter-submit'), 'snapshots-filtered-hostile');
    const listed = await snapshotRows(page);
    expect(listed.length).toBeGreaterThan(0);
    for (const r of listed) expect(r.schedule).toBe(hostileName);
    await expectNoInjectedMarkup();
  }, 240_000);

  it('when the Settings screen checks the connection, then every step is ok against the running sidecar', async () => {
    const { page } = admin;
    await admin.goto(urls.settings, 'settings');
    for (const step of ['secret', 'reachable', 'signature']) {
      const item = page.locator(`#ss-check-${step}`);
      expect(await item.getAttribute('data-state'), `${step}: ${await item.innerText()}`).toBe('ok');
    }
    expect(await page.locator('#ss-check-reachable').innerText()).toContain(`The snapshot service answers at ${env.sidecarUrl}`);
    expect(await page.locator('#ss-check-signature').innerText()).toMatch(/shared secrets match/);
    expect(await page.inputValue('#ss-sidecar-url')).toBe(env.sidecarUrl);
    expect(await page.getAttribute('#ss-sidecar-url', 'readonly')).not.toBeNull();
  });
});

describe('who may do what', () => {
  const screens = [
    ['Schedules', urls.schedules],
    ['Snapshots', urls.snapshots()],
    ['Settings', urls.settings],
  ] as const;

  for (const role of ['editor', 'subscriber'] as const) {
    it(`when ${role === 'editor' ? 'an editor' : 'a subscriber'} opens the Schedules, Snapshots or Settings screen or posts to our admin-post actions, then WordPress refuses with 403`, async () => {
      // Set-up: a snapshot for the forged requests to aim at.
      const target = await takeSnapshotNow(servers.roles.name, servers.roles.id);
      const who = await Session.open(browser, role);
      sessions.push(who);
      await who.login(env[role].login, env[role].password);
      const menu = await who.page.locator('#adminmenu').innerText();
      expect(menu).not.toMatch(/Schedules|Snapshot Settings/);
      for (const [name, url] of screens) {
        const response = await who.goto(url, `${name}-refused`);
        expect(response?.status(), `${role} opening ${name}`).toBe(403);
        expect(await who.page.locator('body').innerText()).toMatch(/not allowed/i);
        expect(await who.page.locator('#ss-schedules-screen, #ss-snapshots-screen, #ss-settings-screen').count()).toBe(0);
      }
      if (role === 'editor') {
        // An editor may edit the host's servers, but our Snapshots box is not shown to them.
        await who.goto(urls.server(servers.roles.id), 'server-roles');
        await who.page.locator('#post').waitFor();
        expect(await who.page.locator('#ss-server-snapshots').count()).toBe(0);
      }
      // Forged requests with the role's own cookies: refused for lack of the capability.
      const trash = await who.context.request.get(`${urls.adminPost}?action=ss_trash_snapshot&snapshot=${target}`, { maxRedirects: 0 });
      expect(trash.status()).toBe(403);
      const save = await who.context.request.post(urls.adminPost, { form: { action: 'ss_save_schedule', schedule: 'new', 'ss_schedule[name]': `Forged by ${role}`, 'ss_schedule[intervalMinutes]': '1', 'ss_schedule[retention][keepLast]': '1' }, maxRedirects: 0 });
      expect(save.status()).toBe(403);
      expect(await save.text()).toMatch(/not allowed/i);
      await who.close();
    });
  }

  it('when an admin\'s browser is made to post to admin-post.php without a nonce, then it is refused (403) and nothing changes', async () => {
    const { page } = admin;
    const web1 = servers.noNonce;
    // Set-up: an available, protected snapshot the forged requests aim at.
    const manualId = await availableSnapshot(web1.name, web1.id);
    await protectSnapshot(web1.id, manualId);
    const request = admin.context.request;
    const noNonce = [
      request.get(`${urls.adminPost}?action=ss_trash_snapshot&snapshot=${manualId}`, { maxRedirects: 0 }),
      request.get(`${urls.adminPost}?action=ss_delete_snapshot_record&snapshot=${manualId}`, { maxRedirects: 0 }),
      request.post(urls.adminPost, { form: { action: 'ss_update_snapshot', snapshot: manualId, note: 'forged' }, maxRedirects: 0 }),
      request.post(urls.adminPost, { form: { action: 'ss_save_schedule', schedule: 'new', 'ss_schedule[name]': 'Forged schedule', 'ss_schedule[intervalMinutes]': '1', 'ss_schedule[retention][keepLast]': '1' }, maxRedirects: 0 }),
      request.post(urls.adminPost, { form: { action: 'ss_take_snapshot', server: String(web1.id) }, maxRedirects: 0 }),
      // A made-up nonce is no better.
      request.get(`${urls.adminPost}?action=ss_trash_snapshot&snapshot=${manualId}&_wpnonce=0123456789`, { maxRedirects: 0 }),
    ];
    for (const response of await Promise.all(noNonce)) {
      expect(response.status(), response.url()).toBe(403);
      expect(await response.text()).toMatch(/link you followed has expired/i);
    }
    await admin.goto(urls.snapshots({ serverId: web1.id }), 'snapshots-after-forgery');
    const manual = (await snapshotRows(page)).find((r) => r.id === manualId);
    expect(manual?.status).toBe('available');
    expect(manual?.protection).toBe('Never delete automatically');
    await admin.goto(urls.schedules, 'schedules-after-forgery');
    expect(await page.locator('a.ss-schedule-name', { hasText: /Forged/ }).count()).toBe(0);
  });
});

describe('every page visited', () => {
  it('then debug.log has no PHP notice, warning or error (core\'s PHP 8.2 deprecations aside), and the shared secret is in no page, header or log', async () => {
    // Our three screens at least, whether the whole suite ran or this test alone.
    await admin.goto(urls.schedules, 'schedules-last-look');
    await admin.goto(urls.snapshots(), 'snapshots-last-look');
    await admin.goto(urls.settings, 'settings-last-look');
    expect(suiteLog.newLines()).toEqual([]);
    expect(allProblems).toEqual([]);
    // Every screen visited in this run has its screenshot.
    const visited = sessions.reduce((n, s) => n + s.visited.length, 0);
    const shots = fs.readdirSync(env.artifacts).filter((f) => f.endsWith('.png'));
    expect(shots.length).toBe(visited);
    // The sidecar answered every screen without an error of its own (no 5xx, no error lines),
    // and never logged the secret.
    const sidecarLog = fs.readFileSync(path.join(env.work, 'sidecar.log'), 'utf8');
    expect(sidecarLog).not.toContain(env.secret);
    const bad = sidecarLog.split('\n').filter((line) => /"level":(50|60)|"status":5\d\d/.test(line));
    expect(bad).toEqual([]);
    const debugLog = fs.existsSync(env.debugLog) ? fs.readFileSync(env.debugLog, 'utf8') : '';
    expect(debugLog).not.toContain(env.secret);
  });
});

/** A value of the snapshot screen's details table, by its label. */
async function detailsValue(label: string): Promise<string> {
  const row = admin.page.locator('#ss-snapshot-details tr', { has: admin.page.locator('th', { hasText: new RegExp(`^${label}$`) }) });
  return (await row.locator('td').innerText()).trim();
}

/** Nothing a hostile name or note could have injected is in the page as markup. */
async function expectNoInjectedMarkup(): Promise<void> {
  const injected = await admin.page.evaluate(() => ({
    scripts: [...document.querySelectorAll('script')].filter((s) => /alert\((1|2)\)/.test(s.textContent ?? '')).length,
    images: document.querySelectorAll('img[src="x"], img[onerror]').length,
  }));
  expect(injected).toEqual({ scripts: 0, images: 0 });
}
