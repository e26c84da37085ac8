/**
 * The schedule engine: on every tick it (1) dispatches due slots into snapshot rows and
 * (2) claims snapshot work and runs it against the providers, a bounded number at a time.
 * It holds no state that matters between ticks: everything is in the database, so any number
 * of sidecars can run it side by side and a crash loses nothing (docs/architecture.md, "The engine's promises").
 */
import { EventEmitter } from 'node:events';
import type { Clock, DB } from '../db.js';
import { knownProviders, type Host } from '../host.js';
import type { Logger } from '../log.js';
import type { Provider } from '../providers/types.js';
import { nextSlotAt } from '../store/assignments.js';
import { schedulesWithMaxAge } from '../store/schedules.js';
import { claimDue, nextWorkAt, recentCompletionTimes, releaseLeases, serversWithAgedSnapshots } from '../store/snapshots.js';
import { applyRetention } from './apply-retention.js';
import { PAGE, ReadBatcher } from './batch-reads.js';
import { dispatchDue } from './dispatch.js';
import { typicalTimes } from './poll-timing.js';
import { reconcileDue } from './reconcile.js';
import { processRow, type WorkLimits } from './work.js';

/** The longest one tick dispatches before it lets the work claimed so far start. */
const DISPATCH_SLICE_MS = 1000;

/**
 * Status reads that go in lists (four pages) worked on at once, beside `concurrency`, and how
 * often they are looked for behind a backlog of older work: up to 400 a second, more than a
 * budget-bound burst creates (the benchmark's 100/s and its initial burst), so they keep up.
 */
const LISTED_READS = 4 * PAGE;
const READ_SCAN_MS = 500;

export interface EngineDeps {
  db: DB;
  clock: Clock;
  log: Logger;
  host: Host;
  providers: ReadonlyMap<string, Provider>;
  /** Why slugs without an adapter cannot run (missing credentials, unsupported), for the assignments' problem. */
  providerProblems?: ReadonlyMap<string, string>;
  instanceId: string;
  tickMs: number;
  leaseMs: number;
  /** Snapshots worked on at once by this sidecar. */
  concurrency?: number;
  dispatchBatch?: number;
  limits?: Partial<WorkLimits>;
  /** How often each provider's marked snapshots are reconciled with our records (SS_RECONCILE_MINUTES); 0 = never. */
  reconcileMs?: number;
}

export interface EngineStats {
  ticks: number;
  dispatched: number;
  claimed: number;
  outcomes: Record<string, number>;
  lastTickAt: Date | null;
  lastError: string | null;
}

/**
 * Events, each with a listener: `settled` ({ id }) when a snapshot reaches a resting state or
 * leaves the list (Trash waits for it), `outcome` (kind) per step outcome (the metrics).
 */
export class Engine extends EventEmitter {
  readonly stats: EngineStats = { ticks: 0, dispatched: 0, claimed: 0, outcomes: {}, lastTickAt: null, lastError: null };
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopping = false;
  #ticking: Promise<void> | null = null;
  #wakeRequested = false;
  readonly #inFlight = new Map<number, { token: string; done: Promise<void>; listed: boolean }>();
  /** Of those, status reads that go in lists (batch-reads.ts): they have room of their own. */
  #listedInFlight = 0;
  #lastReadScan = Number.NEGATIVE_INFINITY;
  readonly #tokens = new Set<string>();
  /** Status reads coalesced into list requests per provider account (batch-reads.ts). */
  readonly #reads = new ReadBatcher();

  constructor(private readonly deps: EngineDeps) {
    super();
    this.setMaxListeners(0);
  }

  get running(): boolean { return this.#running && !this.#stopping; }
  get inFlight(): number { return this.#inFlight.size; }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#schedule(0);
  }

  /** Ask for a tick now (a manual snapshot or a trash was just queued). */
  wake(): void {
    if (!this.running) return;
    if (this.#ticking) { this.#wakeRequested = true; return; }
    this.#schedule(0);
  }

  #schedule(ms: number) {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { void this.#loop(); }, ms);
    this.#timer.unref?.();
  }

  async #loop() {
    this.#timer = null;
    if (!this.running) return;
    this.#ticking = this.tick().then(() => undefined, () => undefined);
    await this.#ticking;
    this.#ticking = null;
    if (!this.running) return;
    const again = this.#wakeRequested;
    this.#wakeRequested = false;
    // Full: finishing work calls wake(), so there is no point polling for more until then.
    const full = this.#inFlight.size - this.#listedInFlight >= (this.deps.concurrency ?? 16);
    this.#schedule(again ? 0 : full ? this.deps.tickMs : await this.#msUntilNextDue());
  }

  /**
   * Sleep until the next slot or piece of work is due, but never longer than tickMs: a
   * snapshot due at 03:00:00.000 is dispatched within milliseconds, not up to a tick late.
   * Both MINs read the first entry of an index (due_idx, work_idx).
   */
  async #msUntilNextDue(): Promise<number> {
    const { db, clock, tickMs } = this.deps;
    try {
      const times = (await Promise.all([nextSlotAt(db), nextWorkAt(db)])).filter((x): x is Date => x !== null).map((d) => d.getTime());
      if (times.length === 0) return tickMs;
      const now = (await clock.now(db)).getTime();
      return Math.max(0, Math.min(tickMs, Math.min(...times) - now + 5));
    } catch {
      return tickMs;
    }
  }

  /** One round of dispatch + claim. Public so tests can drive the engine step by step. */
  async tick(): Promise<{ dispatched: number; claimed: number }> {
    const { db, clock, log } = this.deps;
    const batch = this.deps.dispatchBatch ?? 200;
    let dispatched = 0;
    let claimed = 0;
    try {
      const now = await clock.now(db);
      // Dispatch until nothing is due, bounded so one tick cannot starve the work queue: after
      // DISPATCH_SLICE_MS of a burst the work dispatched so far starts (a provider's budget
      // refills meanwhile, and a full bucket wastes its refill), and the next tick goes on at once.
      const started = Date.now();
      for (let i = 0; i < 50 && !this.#stopping; i++) {
        const r = await dispatchDue({ db, host: this.deps.host, knownProviders: knownProviders(this.deps.providers, this.deps.providerProblems), providerTypes: new Map([...this.deps.providers].map(([k, p]) => [k, p.type])) }, now, batch);
        dispatched += r.created;
        if (r.claimed < batch) break;
        if (Date.now() - started >= DISPATCH_SLICE_MS) { this.#wakeRequested = true; break; }
      }
      if (dispatched > 0) log.info({ dispatched }, 'scheduled snapshots requested');
      this.#reconcile(now);
      await this.#learnTypicalTimes(now);
      claimed = await this.#claimAndRun();
      this.#progress(dispatched, claimed);
      this.stats.lastError = null;
    } catch (e) {
      this.stats.lastError = (e as Error).message;
      log.error({ err: (e as Error).message }, 'engine tick failed; retrying on the next tick');
    }
    this.stats.ticks += 1;
    this.stats.dispatched += dispatched;
    this.stats.claimed += claimed;
    this.stats.lastTickAt = new Date();
    return { dispatched, claimed };
  }

  #lastProgress = 0;
  #sinceProgress = { dispatched: 0, claimed: 0 };

  /**
   * maxAgeDays must bite even when no new snapshot arrives (a disabled or failing schedule):
   * re-apply retention where an available scheduled snapshot is past its schedule's age limit.
   * Idempotent, so several sidecars doing it at once is harmless. sidecar/upkeep.ts runs it.
   */
  async sweepAgedRetention(now?: Date) {
    now ??= await this.deps.clock.now(this.deps.db);
    for (const s of await schedulesWithMaxAge(this.deps.db)) {
      const cutoff = new Date(now.getTime() - s.maxAgeDays * 86_400_000);
      for (const serverId of await serversWithAgedSnapshots(this.deps.db, s.id, cutoff)) await applyRetention(this.deps.db, now, serverId, s.id);
    }
  }

  #reconciling: Promise<void> | null = null;
  #lastReconcileCheck = Number.NEGATIVE_INFINITY;

  /**
   * Reconciliation (reconcile.ts) runs beside the ticks, never holding them up: a listing of
   * thousands of snapshots spends the account's request budget slowly. The database decides
   * whether a period is due, so a minute between checks is plenty.
   */
  #reconcile(now: Date) {
    const every = this.deps.reconcileMs ?? 60 * 60_000;
    if (every <= 0 || this.#reconciling || this.#stopping) return;
    if (now.getTime() - this.#lastReconcileCheck < Math.min(every, 60_000)) return;
    this.#lastReconcileCheck = now.getTime();
    const { db, clock, log, host, providers, instanceId } = this.deps;
    this.#reconciling = reconcileDue({ db, clock, log, host, providers, instanceId, everyMs: every })
      .then(() => undefined, (e: unknown) => { log.warn({ err: (e as Error).message }, 'reconciliation failed; it runs again next period'); })
      .finally(() => { this.#reconciling = null; });
  }

  #typical = new Map<string, number>();
  #typicalLearntAt = Number.NEGATIVE_INFINITY;

  /**
   * Each provider's typical time to make a snapshot, from our recent completions
   * (poll-timing.ts): when to read a new one first. Learnt again at most once a minute.
   */
  async #learnTypicalTimes(now: Date) {
    if (now.getTime() - this.#typicalLearntAt < 60_000) return;
    this.#typicalLearntAt = now.getTime();
    try {
      this.#typical = typicalTimes(await recentCompletionTimes(this.deps.db));
    } catch (e) {
      this.deps.log.warn({ err: (e as Error).message }, 'typical snapshot times could not be read; status reads keep the last ones');
    }
  }

  /** A progress line for long runs (a burst of due slots): at most one every 5 s while busy. */
  #progress(dispatched: number, claimed: number) {
    this.#sinceProgress.dispatched += dispatched;
    this.#sinceProgress.claimed += claimed;
    const now = Date.now();
    if (now - this.#lastProgress < 5000) return;
    if (this.#sinceProgress.dispatched + this.#sinceProgress.claimed > 0 || this.#inFlight.size > 0) {
      this.deps.log.info({ ...this.#sinceProgress, inFlight: this.#inFlight.size, outcomes: this.stats.outcomes }, 'progress');
    }
    this.#lastProgress = now;
    this.#sinceProgress = { dispatched: 0, claimed: 0 };
  }

  async #claimAndRun(): Promise<number> {
    if (this.#stopping) return 0;
    const { db, clock } = this.deps;
    const room = (this.deps.concurrency ?? 16) - (this.#inFlight.size - this.#listedInFlight);
    const listedRoom = LISTED_READS - this.#listedInFlight;
    if (room <= 0 && listedRoom <= 0) return 0;
    const now = await clock.now(db);
    const batching = new Set([...this.deps.providers].filter(([, p]) => p.describeMany).map(([slug]) => slug));
    // Listed reads are looked for beyond the oldest due work at most every READ_SCAN_MS (claimDue).
    const scan = listedRoom > 0 && Date.now() - this.#lastReadScan >= READ_SCAN_MS;
    if (scan) this.#lastReadScan = Date.now();
    const { token, rows } = await claimDue(db, now, this.deps.instanceId, this.deps.leaseMs, Math.max(0, room), { room: Math.max(0, listedRoom), batching, now, scan });
    if (rows.length === 0) return 0;
    this.#tokens.add(token);
    let remaining = rows.length;
    for (const row of rows) {
      const id = Number(row.id);
      const read = this.#reads.readFor(row, this.deps.providers);
      const listed = read !== undefined && row.status === 'creating';
      if (listed) this.#listedInFlight += 1;
      const done = processRow({
        db, clock, log: this.deps.log.child({ snapshotId: id }), providers: this.deps.providers, leaseMs: this.deps.leaseMs, limits: this.deps.limits,
        typicalMs: (slug) => this.#typical.get(slug),
        onSettled: (sid) => this.emit('settled', { id: sid }),
        onOutcome: (kind) => { this.stats.outcomes[kind] = (this.stats.outcomes[kind] ?? 0) + 1; this.emit('outcome', kind); },
      }, row, token, read).catch((e) => {
        this.deps.log.error({ snapshotId: id, err: (e as Error).message }, 'snapshot work failed; it will be retried after its lease');
      }).finally(() => {
        this.#inFlight.delete(id);
        if (listed) this.#listedInFlight -= 1;
        remaining -= 1;
        if (remaining === 0) this.#tokens.delete(token);
        // Work finished: there may be more (polls due soon, queued deletes).
        this.wake();
      });
      this.#inFlight.set(id, { token, done, listed });
    }
    return rows.length;
  }

  /** Wait until every snapshot this sidecar is working on is done (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#reconciling) {
      await Promise.all([...this.#inFlight.values()].map((f) => f.done));
      if (this.#reconciling) await this.#reconciling;
    }
  }

  /**
   * Graceful stop (SIGTERM): stop claiming, give work in flight `graceMs` to finish, then
   * release the leases of whatever is left so another sidecar takes it at once instead of
   * after the lease expires.
   */
  async stop(graceMs = 10_000): Promise<{ released: number }> {
    this.#stopping = true;
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = null; }
    if (this.#ticking) await this.#ticking;
    const drained = this.drain();
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((r) => { timeout = setTimeout(r, graceMs); })]);
    if (timeout) clearTimeout(timeout);
    let released = 0;
    try {
      released = await releaseLeases(this.deps.db, [...this.#tokens], await this.deps.clock.now(this.deps.db));
    } catch (e) {
      this.deps.log.error({ err: (e as Error).message }, 'could not release leases; they expire on their own');
    }
    this.#running = false;
    this.#stopping = false; // stopped, not stopping: a later start() or a test's tick() works again
    this.deps.log.info({ released }, 'engine stopped');
    return { released };
  }
}
