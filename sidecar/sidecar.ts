/**
 * The sidecar as one object with start()/stop(): main.ts runs it for real, tests run it
 * against a fresh database. Nothing here holds state that matters between ticks.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureSandboxTable } from '../migrations/sandbox.js';
import type { Config } from './config.js';
import { databaseClock, openDatabase, type Clock, type DbHandle } from './db.js';
import { Engine } from './engine/engine.js';
import type { WorkLimits } from './engine/work.js';
import { createHost } from './host.js';
import { createApp } from './http/app.js';
import { sandboxConfigured, type AppContext } from './http/context.js';
import { createLogger, type Logger } from './log.js';
import { migrateToLatest } from './migrate.js';
import { createProviders } from './providers/index.js';
import { purgeExpiredNonces } from './store/nonces.js';

export interface SidecarOptions {
  log?: Logger;
  clock?: Clock;
  /** Start the engine's timer loop (tests may drive `engine.tick()` themselves). */
  startEngine?: boolean;
  /** Listen on HTTP (tests may use supertest on `app` instead). */
  listen?: boolean;
  migrate?: boolean;
  limits?: Partial<WorkLimits>;
  concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
  trashWaitMs?: number;
}

export interface Sidecar {
  ctx: AppContext;
  handle: DbHandle;
  app: ReturnType<typeof createApp>;
  engine: Engine;
  server: http.Server | null;
  url: string | null;
  stop(graceMs?: number): Promise<void>;
}

export async function startSidecar(config: Readonly<Config>, opts: SidecarOptions = {}): Promise<Sidecar> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const clock = opts.clock ?? databaseClock();
  const handle = openDatabase(config.databaseUrl, config.tablePrefix, { connectionLimit: 20 });
  const { db } = handle;
  try {
    if (opts.migrate !== false) {
      const applied = await migrateToLatest(db, config.tablePrefix);
      if (applied.length > 0) log.info({ applied }, 'migrations applied');
    }
    if (sandboxConfigured(config.providers)) await ensureSandboxTable(db);
  } catch (e) {
    await handle.close();
    throw e;
  }
  const providers = createProviders(config.providers, { log, db, clock, sleep: opts.sleep });
  const host = createHost(db, config.host);
  const engine = new Engine({
    db, clock, log: log.child({ component: 'engine' }), host, providers, instanceId: config.instanceId,
    tickMs: config.tickMs, leaseMs: config.leaseMs, reconcileMs: config.reconcileMinutes * 60_000, limits: opts.limits, concurrency: opts.concurrency,
  });
  const ctx: AppContext = {
    db, clock, log, host, providers, providerConfigs: config.providers, engine, sharedSecret: config.sharedSecret,
    trashWaitMs: opts.trashWaitMs,
  };
  const app = createApp(ctx);
  let server: http.Server | null = null;
  let url: string | null = null;
  if (opts.listen !== false) {
    server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.listenPort, config.listenHost, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    log.info({ url, providers: [...providers.keys()] }, 'sidecar listening');
  }
  if (opts.startEngine !== false) engine.start();
  const purge = setInterval(() => { purgeExpiredNonces(db).catch(() => {}); }, 60_000);
  purge.unref();

  return {
    ctx, handle, app, engine, server, url,
    async stop(graceMs = 10_000) {
      clearInterval(purge);
      if (server) {
        server.closeIdleConnections?.();
        await new Promise<void>((r) => server!.close(() => r()));
      }
      await engine.stop(graceMs);
      await handle.close();
    },
  };
}
