/**
 * Reading our screens the way a user does, plus one bounded wait.
 */

import type { Locator, Page } from 'playwright-core';
import type { Session } from './browser.js';

/** The notice a handler's redirect asked for (?ss_message=code), or an error naming what is shown instead. */
export async function expectNotice(page: Page, code: string): Promise<string> {
  const notice = page.locator(`#ss-notice-${code}`);
  if ((await notice.count()) === 0) {
    const shown = await page.locator('.notice').allInnerTexts();
    throw new Error(`Expected the "${code}" notice on ${page.url()}; the screen shows: ${JSON.stringify(shown)}`);
  }
  return (await notice.innerText()).trim();
}

export interface SnapshotRow {
  id: string;
  status: string;
  server: string;
  origin: string;
  schedule: string;
  statusText: string;
  protection: string;
}

/** The rows of the Snapshots list as shown. */
export async function snapshotRows(page: Page): Promise<SnapshotRow[]> {
  return await page.locator('table.ss-snapshots-table tbody tr[data-snapshot-id]').evaluateAll((rows) => rows.map((tr) => {
    const cell = (name: string) => (tr.querySelector(`td.column-${name}, th.column-${name}`) as HTMLElement | null)?.innerText.trim() ?? '';
    const title = tr.querySelector('.column-server a.row-title') as HTMLElement | null;
    return {
      id: tr.getAttribute('data-snapshot-id') ?? '',
      status: tr.getAttribute('data-status') ?? '',
      server: title?.innerText.trim() ?? '',
      origin: cell('origin'),
      schedule: cell('schedule'),
      statusText: cell('status'),
      protection: cell('protection'),
    };
  }));
}

export function snapshotRow(page: Page, id: string): Locator {
  return page.locator(`table.ss-snapshots-table tr#ss-snapshot-${id}`);
}

/**
 * Re-check `probe` (which may reload the page) until it returns a value, within `timeoutMs`.
 * `probe` returns undefined for "not yet". The error says what was last seen.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; page: Page; describe?: () => Promise<string>; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let attempts = 0;
  for (;;) {
    // A test that timed out must not keep driving the page under the next test.
    if (opts.signal?.aborted) throw new Error(`Stopped waiting until ${what}: the test was aborted.`);
    attempts += 1;
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const seen = opts.describe ? await opts.describe() : '';
      throw new Error(`Gave up after ${Math.round(opts.timeoutMs / 1000)} s (${attempts} looks) waiting until ${what}.${seen ? ` Last seen: ${seen}` : ''}`);
    }
    // Poll interval between page reloads, bounded by the deadline above.
    await opts.page.waitForTimeout(Math.min(opts.intervalMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
}

/** Reload the Snapshots list (as it is filtered) until the snapshot has `status`; screenshot the end. */
export async function waitForSnapshotStatus(session: Session, id: string, status: string, timeoutMs = 30_000, signal?: AbortSignal): Promise<SnapshotRow> {
  const { page } = session;
  let last: SnapshotRow | undefined;
  const row = await until(`snapshot ${id} is "${status}"`, async () => {
    await page.reload({ waitUntil: 'load' });
    last = (await snapshotRows(page)).find((r) => r.id === id);
    return last?.status === status ? last : undefined;
  }, { timeoutMs, intervalMs: 700, page, signal, describe: async () => JSON.stringify(last ?? 'not in the list') });
  await session.shot(`snapshot-${id}-${status}`);
  return row;
}

/** Hover a list row so WordPress reveals its row actions; returns the row actions' box. */
export async function hoverRow(row: Locator): Promise<Locator> {
  const actions = row.locator('.row-actions');
  await row.hover();
  return actions;
}

/** A date N days from now as YYYY-MM-DD (the site's timezone is UTC). */
export function isoDateInDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
