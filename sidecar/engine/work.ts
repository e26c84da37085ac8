/**
 * What the engine does with one claimed snapshot row, by status:
 *   requested → steps/create.ts: ask the provider to create it (or adopt what a crashed attempt made)
 *   creating  → steps/poll.ts: follow it to available / failed
 *   deleting  → steps/delete.ts: delete it at the provider, then drop our record
 * Every outcome is written only while we still hold the lease (`lease_owner = token`), and
 * every status change is one the lifecycle (lifecycle.ts) allows the engine.
 */
import type { Clock, DB } from '../db.js';
import type { Logger } from '../log.js';
import type { Provider, SnapshotFacts, SnapshotMarker } from '../providers/types.js';
import { markerName } from '../snapshots.js';
import { renewLease, type SnapshotRow } from '../store/snapshots.js';
import { DEFAULT_LIMITS, event, finish, later, type Job, type LeasedRow, type WorkLimits } from './job.js';
import { createStep } from './steps/create.js';
import { deleteStep } from './steps/delete.js';
import { pollStep } from './steps/poll.js';

export type { WorkLimits } from './job.js';

export interface WorkDeps {
  db: DB;
  clock: Clock;
  log: Logger;
  providers: ReadonlyMap<string, Provider>;
  leaseMs: number;
  /** Called with a snapshot id when it reaches a resting state or leaves the list. */
  onSettled?: (id: number) => void;
  onOutcome?: (kind: string, provider: string) => void;
  limits?: Partial<WorkLimits>;
  /** A provider's typical time to make a snapshot, when learnt (poll-timing.ts). */
  typicalMs?: (provider: string) => number | undefined;
}

const STEPS: Partial<Record<SnapshotRow['status'], (job: Job) => Promise<void>>> = {
  requested: createStep,
  creating: pollStep,
  deleting: deleteStep,
};

export async function processRow(deps: WorkDeps, row: SnapshotRow, token: string, read?: Promise<SnapshotFacts | undefined>): Promise<void> {
  const base: LeasedRow = {
    db: deps.db, clock: deps.clock, log: deps.log, leaseMs: deps.leaseMs, limits: { ...DEFAULT_LIMITS, ...deps.limits },
    onSettled: deps.onSettled, onOutcome: deps.onOutcome, row, id: Number(row.id), token,
    typicalMs: row.provider ? deps.typicalMs?.(row.provider) : undefined,
  };
  const provider = row.provider ? deps.providers.get(row.provider) : undefined;
  if (!provider) {
    await failUnconfigured(base);
    return;
  }
  const step = STEPS[row.status];
  if (!step) {
    await finish(base, { next_attempt_at: null }); // nothing owed in this state
    return;
  }
  const marker: SnapshotMarker = { snapshotId: base.id, name: row.name || markerName(base.id, row.server_name, row.slot_at ?? row.created_at) };
  // Dispatch copied the schedule's wish onto the row; a row made before that column existed
  // (or whose schedule no longer said) keeps the safe default.
  if (row.schedule_id !== null) marker.options = { noReboot: row.no_reboot === null ? true : row.no_reboot === 1 };
  const job: Job = {
    ...base, provider, marker, read,
    server: { serverId: Number(row.server_id), instanceId: row.instance_id ?? '', region: row.region ?? null, name: row.server_name },
  };

  // Long provider calls renew the lease instead of holding a long one; a renewal that finds
  // the lease gone changes nothing here, because every write checks the lease itself.
  const timer = setInterval(() => {
    void (async () => {
      try {
        await renewLease(deps.db, job.id, token, await later(job, deps.leaseMs));
      } catch { /* the next renewal or the finish will tell */ }
    })();
  }, Math.max(200, Math.floor(deps.leaseMs / 3)));
  timer.unref();
  try {
    await step(job);
  } finally {
    clearInterval(timer);
  }
}

/** The row's provider has no adapter (no credentials): nothing can be done until an admin adds them. */
async function failUnconfigured(job: LeasedRow): Promise<void> {
  const reason = `Provider "${job.row.provider ?? '(none)'}" has no usable credentials in WPCloudDeploy's settings or the providers file (SS_PROVIDERS_FILE); add them and restart the sidecar.`;
  const to = job.row.status === 'deleting' ? 'delete_failed' : 'failed';
  if (await finish(job, { next_attempt_at: null, last_error: reason }, to)) {
    await event(job, to, reason);
    job.onSettled?.(job.id);
  }
}
