/**
 * Debian's Chromium driven by playwright-core (docs/testing.md: never a downloaded browser).
 * Playwright gives every launch a fresh, temporary profile (its own --user-data-dir).
 */

import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Dialog, type Locator, type Page, type Response } from 'playwright-core';
import { env } from './env.js';

export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

let shotCounter = 0;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

interface ExpectedConfirm { pattern: RegExp; seen: string[] }

/**
 * One logged-in (or not) browser tab with the guards every flow needs:
 * - a dialog guard: a confirm() is accepted only while a test expects one whose text matches;
 *   any other dialog (an alert(1) from injected markup, an unexpected confirm) is dismissed
 *   and recorded as a problem;
 * - every response from WordPress is searched for the shared secret (body and headers);
 * - JavaScript errors on the page are recorded;
 * - requests to anywhere but the loopback are aborted (this machine has no internet, and a
 *   wp-admin screen must not need it) and listed;
 * - screenshots of every screen visited go to tests/artifacts/e2e/NN-who-label.png.
 */
export class Session {
  readonly problems: string[] = [];
  readonly blockedRequests: string[] = [];
  readonly confirmsSeen: string[] = [];
  readonly visited: string[] = [];
  #expected: ExpectedConfirm | null = null;
  #pendingChecks: Promise<void>[] = [];

  private constructor(readonly who: string, readonly context: BrowserContext, readonly page: Page) {}

  static async open(browser: Browser, who: string): Promise<Session> {
    const context = await browser.newContext({ baseURL: env.baseUrl, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.setDefaultNavigationTimeout(30_000);
    const session = new Session(who, context, page);
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || LOOPBACK.has(url.hostname)) return route.continue();
      session.blockedRequests.push(url.href);
      return route.abort('blockedbyclient');
    });
    page.on('dialog', (dialog) => { void session.#onDialog(dialog); });
    page.on('pageerror', (err) => session.problems.push(`JavaScript error on ${page.url()}: ${err.message}`));
    page.on('response', (response) => { session.#pendingChecks.push(session.#checkResponse(response)); });
    return session;
  }

  async #onDialog(dialog: Dialog): Promise<void> {
    const message = dialog.message();
    if (dialog.type() === 'beforeunload') {
      // WordPress asks before leaving a form with unsaved changes; leaving is what the test wants.
      await dialog.accept();
      return;
    }
    if (dialog.type() === 'confirm' && this.#expected && this.#expected.pattern.test(message)) {
      this.#expected.seen.push(message);
      this.confirmsSeen.push(message);
      await dialog.accept();
      return;
    }
    this.problems.push(`Unexpected ${dialog.type()} dialog on ${this.page.url()}: ${JSON.stringify(message)}`);
    await dialog.dismiss();
  }

  async #checkResponse(response: Response): Promise<void> {
    const url = response.url();
    if (!url.startsWith(env.baseUrl)) return;
    for (const [name, value] of Object.entries(response.headers())) {
      if (value.includes(env.secret)) this.problems.push(`The shared secret is in the ${name} header of ${url}`);
    }
    const type = response.headers()['content-type'] ?? '';
    if (!/text\/html|json|javascript|text\/plain|xml/.test(type)) return;
    if (response.status() >= 300 && response.status() < 400) return;
    let body: string;
    try {
      body = await response.text();
    } catch {
      return; // navigated away before the body was read; the next page is checked on its own
    }
    if (body.includes(env.secret)) this.problems.push(`The shared secret is in the body of ${url}`);
  }

  /** Accept confirm() dialogs matching `pattern` while `action` runs; returns their texts. */
  async withConfirm(pattern: RegExp, action: () => Promise<void>): Promise<string[]> {
    const expected: ExpectedConfirm = { pattern, seen: [] };
    this.#expected = expected;
    try {
      await action();
    } finally {
      this.#expected = null;
    }
    return expected.seen;
  }

  /** Full-page screenshot into tests/artifacts/e2e/. */
  async shot(label: string): Promise<string> {
    shotCounter += 1;
    const safe = `${this.who}-${label}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
    const file = path.join(env.artifacts, `${String(shotCounter).padStart(3, '0')}-${safe}.png`);
    fs.mkdirSync(env.artifacts, { recursive: true });
    await this.page.screenshot({ path: file, fullPage: true });
    const html = await this.page.content();
    if (html.includes(env.secret)) this.problems.push(`The shared secret is in the page ${this.page.url()}`);
    this.visited.push(this.page.url());
    return file;
  }

  /** Open a wp-admin address, screenshot it, and return the main document's response. */
  async goto(pathOrUrl: string, label: string): Promise<Response | null> {
    const response = await this.page.goto(pathOrUrl, { waitUntil: 'load' });
    await this.shot(label);
    return response;
  }

  /** Click something that loads a new page (a submit button, a link); wait for it; screenshot. */
  async clickAndLoad(target: Locator, label: string): Promise<void> {
    await Promise.all([this.page.waitForEvent('load'), target.click()]);
    await this.shot(label);
  }

  async reload(label: string): Promise<void> {
    await this.page.reload({ waitUntil: 'load' });
    await this.shot(label);
  }

  async login(login: string, password: string): Promise<void> {
    await this.goto('/wp-login.php', 'login');
    await this.page.fill('#user_login', login);
    await this.page.fill('#user_pass', password);
    await this.clickAndLoad(this.page.locator('#wp-submit'), 'after-login');
    await this.page.locator('#wpadminbar').waitFor();
  }

  /** Problems seen so far (dialogs, page errors, secrets), cleared once read. */
  async takeProblems(): Promise<string[]> {
    const pending = this.#pendingChecks;
    this.#pendingChecks = [];
    await Promise.allSettled(pending);
    return this.problems.splice(0);
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
