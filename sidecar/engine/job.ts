/**
 * One claimed snapshot row on its way through a step (steps/create, poll, delete): the row as
 * claimed, our lease token, a provider that exists, and the outcomes every step shares.
 * Every outcome is written only while we still hold the lease (`lease_owner = token`).
 */
import { backoffMs } from '../backoff.js';
import type { Clock, DB } from '../db.js';
import type { Logger } from '../log.js';
import { ProviderError, type Provider, type ProviderSnapshot, type ServerRef, type SnapshotFacts, type SnapshotMarker } from '../providers/types.js';
import type { SnapshotStatus } from '../schema.js';
import { gaveUpSentence, unexpectedFailure } from '../providers/sentences.js';
import { recordEvent } from '../store/events.js';
import { finishLeased, type LeasedValues, type SnapshotRow } from '../store/snapshots.js';
import { applyRetention } from './apply-retention.js';

export interface WorkLimits {
  createAttempts: number;
  deleteAttempts: number;
  /** A snapshot still `creating` after this long is declared failed. */
  createTimeoutMs: number;
  pollBaseMs: number;
  pollMaxMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_LIMITS: WorkLimits = {
  createAttempts: 6,
  deleteAttempts: 8,
  createTimeoutMs: 6 * 3600_000,
  pollBaseMs: 1000,
  pollMaxMs: 60_000,
  backoffBaseMs: 2000,
  backoffMaxMs: 15 * 60_000,
};

export interface JobDeps {
  db: DB;
  clock: Clock;
  log: Logger;
  leaseMs: number;
  limits: WorkLimits;
  /** Called with a snapshot id when it reaches a resting state (or leaves the list). */
  onSettled?: (id: number) => void;
  onOutcome?: (kind: string, provider: string) => void;
  /** How long this row's provider typically takes to make a snapshot (poll-timing.ts); undefined: not learnt yet. */
  typicalMs?: number;
}

/** A claimed row and our lease on it. */
export interface LeasedRow extends JobDeps {
  row: SnapshotRow;
  id: number;
  token: string;
}

/** A claimed row whose provider is configured: what every step works with. */
export interface Job extends LeasedRow {
  provider: Provider;
  server: ServerRef;
  marker: SnapshotMarker;
  /** The provider's facts from this round's batched list (batch-reads.ts); undefined: read it yourself. */
  read?: Promise<SnapshotFacts | undefined>;
}

/** Store a step's outcome (and, with `to`, a status change the lifecycle allows) while we hold the lease. */
export async function finish(job: LeasedRow, values: LeasedValues, to?: SnapshotStatus): Promise<boolean> {
  const ok = await finishLeased(job.db, { id: job.id, token: job.token, from: job.row.status }, values, await job.clock.now(job.db), to);
  if (!ok) job.log.warn({ snapshotId: job.id }, 'lease lost before the result could be stored; another sidecar will redo this step');
  return ok;
}

export async function event(job: Pick<Job, 'db' | 'clock' | 'row' | 'id'>, action: string, detail: string | null, actor = 'scheduler'): Promise<void> {
  const { row } = job;
  await recordEvent(job.db, { snapshotId: job.id, serverId: Number(row.server_id), scheduleId: row.schedule_id === null ? null : Number(row.schedule_id), actor, action, detail, at: await job.clock.now(job.db) });
}

export async function later(job: Pick<Job, 'db' | 'clock'>, ms: number): Promise<Date> {
  return new Date((await job.clock.now(job.db)).getTime() + ms);
}

export async function settleAvailable(job: Job, snap: ProviderSnapshot, actor = 'scheduler'): Promise<boolean> {
  const { db, row } = job;
  const now = await job.clock.now(db);
  if (!(await finish(job, {
    // Never '' (an adapter's "no id yet"): keep the id we already had, or none.
    provider_snapshot_id: snap.providerSnapshotId || row.provider_snapshot_id || null, size_bytes: snap.sizeBytes ?? row.size_bytes ?? null,
    available_at: now, next_attempt_at: null, last_error: null, attempts: 0,
    // A snapshot the host took is listed under the provider's name, as in its dashboard.
    ...(row.origin === 'panel' && snap.name ? { name: snap.name.slice(0, 190) } : {}),
  }, 'available'))) return false;
  await event(job, 'available', `Provider id ${snap.providerSnapshotId}`, actor);
  job.onOutcome?.('available', job.provider.slug);
  job.onSettled?.(job.id);
  if (row.origin === 'scheduled' && row.schedule_id !== null) {
    try {
      await applyRetention(db, now, Number(row.server_id), Number(row.schedule_id));
    } catch (e) {
      job.log.error({ snapshotId: job.id, err: (e as Error).message }, 'retention could not run; it will run after the next snapshot');
    }
  }
  return true;
}

export async function fail(job: Job, reason: string, action = 'failed'): Promise<void> {
  if (await finish(job, { next_attempt_at: null, last_error: reason.slice(0, 1000) }, 'failed')) {
    await event(job, action, reason);
    job.onOutcome?.('failed', job.provider.slug);
    job.onSettled?.(job.id);
  }
}

/**
 * Schedule another attempt when the error allows one (false), or return the sentence to
 * store on the row when the engine gives up.
 */
export async function retryOrFail(job: Job, e: unknown, attemptsAllowed: number, whatFailed: 'create' | 'status' | 'delete'): Promise<string | false> {
  const { row, provider, limits } = job;
  const error = e instanceof ProviderError ? e : unexpectedFailure(provider.displayName, e);
  const sentence = error.message;
  // A garbled success answer to a status read (a body cut short on the way) changed nothing
  // at the provider: ask again, bounded like any retry, rather than mark failed a snapshot the
  // provider may well finish. A 404 without the provider's body (wrong apiUrl) still fails at once.
  const garbledRead = whatFailed === 'status' && e instanceof ProviderError && e.code === 'bad_response' && e.status !== null && e.status < 300;
  const retryable = !(e instanceof ProviderError) || e.retryable || garbledRead;
  if (!(e instanceof ProviderError)) job.log.warn({ snapshotId: job.id, err: (e as Error)?.message?.slice(0, 300) }, `${whatFailed}: unexpected error`);
  // Waiting for our own request budget (no HTTP status: nothing was sent) is not a failed
  // attempt: reschedule for when the budget has room, without using up the retries.
  // The same for a provider that is busy with work that is not a failure (params.wait), as long
  // as the snapshot is younger than the create timeout: a stuck server still ends failed.
  const waiting = e instanceof ProviderError && e.params.wait === true && e.retryAfterMs !== null
    && (await job.clock.now(job.db)).getTime() - row.created_at.getTime() < limits.createTimeoutMs;
  if (e instanceof ProviderError && e.retryAfterMs && (waiting || (e.code === 'rate_limited' && e.status === null))) {
    await finish(job, { next_attempt_at: await later(job, e.retryAfterMs), attempts: Math.max(0, row.attempts - 1), last_error: sentence.slice(0, 1000) });
    job.onOutcome?.('deferred', provider.slug);
    return false;
  }
  if (retryable && row.attempts < attemptsAllowed) {
    const wait = e instanceof ProviderError && e.retryAfterMs ? e.retryAfterMs : backoffMs(row.attempts, limits.backoffBaseMs, limits.backoffMaxMs);
    await finish(job, { next_attempt_at: await later(job, wait), last_error: `${sentence} (attempt ${row.attempts} of ${attemptsAllowed}; retrying)`.slice(0, 1000) });
    job.onOutcome?.('retry', provider.slug);
    return false;
  }
  return retryable ? gaveUpSentence(error, row.attempts, whatFailed) : sentence;
}
