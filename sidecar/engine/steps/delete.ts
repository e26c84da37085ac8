import { ProviderError } from '../../providers/types.js';
import { recordEvent } from '../../store/events.js';
import { removeLeased } from '../../store/snapshots.js';
import { event, finish, retryOrFail, type Job } from '../job.js';
import { checkOwnership } from '../ownership.js';

/** deleting → delete the snapshot at the provider, then drop our record. */
export async function deleteStep(job: Job): Promise<void> {
  const { row, provider, server, limits } = job;
  if (!row.provider_snapshot_id) {
    // Nothing was ever made at the provider: only our record goes.
    await removeRecord(job, 'Nothing to delete at the provider (the snapshot was never created there).');
    return;
  }
  try {
    const owner = await checkOwnership(provider, server, row, job.read ? await job.read : undefined);
    if (owner.kind === 'gone') { await removeRecord(job, `Already gone at ${provider.displayName}`); return; }
    if (owner.kind === 'foreign') {
      // Never deleted at the provider: the record stays, saying why, until the admin forgets it.
      if (await finish(job, { next_attempt_at: null, last_error: owner.sentence.slice(0, 1000) }, 'delete_failed')) {
        await event(job, 'delete_refused', owner.sentence);
        job.onOutcome?.('delete_refused', provider.slug);
        job.onSettled?.(job.id);
      }
      return;
    }
    const r = await provider.delete(server, row.provider_snapshot_id);
    await removeRecord(job, r.alreadyGone ? `Already gone at ${provider.displayName}` : `Deleted at ${provider.displayName}`);
  } catch (e) {
    if (e instanceof ProviderError && e.code === 'unsupported') {
      await removeRecord(job, `${e.message} Only our record was removed; the provider copy stays.`);
      return;
    }
    const final = await retryOrFail(job, e, limits.deleteAttempts, 'delete');
    if (final && await finish(job, { next_attempt_at: null, last_error: final.slice(0, 1000) }, 'delete_failed')) {
      await event(job, 'delete_failed', final);
      job.onOutcome?.('delete_failed', provider.slug);
      job.onSettled?.(job.id);
    }
  }
}

async function removeRecord(job: Job, detail: string): Promise<void> {
  const now = await job.clock.now(job.db);
  // Our record leaves the list; the audit log keeps the story.
  if (!(await removeLeased(job.db, job))) return;
  const { row } = job;
  await recordEvent(job.db, { snapshotId: job.id, serverId: Number(row.server_id), scheduleId: row.schedule_id === null ? null : Number(row.schedule_id), actor: 'scheduler', action: 'deleted', detail: `${detail} (${row.name}, provider id ${row.provider_snapshot_id ?? 'none'})`, at: now });
  job.onOutcome?.('deleted', job.provider.slug);
  job.onSettled?.(job.id);
}
