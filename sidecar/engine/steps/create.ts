/**
 * requested → ask the provider to create the snapshot, or adopt what a crashed attempt made.
 */
import { ProviderError } from '../../providers/types.js';
import { recordEvents } from '../../store/events.js';
import { leaseView, nameLeased, supersedeAvailable } from '../../store/snapshots.js';
import { event, fail, finish, later, retryOrFail, settleAvailable, type Job } from '../job.js';
import { firstReadMs } from '../poll-timing.js';

export async function createStep(job: Job): Promise<void> {
  const { row, provider, server, marker, limits } = job;
  if (!row.name) {
    if (!(await nameLeased(job.db, job, marker.name))) return;
  }
  try {
    // A previous attempt may have reached the provider before it crashed or lost its lease:
    // look for our marker first, so a retry adopts instead of making a second snapshot.
    if (row.attempts > 1) {
      const found = await provider.findByMarker(server, marker);
      if (found && found.state !== 'gone') {
        await event(job, 'adopted', `Found snapshot ${found.providerSnapshotId} from an interrupted attempt`);
        // The interrupted create already replaced the previous snapshot where the provider
        // keeps one per server (Linode); findByMarker cannot say so, the capability does.
        if (provider.capabilities.slotsPerServer === 1) await supersedeOlder(job);
        if (found.state === 'available') { await settleAvailable(job, found); return; }
        if (found.state === 'failed') { await fail(job, found.reason ?? `${provider.displayName} reported the snapshot as failed.`); return; }
        // The interrupted attempt's create was never counted (it did not get its row to creating): count it here, once.
        if (await finish(job, { provider_snapshot_id: found.providerSnapshotId || null, next_attempt_at: await later(job, limits.pollBaseMs), attempts: 0, last_error: null }, 'creating')) {
          job.onOutcome?.('created', provider.slug);
        }
        return;
      }
    }
    const result = await provider.create(server, marker);
    if (result.supersedesPrevious) await supersedeOlder(job);
    if (result.state === 'available' && result.providerSnapshotId) {
      if (!(await settleAvailable(job, { providerSnapshotId: result.providerSnapshotId, state: 'available', sizeBytes: result.sizeBytes ?? null }))) await dropIfDuplicate(job, result.providerSnapshotId);
      return;
    }
    if (result.state === 'failed') { await fail(job, `${provider.displayName} reported the snapshot as failed right away.`); return; }
    if (await finish(job, {
      provider_snapshot_id: result.providerSnapshotId || null, pending_ref: result.pendingRef ?? null,
      // The first status read after about the time such a snapshot takes (poll-timing.ts).
      size_bytes: result.sizeBytes ?? null, next_attempt_at: await later(job, firstReadMs(limits, job.typicalMs)), attempts: 0, last_error: null,
    }, 'creating')) {
      await event(job, 'creating', result.providerSnapshotId ? `Provider id ${result.providerSnapshotId}` : 'Accepted by the provider');
      job.onOutcome?.('created', provider.slug);
    } else {
      await dropIfDuplicate(job, result.providerSnapshotId);
    }
  } catch (e) {
    const final = await retryOrFail(job, e, limits.createAttempts, 'create');
    if (final) await fail(job, final);
  }
}

/**
 * Our create reached the provider after our lease had run out (the database was away for
 * longer than the lease while the call was on its way), and another attempt took the row
 * over without finding our snapshot yet. If that attempt stored a different snapshot, ours
 * is a second copy no record points to: delete it at the provider. While another attempt
 * holds the row without a provider id, it may still adopt ours by its marker, so wait for it
 * (at most two leases); a row nobody holds keeps ours for the next attempt to adopt.
 */
async function dropIfDuplicate(job: Job, mine: string | null | undefined): Promise<void> {
  if (!mine) return;
  const { provider, server, log, id } = job;
  for (let i = 0; i < 40; i++) {
    const now = await leaseView(job.db, id);
    if (!now || now.provider_snapshot_id === mine) return;
    if (now.provider_snapshot_id) {
      try {
        await provider.delete(server, mine);
        await event(job, 'duplicate_deleted', `A create that outlived its lease made a second snapshot ${mine}; it was deleted at the provider (this record keeps ${now.provider_snapshot_id}).`);
      } catch (e) {
        const why = e instanceof ProviderError ? e.message : 'the provider could not be reached';
        log.warn({ snapshotId: id, providerSnapshotId: mine }, 'could not delete a duplicate made by a create that outlived its lease');
        await event(job, 'duplicate_left', `A create that outlived its lease made a second snapshot ${mine}, and deleting it failed (${why}); delete it in the provider's dashboard.`);
      }
      return;
    }
    if (now.status !== 'requested' || now.lease_owner === null) break;
    await new Promise((r) => setTimeout(r, Math.max(50, Math.floor(job.leaseMs / 20))));
  }
  log.warn({ snapshotId: id, providerSnapshotId: mine }, 'a create outlived its lease and no other attempt stored a snapshot; it is left for adoption by its marker');
}

/** The provider dropped this server's earlier snapshots (single slot): keep them as history. */
async function supersedeOlder(job: Job): Promise<void> {
  const now = await job.clock.now(job.db);
  const serverId = Number(job.row.server_id);
  const older = await supersedeAvailable(job.db, { serverId, provider: job.provider.slug, exceptId: job.id }, now);
  await recordEvents(job.db, older.map((olderId) => ({
    snapshotId: olderId, serverId, actor: 'scheduler', action: 'superseded', detail: `${job.provider.displayName} keeps only the latest snapshot; replaced by snapshot ${job.id}`, at: now,
  })));
}
