/**
 * The sidecar's in-process chores, in one place, timed by node-schedule: forgetting seen
 * request nonces once they can no longer be replayed, the aged-retention sweep (maxAgeDays
 * must bite even when a schedule makes no new snapshot), and pruning old audit events.
 * Each chore compares times by the database clock, like the slot engine; node-schedule only
 * says when to look. Every chore is idempotent, so several sidecars running them is harmless.
 * Reconciliation with the providers is not a chore here: the engine loop starts it
 * (engine/reconcile.ts), because its period is SS_RECONCILE_MINUTES claimed in the database,
 * it spends the providers' request budget beside snapshot work, and the engine's drain waits for it.
 */
import schedule from 'node-schedule';
import type { Clock, DB } from './db.js';
import type { Engine } from './engine/engine.js';
import type { Logger } from './log.js';
import { pruneEventsBefore } from './store/events.js';
import { purgeExpiredNonces } from './store/nonces.js';

export interface UpkeepDeps {
  db: DB;
  clock: Clock;
  log: Logger;
  engine: Engine;
  /** Audit events older than this many days go, unless their snapshot is still listed. */
  eventsKeepDays: number;
}

export const CHORES = {
  'purge-nonces': '* * * * *',
  'retention-sweep': '*/5 * * * *',
  'prune-events': '17 3 * * *',
} as const;
export type Chore = keyof typeof CHORES;

export interface Upkeep {
  /** Run one chore now (the schedule does this; tests and operators may too). */
  run(chore: Chore): Promise<number>;
  stop(): Promise<void>;
}

export async function purgeNonces(db: DB, clock: Clock): Promise<number> {
  return await purgeExpiredNonces(db, await clock.now(db));
}

/** Old events of snapshots that are gone (and of schedules and servers). */
export async function pruneEvents(db: DB, clock: Clock, keepDays: number): Promise<number> {
  return await pruneEventsBefore(db, new Date((await clock.now(db)).getTime() - keepDays * 86_400_000));
}

export function startUpkeep(deps: UpkeepDeps, opts: { schedule?: boolean } = {}): Upkeep {
  const running = new Set<Promise<unknown>>();
  const chores: Record<Chore, () => Promise<number>> = {
    'purge-nonces': () => purgeNonces(deps.db, deps.clock),
    'retention-sweep': async () => { await deps.engine.sweepAgedRetention(); return 0; },
    'prune-events': () => pruneEvents(deps.db, deps.clock, deps.eventsKeepDays),
  };
  const busy = new Set<Chore>();
  async function run(chore: Chore): Promise<number> {
    const p = chores[chore]();
    running.add(p);
    try { return await p; } finally { running.delete(p); }
  }
  const jobs = opts.schedule === false ? [] : (Object.keys(CHORES) as Chore[]).map((chore) => schedule.scheduleJob(`ss-${chore}`, CHORES[chore], () => {
    if (busy.has(chore)) return; // a slow run is not stacked on by the next one
    busy.add(chore);
    run(chore)
      .then((n) => { if (n > 0) deps.log.info({ chore, n }, 'upkeep'); })
      .catch((e: Error) => deps.log.warn({ chore, err: e.message }, 'upkeep chore failed; it runs again on its next turn'))
      .finally(() => busy.delete(chore));
  }));
  return {
    run,
    async stop() {
      for (const j of jobs) j?.cancel();
      await Promise.allSettled([...running]);
    },
  };
}
