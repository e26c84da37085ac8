/**
 * The sidecar as one object with start()/stop(): main.ts runs it for real, tests run it
 * against a fresh database. Nothing here holds state that matters between ticks.
 */

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureSandboxTable } from '../migrations/sandbox.js';
import type { Config } from './config.js';
import { databaseClock, openDatabase, type Clock, type DbHandle } from './db.js';
import { channelsFor } from './alerts/channels.js';
import { AlertWorker } from './alerts/worker.js';
import { checkPrivileges } from './db-privileges.js';
import { Engine } from './engine/engine.js';
import type { WorkLimits } from './engine/work.js';
import { createHost } from './host.js';
import { createApp } from './http/app.js';
import { sandboxConfigured, type AppContext } from './http/context.js';
import { createLogger, type Logger } from './log.js';
import { migrateToLatest } from './migrate.js';
import { createProviders } from './providers/index.js';
import { startUpkeep, type Upkeep } from './upkeep.js';
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
  /** Start the alert worker's loop (default: with the engine). Tests may drive it themselves. */
  startAlerts?: boolean;
  /** Alert worker knobs for tests (delivery loop period, lease, backoff). */
  alertOptions?: { tickMs?: number; leaseMs?: number; backoffBaseMs?: number; backoffMaxMs?: number };
}

export interface Sidecar {
  ctx: AppContext;
  handle: DbHandle;
  app: ReturnType<typeof createApp>;
  engine: Engine;
  alerts: AlertWorker;
  upkeep: Upkeep;
  server: http.Server | null;
  url: string | null;
  stop(graceMs?: number): Promise<void>;
}

/** The providers file holds every provider credential: say so at start when others may read it. */
function warnIfProvidersFileShared(file: string | null, log: Logger): void {
  if (!file) return;
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch {
    return; // config loading already read it; a race here is not worth failing the start
  }
  if ((mode & 0o077) !== 0) {
    log.warn({ file, mode: `0${(mode & 0o777).toString(8)}`, event: 'providers_file_readable' },
      'the providers file (API credentials) is readable by other users of this machine: run chmod 600 on it');
  }
}

export async function startSidecar(config: Readonly<Config>, opts: SidecarOptions = {}): Promise<Sidecar> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  warnIfProvidersFileShared(config.providersFile, log);
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
  const providers = await createProviders(resolved.configs, { log, db, clock, sleep: opts.sleep });
  const providerProblems = new Map([...resolved.sources.values()].filter((s) => s.problem).map((s) => [s.slug, s.problem!]));
  const host = createHost(db, config.host);
  const engine = new Engine({
    db, clock, log: log.child({ component: 'engine' }), host, providers, providerProblems, instanceId: config.instanceId,
    tickMs: config.tickMs, leaseMs: config.leaseMs, reconcileMs: config.reconcileMinutes * 60_000, limits: opts.limits, concurrency: opts.concurrency,
  });
  const alerts = new AlertWorker({
    db, clock, log: log.child({ component: 'alerts' }), host, config: config.alerts, channels: channelsFor(config.alerts),
    instanceId: config.instanceId, ...opts.alertOptions,
  });
  const ctx: AppContext = {
    db, clock, log, host, providers, providerConfigs: resolved.configs, providerProblems, providerSources: resolved.sources, wpcd: resolved.wpcd,
    engine, sharedSecret: config.sharedSecret,
    trashWaitMs: opts.trashWaitMs, alerts,
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
  if (opts.startAlerts ?? opts.startEngine !== false) alerts.start();
  // Chores run on their node-schedule timetable only where the engine runs by itself; tests
  // that drive the engine call upkeep.run() when they want a chore.
  const upkeep = startUpkeep({ db, clock, log: log.child({ component: 'upkeep' }), engine, eventsKeepDays: config.eventsKeepDays }, { schedule: opts.startEngine !== false });

  return {
    ctx, handle, app, engine, alerts, upkeep, server, url,
    async stop(graceMs = 10_000) {
      await upkeep.stop();
      if (server) {
        server.closeIdleConnections?.();
        await new Promise<void>((r) => server!.close(() => r()));
      }
      await Promise.all([engine.stop(graceMs), alerts.stop(Math.min(graceMs, 5000))]);
      await handle.close();
    },
  };
}
