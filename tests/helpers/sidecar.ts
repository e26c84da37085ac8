import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../sidecar/config.js';
import { databaseClock, type Clock, type DbHandle } from '../../sidecar/db.js';
import { silentLogger } from '../../sidecar/log.js';
import { signedHeaders } from '../../sidecar/signing.js';
import { startSidecar, type Sidecar, type SidecarOptions } from '../../sidecar/sidecar.js';
import type { TestDatabase } from './db.js';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

export function writeProvidersFile(providers: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-providers-'));
  const file = path.join(dir, 'providers.json');
  fs.writeFileSync(file, JSON.stringify(providers));
  return file;
}

/** A real sidecar (real config parsing, migrations, providers, engine) on a test database. */
export async function sidecarFor(t: TestDatabase, opts: SidecarOptions & { providers?: Record<string, unknown>; env?: Record<string, string>; clock?: Clock } = {}): Promise<Sidecar> {
  const file = writeProvidersFile(opts.providers ?? { sandbox: { type: 'sandbox', latencyMs: 0 } });
  const config = loadConfig({
    SS_DATABASE_URL: t.url, SS_TABLE_PREFIX: t.prefix, SS_SHARED_SECRET: SECRET, SS_LISTEN: '127.0.0.1:0',
    SS_PROVIDERS_FILE: file, SS_TICK_MS: '50', SS_LEASE_MS: '30000', ...opts.env,
  });
  return await startSidecar(config, {
    log: silentLogger, listen: false, startEngine: false, clock: opts.clock ?? databaseClock(), trashWaitMs: 0, ...opts,
  });
}

/** A signed supertest request, as the WordPress plugin would send it. */
export function api(sc: Sidecar, method: 'get' | 'post' | 'put' | 'patch' | 'delete', pathWithQuery: string, body?: unknown, actor = '1') {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const headers = signedHeaders(SECRET, { method: method.toUpperCase(), pathWithQuery, body: text, actor });
  let req = request(sc.app)[method](pathWithQuery).set(headers);
  if (text !== '') req = req.set('Content-Type', 'application/json').send(text);
  return req;
}

/** Run the engine until nothing is due now (no real waiting: time moves only when a test moves it). */
export async function runUntilIdle(sc: Sidecar, maxRounds = 200): Promise<void> {
  for (let i = 0; i < maxRounds; i++) {
    const r = await sc.engine.tick();
    await sc.engine.drain();
    if (r.dispatched === 0 && r.claimed === 0) return;
  }
  throw new Error('engine did not become idle');
}

/** Move the engine's clock forward (the database clock plus a test offset). */
export function advance(clock: Clock, ms: number): void {
  clock.__test__offsetMs += ms;
}

/**
 * Move the clock to one second past the next multiple of `intervalMs` — the next slot of an
 * "every N minutes" schedule — so exactly one slot is due and the following one is a whole
 * interval away, whatever the wall-clock time the test runs at. (A plain `advance` of one
 * interval can land seconds before the next boundary, and a test that then polls forward in
 * steps crosses it and gets a second, unexpected slot.)
 */
export async function advanceToNextSlot(clock: Clock, db: DbHandle['db'], intervalMs: number): Promise<void> {
  const now = (await clock.now(db)).getTime();
  advance(clock, intervalMs - (now % intervalMs) + 1000);
}
