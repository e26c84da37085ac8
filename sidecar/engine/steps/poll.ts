import { fail, finish, later, retryOrFail, settleAvailable, type Job } from '../job.js';
import { nextReadMs } from '../poll-timing.js';

/** creating → follow the snapshot at the provider until it is available or failed. */
export async function pollStep(job: Job): Promise<void> {
  const { row, provider, server, marker, limits } = job;
  try {
    // A panel snapshot arrives with the host's id (DigitalOcean: an action id); the adapter
    // resolves it to the real snapshot until we know its id, then we follow it as usual.
    const resolve = row.origin === 'panel' && !row.provider_snapshot_id && row.pending_ref ? provider.resolvePanelSnapshotId : undefined;
    // This round's batched list may already have it (batch-reads.ts); otherwise one read of its own.
    const listed = job.read ? await job.read : undefined;
    const snap = listed ?? (resolve && row.pending_ref
      ? await resolve.call(provider, server, row.pending_ref)
      : await provider.status(server, { providerSnapshotId: row.provider_snapshot_id, pendingRef: row.pending_ref, marker }));
    if (snap.state === 'available') { await settleAvailable(job, snap); return; }
    if (snap.state === 'failed') { await fail(job, snap.reason ?? `${provider.displayName} reported the snapshot as failed.`); return; }
    if (snap.state === 'gone') { await fail(job, `${provider.displayName} no longer has this snapshot (it was removed outside the panel).`); return; }
    const now = await job.clock.now(job.db);
    if (now.getTime() - row.created_at.getTime() > limits.createTimeoutMs) {
      await fail(job, `${provider.displayName} did not finish the snapshot within ${Math.round(limits.createTimeoutMs / 3600_000)} hours; check it in the provider's dashboard.`);
      return;
    }
    // Read again after a share of the provider's typical time, at most pollMaxMs (poll-timing.ts).
    const wait = nextReadMs(limits, row.attempts, job.typicalMs);
    const idChanged = snap.providerSnapshotId && snap.providerSnapshotId !== row.provider_snapshot_id;
    await finish(job, { next_attempt_at: await later(job, wait), ...(idChanged ? { provider_snapshot_id: snap.providerSnapshotId } : {}) });
  } catch (e) {
    const final = await retryOrFail(job, e, limits.createAttempts * 2, 'status');
    if (final) await fail(job, final);
  }
}
