/**
 * The sidecar as one object with start()/stop(): main.ts runs it for real, tests run it
 * against a fresh database. Nothing here holds state that matters between ticks.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureSandboxTable } from '../migrations/sandbox.js';
import type { Config } from './config.js';
import { databaseClock, openDatabase, type Clock, type DbHandle } from './db.js';
import { checkPrivileges } from './db-privileges.js';
import { Engine } from './engine/engine.js';
import type { WorkLimits } from './engine/work.js';
import { createHost } from './host.js';
import { createApp } from './http/app.js';
import { sandboxConfigured, type AppContext } from './http/context.js';
import { createLogger, type Logger } from './log.js';
import { migrateToLatest } from './migrate.js';
import { createProviders } from './providers/index.js';
import { purgeExpiredNonces } from './store/nonces.js';
import { resolveProviders } from './wpcd/providers.js';

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
  let resolved;
  try {
    // Said before migrating, so a user without DDL reads why a pending migration then fails.
    await checkPrivileges(db, config.tablePrefix, log);
    if (opts.migrate !== false) {
      const applied = await migrateToLatest(db, config.tablePrefix);
      if (applied.length > 0) log.info({ applied }, 'migrations applied');
    }
    if (sandboxConfigured(config.providers)) await ensureSandboxTable(db);
    // Credentials: the providers file's own, else WPCloudDeploy's (read once; a restart picks up changes).
    resolved = await resolveProviders(db, config, log);
  } catch (e) {
    await handle.close();
    throw e;
  }
  const providers = createProviders(resolved.configs, { log, db, clock, sleep: opts.sleep });
  const providerProblems = new Map([...resolved.sources.values()].filter((s) => s.problem).map((s) => [s.slug, s.problem!]));
  const host = createHost(db, config.host);
  const engine = new Engine({
    db, clock, log: log.child({ component: 'engine' }), host, providers, providerProblems, instanceId: config.instanceId,
    tickMs: config.tickMs, leaseMs: config.leaseMs, limits: opts.limits, concurrency: opts.concurrency,
  });
  const ctx: AppContext = {
    db, clock, log, host, providers, providerConfigs: resolved.configs, providerProblems, providerSources: resolved.sources, wpcd: resolved.wpcd,
    engine, sharedSecret: config.sharedSecret,
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
