import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../sidecar/config.js';
import { writeProvidersFile } from './helpers/sidecar.js';

const good = { SS_DATABASE_URL: 'mysql://root@127.0.0.1:3306/wordpress', SS_SHARED_SECRET: 'x'.repeat(32) };

describe('configuration', () => {
  test('when only the required variables are set, then the documented defaults apply', () => {
    const c = loadConfig(good);
    expect(c).toMatchObject({ tablePrefix: 'wp_', listenHost: '127.0.0.1', listenPort: 8787, providers: {}, reconcileMinutes: 60 });
    expect(c.host.postType).toBe('wpcd_app_server');
    expect(c.eventsKeepDays).toBe(180);
    expect(Object.isFrozen(c)).toBe(true);
  });

  test.each([
    ['SS_DATABASE_URL', { SS_SHARED_SECRET: 'x'.repeat(32) }, /SS_DATABASE_URL: is required/],
    ['SS_DATABASE_URL', { ...good, SS_DATABASE_URL: 'postgres://x/y' }, /SS_DATABASE_URL: must look like/],
    ['SS_SHARED_SECRET', { SS_DATABASE_URL: good.SS_DATABASE_URL }, /SS_SHARED_SECRET: is required/],
    ['SS_SHARED_SECRET', { ...good, SS_SHARED_SECRET: 'short-secret' }, /SS_SHARED_SECRET: must be at least 32 characters \(it has 12\)/],
    ['SS_LISTEN', { ...good, SS_LISTEN: 'everywhere' }, /SS_LISTEN: must be host:port/],
    ['SS_TABLE_PREFIX', { ...good, SS_TABLE_PREFIX: 'wp; drop' }, /SS_TABLE_PREFIX/],
    ['SS_TICK_MS', { ...good, SS_TICK_MS: 'soon' }, /SS_TICK_MS: must be a whole number/],
    ['SS_RECONCILE_MINUTES', { ...good, SS_RECONCILE_MINUTES: '0' }, /SS_RECONCILE_MINUTES: must be between 1 and 10080, got 0/],
    ['SS_EVENTS_KEEP_DAYS', { ...good, SS_EVENTS_KEEP_DAYS: '0' }, /SS_EVENTS_KEEP_DAYS: must be between 1 and 36500/],
    ['SS_PROVIDERS_FILE', { ...good, SS_PROVIDERS_FILE: '/nonexistent/providers.json' }, /SS_PROVIDERS_FILE: cannot read/],
  ])('when %s is missing or bad, then one line names it', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('when the providers file is not JSON, has an unknown type or a bad field, then the error names the provider and field but not the value', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-cfg-'));
    const notJson = path.join(dir, 'p.json');
    fs.writeFileSync(notJson, '{ nope');
    expect(() => loadConfig({ ...good, SS_PROVIDERS_FILE: notJson })).toThrow(/is not valid JSON/);
    const unknown = writeProvidersFile({ myslug: { type: 'azure' } });
    expect(() => loadConfig({ ...good, SS_PROVIDERS_FILE: unknown })).toThrow(/provider "myslug" has unknown type "azure"/);
    const badField = writeProvidersFile({ sandbox: { type: 'sandbox', latencyMs: 'slow-secret-value' } });
    let message = '';
    try { loadConfig({ ...good, SS_PROVIDERS_FILE: badField }); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/provider "sandbox" \(sandbox\): field "latencyMs"/);
    expect(message).not.toContain('slow-secret-value');
  });
});

describe('start-up from the command line', () => {
  const main = path.resolve('dist/sidecar/main.js');
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
  }, 120_000);

  test('when the secret is too short, then the process exits non-zero with one line naming SS_SHARED_SECRET and no secret in it', () => {
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, ...good, SS_SHARED_SECRET: 'tiny-secret-value' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Configuration error: SS_SHARED_SECRET: must be at least 32 characters/);
    expect(r.stderr + r.stdout).not.toContain('tiny-secret-value');
  });

  test('when the database cannot be reached, then the process exits non-zero naming SS_DATABASE_URL', () => {
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, ...good, SS_DATABASE_URL: 'mysql://root:pw-secret@127.0.0.1:1/wp' }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/SS_DATABASE_URL: cannot connect to the database/);
    expect(r.stderr + r.stdout).not.toContain('pw-secret');
  });

  test('when the alert webhook is plain http to another host, then the process exits with one line naming SS_ALERT_WEBHOOK_URL and not the URL', () => {
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, ...good, SS_ALERT_WEBHOOK_URL: 'http://hooks.example.com/hook-token-secret' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual(['Configuration error: SS_ALERT_WEBHOOK_URL: must use https:// (plain http:// is allowed only to 127.0.0.1 or localhost)']);
    expect(r.stderr + r.stdout).not.toContain('hook-token-secret');
  });
});
