import type { Clock, DB } from '../db.js';
import type { Logger } from '../log.js';
import { ProviderError, type Provider, type ProviderSnapshot, type ServerRef, type SnapshotMarker } from '../providers/types.js';
import { markerName, type SnapshotRow } from '../snapshots.js';
import type { SnapshotsTable } from '../schema.js';
import { recordEvent } from '../store/events.js';
import { applyRetention } from './apply-retention.js';
import { renewLease } from './claim.js';
import type { Updateable } from 'kysely';

/**
 * What the engine does with one claimed snapshot row, by status:
 *   requested → ask the provider to create it (or adopt what a crashed attempt made)
 *   creating  → follow it to available / failed
 *   deleting  → delete it at the provider, then drop our record
 * Every outcome is written only while we still hold the lease (`lease_owner = token`).
 */
export interface WorkDeps {
  db: DB;
  clock: Clock;
  log: Logger;
  providers: ReadonlyMap<string, Provider>;
  leaseMs: number;
  /** Called with a snapshot id when it reaches a resting state (available, failed, deleted, …). */
  onSettled?: (id: number, status: string) => void;
  onOutcome?: (kind: string, provider: string) => void;
  limits?: Partial<WorkLimits>;
}

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

const DEFAULT_LIMITS: WorkLimits = {
  createAttempts: 6,
  deleteAttempts: 8,
  createTimeoutMs: 6 * 3600_000,
  pollBaseMs: 1000,
  pollMaxMs: 60_000,
  backoffBaseMs: 2000,
  backoffMaxMs: 15 * 60_000,
};

/** Capped exponential backoff with full jitter (AWS architecture blog's recommendation). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(baseMs / 2, Math.floor(random() * ceiling));
}

function errorSentence(e: unknown, providerName: string): string {
  if (e instanceof ProviderError) return e.message;
  return `${providerName} could not be reached or answered unexpectedly; we will keep trying.`;
}

/** What the admin can do once the engine stops retrying, by the step that failed. */
const AFTER_GIVING_UP: Record<'create' | 'status' | 'delete', string> = {
  create: 'take a new snapshot once the provider works again',
  status: "check the snapshot in the provider's dashboard",
  delete: 'use Trash again later, or Delete Record to remove only our record',
};

/**
 * A retryable error's sentence promises another try ("…; it will be tried again later.").
 * Once the engine gives up, that promise is false on a `failed` / `delete_failed` row: drop
 * it and say how many attempts were made and what to do instead.
 */
export function gaveUpSentence(sentence: string, attempts: number, step: keyof typeof AFTER_GIVING_UP): string {
  const base = sentence.replace(/;\s*(?:it|they|the request|the snapshot) will be tried again[^.]*\.$|;\s*we will keep trying\.$/i, '.');
  return `${base} Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${AFTER_GIVING_UP[step]}.`;
}

export async function processRow(deps: WorkDeps, row: SnapshotRow, token: string): Promise<void> {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const { db, clock, log } = deps;
  const id = Number(row.id);
  const provider = row.provider ? deps.providers.get(row.provider) : undefined;

  const finish = async (values: Updateable<SnapshotsTable>): Promise<boolean> => {
    const now = await clock.now(db);
    const res = await db.updateTable('ss_snapshots').set({ ...values, lease_owner: null, updated_at: now })
      .where('id', '=', id).where('lease_owner', '=', token).executeTakeFirst();
    const ok = Number(res.numUpdatedRows) > 0;
    if (!ok) log.warn({ snapshotId: id }, 'lease lost before the result could be stored; another sidecar will redo this step');
    return ok;
  };
  const event = async (action: string, detail: string | null, actor = 'scheduler') => {
    await recordEvent(db, { snapshotId: id, serverId: Number(row.server_id), scheduleId: row.schedule_id === null ? null : Number(row.schedule_id), actor, action, detail, at: await clock.now(db) });
  };
  const later = async (ms: number) => new Date((await clock.now(db)).getTime() + ms);

  if (!provider) {
    const reason = `Provider "${row.provider ?? '(none)'}" is not configured in the providers file (SS_PROVIDERS_FILE); add it and restart the sidecar.`;
    if (row.status === 'deleting') {
      if (await finish({ status: 'delete_failed', next_attempt_at: null, last_error: reason })) { await event('delete_failed', reason); deps.onSettled?.(id, 'delete_failed'); }
    } else if (await finish({ status: 'failed', next_attempt_at: null, last_error: reason })) {
      await event('failed', reason); deps.onSettled?.(id, 'failed');
    }
    return;
  }

  const server: ServerRef = { serverId: Number(row.server_id), instanceId: row.instance_id ?? '', region: null, name: row.server_name };
  const marker: SnapshotMarker = { snapshotId: id, name: row.name || markerName(id, row.server_name, row.slot_at ?? row.created_at) };
  if (row.schedule_id !== null) {
    const s = await db.selectFrom('ss_schedules').select('no_reboot').where('id', '=', Number(row.schedule_id)).executeTakeFirst();
    marker.options = { noReboot: s ? s.no_reboot === 1 : true };
  }

  // Long provider calls renew the lease instead of holding a long one (DESIGN.md).
  const renewEvery = Math.max(200, Math.floor(deps.leaseMs / 3));
  let lost = false;
  const timer = setInterval(() => {
    void (async () => {
      try {
        const ok = await renewLease(db, id, token, await later(deps.leaseMs));
        if (!ok) lost = true;
      } catch { /* the next renewal or the finish will tell */ }
    })();
  }, renewEvery);
  timer.unref();

  try {
    if (row.status === 'requested') await doCreate();
    else if (row.status === 'creating') await doPoll();
    else if (row.status === 'deleting') await doDelete();
    else await finish({ next_attempt_at: null }); // nothing owed in this state
  } finally {
    clearInterval(timer);
  }
  void lost;

  async function settleAvailable(snap: ProviderSnapshot, actor = 'scheduler'): Promise<boolean> {
    const now = await clock.now(db);
    if (!(await finish({
      // Never '' (an adapter's "no id yet"): keep the id we already had, or none.
      status: 'available', provider_snapshot_id: snap.providerSnapshotId || row.provider_snapshot_id || null, size_bytes: snap.sizeBytes ?? row.size_bytes ?? null,
      available_at: now, next_attempt_at: null, last_error: null, attempts: 0,
    }))) return false;
    await event('available', `Provider id ${snap.providerSnapshotId}`, actor);
    deps.onOutcome?.('available', provider!.slug);
    deps.onSettled?.(id, 'available');
    if (row.origin === 'scheduled' && row.schedule_id !== null) {
      try {
        await applyRetention(db, now, Number(row.server_id), Number(row.schedule_id));
      } catch (e) {
        log.error({ snapshotId: id, err: (e as Error).message }, 'retention could not run; it will run after the next snapshot');
      }
    }
    return true;
  }

  async function fail(reason: string, action = 'failed') {
    if (await finish({ status: 'failed', next_attempt_at: null, last_error: reason.slice(0, 1000) })) {
      await event(action, reason);
      deps.onOutcome?.('failed', provider!.slug);
      deps.onSettled?.(id, 'failed');
    }
  }

  async function retryOrFail(e: unknown, attemptsAllowed: number, whatFailed: 'create' | 'status' | 'delete') {
    const sentence = errorSentence(e, provider!.displayName);
    // A garbled success answer to a status read (a body cut short on the way) changed nothing
    // at the provider: ask again, bounded like any retry, rather than mark failed a snapshot the
    // provider may well finish. A 404 without the provider's body (wrong apiUrl) still fails at once.
    const garbledRead = whatFailed === 'status' && e instanceof ProviderError && e.code === 'bad_response' && e.status !== null && e.status < 300;
    const retryable = !(e instanceof ProviderError) || e.retryable || garbledRead;
    if (!(e instanceof ProviderError)) log.warn({ snapshotId: id, err: (e as Error)?.message?.slice(0, 300) }, `${whatFailed}: unexpected error`);
    // Waiting for our own request budget (no HTTP status: nothing was sent) is not a failed
    // attempt: reschedule for when the budget has room, without using up the retries.
    if (e instanceof ProviderError && e.code === 'rate_limited' && e.status === null && e.retryAfterMs) {
      await finish({ next_attempt_at: await later(e.retryAfterMs), attempts: Math.max(0, row.attempts - 1), last_error: sentence.slice(0, 1000) });
      deps.onOutcome?.('deferred', provider!.slug);
      return false;
    }
    if (retryable && row.attempts < attemptsAllowed) {
      const wait = e instanceof ProviderError && e.retryAfterMs ? e.retryAfterMs : backoffMs(row.attempts, limits.backoffBaseMs, limits.backoffMaxMs);
      await finish({ next_attempt_at: await later(wait), last_error: `${sentence} (attempt ${row.attempts} of ${attemptsAllowed}; retrying)`.slice(0, 1000) });
      deps.onOutcome?.('retry', provider!.slug);
      return false;
    }
    return retryable ? gaveUpSentence(sentence, row.attempts, whatFailed) : sentence;
  }

  async function doCreate() {
    if (!row.name) {
      const ok = await db.updateTable('ss_snapshots').set({ name: marker.name }).where('id', '=', id).where('lease_owner', '=', token).executeTakeFirst();
      if (Number(ok.numUpdatedRows) === 0) return;
    }
    try {
      // A previous attempt may have reached the provider before it crashed or lost its lease:
      // look for our marker first, so a retry adopts instead of making a second snapshot.
      if (row.attempts > 1) {
        const found = await provider!.findByMarker(server, marker);
        if (found && found.state !== 'gone') {
          await event('adopted', `Found snapshot ${found.providerSnapshotId} from an interrupted attempt`);
          // The interrupted create already replaced the previous snapshot where the provider
          // keeps one per server (Linode); findByMarker cannot say so, the capability does.
          if (provider!.capabilities.slotsPerServer === 1) await supersedeOlder();
          if (found.state === 'available') return await settleAvailable(found);
          if (found.state === 'failed') return await fail(found.reason ?? `${provider!.displayName} reported the snapshot as failed.`);
          await finish({ status: 'creating', provider_snapshot_id: found.providerSnapshotId || null, next_attempt_at: await later(limits.pollBaseMs), attempts: 0, last_error: null });
          return;
        }
      }
      const result = await provider!.create(server, marker);
      if (result.supersedesPrevious) await supersedeOlder();
      if (result.state === 'available' && result.providerSnapshotId) {
        if (!(await settleAvailable({ providerSnapshotId: result.providerSnapshotId, state: 'available', sizeBytes: result.sizeBytes ?? null }))) await dropIfDuplicate(result.providerSnapshotId);
        return;
      }
      if (result.state === 'failed') return await fail(`${provider!.displayName} reported the snapshot as failed right away.`);
      if (await finish({
        status: 'creating', provider_snapshot_id: result.providerSnapshotId || null, pending_ref: result.pendingRef ?? null,
        size_bytes: result.sizeBytes ?? null, next_attempt_at: await later(limits.pollBaseMs), attempts: 0, last_error: null,
      })) {
        await event('creating', result.providerSnapshotId ? `Provider id ${result.providerSnapshotId}` : 'Accepted by the provider');
        deps.onOutcome?.('created', provider!.slug);
      } else {
        await dropIfDuplicate(result.providerSnapshotId);
      }
    } catch (e) {
      const final = await retryOrFail(e, limits.createAttempts, 'create');
      if (final) await fail(final);
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
  async function dropIfDuplicate(mine: string | null | undefined) {
    if (!mine) return;
    for (let i = 0; i < 40; i++) {
      const now = await db.selectFrom('ss_snapshots').select(['status', 'provider_snapshot_id', 'lease_owner']).where('id', '=', id).executeTakeFirst();
      if (!now || now.provider_snapshot_id === mine) return;
      if (now.provider_snapshot_id) {
        try {
          await provider!.delete(server, mine);
          await event('duplicate_deleted', `A create that outlived its lease made a second snapshot ${mine}; it was deleted at the provider (this record keeps ${now.provider_snapshot_id}).`);
        } catch (e) {
          const why = e instanceof ProviderError ? e.message : 'the provider could not be reached';
          log.warn({ snapshotId: id, providerSnapshotId: mine }, 'could not delete a duplicate made by a create that outlived its lease');
          await event('duplicate_left', `A create that outlived its lease made a second snapshot ${mine}, and deleting it failed (${why}); delete it in the provider's dashboard.`);
        }
        return;
      }
      if (now.status !== 'requested' || now.lease_owner === null) break;
      await new Promise((r) => setTimeout(r, Math.max(50, Math.floor(deps.leaseMs / 20))));
    }
    log.warn({ snapshotId: id, providerSnapshotId: mine }, 'a create outlived its lease and no other attempt stored a snapshot; it is left for adoption by its marker');
  }

  /** The provider dropped this server's earlier snapshots (single slot): keep them as history. */
  async function supersedeOlder() {
    const now = await clock.now(db);
    const older = await db.selectFrom('ss_snapshots').select('id').where('server_id', '=', Number(row.server_id))
      .where('provider', '=', provider!.slug).where('id', '<>', id).where('status', '=', 'available').execute();
    if (older.length === 0) return;
    await db.updateTable('ss_snapshots').set({ status: 'superseded', updated_at: now }).where('id', 'in', older.map((o) => Number(o.id))).where('status', '=', 'available').execute();
    for (const o of older) {
      await recordEvent(db, { snapshotId: Number(o.id), serverId: Number(row.server_id), actor: 'scheduler', action: 'superseded', detail: `${provider!.displayName} keeps only the latest snapshot; replaced by snapshot ${id}`, at: now });
    }
  }

  async function doPoll() {
    try {
      // A panel snapshot arrives with the host's id (DigitalOcean: an action id); the adapter
      // resolves it to the real snapshot until we know its id, then we follow it as usual.
      const resolvePanel = row.origin === 'panel' && !row.provider_snapshot_id && row.pending_ref && provider!.resolvePanelSnapshotId;
      const snap = resolvePanel
        ? await provider!.resolvePanelSnapshotId!(server, row.pending_ref!)
        : await provider!.status(server, { providerSnapshotId: row.provider_snapshot_id, pendingRef: row.pending_ref, marker });
      if (snap.state === 'available') return await settleAvailable(snap);
      if (snap.state === 'failed') return await fail(snap.reason ?? `${provider!.displayName} reported the snapshot as failed.`);
      if (snap.state === 'gone') return await fail(`${provider!.displayName} no longer has this snapshot (it was removed outside the panel).`);
      const now = await clock.now(db);
      if (now.getTime() - row.created_at.getTime() > limits.createTimeoutMs) {
        return await fail(`${provider!.displayName} did not finish the snapshot within ${Math.round(limits.createTimeoutMs / 3600_000)} hours; check it in the provider's dashboard.`);
      }
      const wait = Math.min(limits.pollMaxMs, limits.pollBaseMs * 2 ** Math.min(6, row.attempts));
      const idChanged = snap.providerSnapshotId && snap.providerSnapshotId !== row.provider_snapshot_id;
      await finish({ next_attempt_at: await later(wait), ...(idChanged ? { provider_snapshot_id: snap.providerSnapshotId } : {}) });
    } catch (e) {
      const final = await retryOrFail(e, limits.createAttempts * 2, 'status');
      if (final) await fail(final);
    }
  }

  async function doDelete() {
    if (!row.provider_snapshot_id) {
      // Nothing was ever made at the provider: only our record goes.
      if (await finishDelete('Nothing to delete at the provider (the snapshot was never created there).')) return;
      return;
    }
    try {
      const r = await provider!.delete(server, row.provider_snapshot_id);
      await finishDelete(r.alreadyGone ? `Already gone at ${provider!.displayName}` : `Deleted at ${provider!.displayName}`);
    } catch (e) {
      if (e instanceof ProviderError && e.code === 'unsupported') {
        const reason = `${e.message} Only our record was removed; the provider copy stays.`;
        await finishDelete(reason);
        return;
      }
      const final = await retryOrFail(e, limits.deleteAttempts, 'delete');
      if (final) {
        if (await finish({ status: 'delete_failed', next_attempt_at: null, last_error: final.slice(0, 1000) })) {
          await event('delete_failed', final);
          deps.onOutcome?.('delete_failed', provider!.slug);
          deps.onSettled?.(id, 'delete_failed');
        }
      }
    }
  }

  async function finishDelete(detail: string): Promise<boolean> {
    const now = await clock.now(db);
    // Our record leaves the list; the audit log keeps the story.
    const res = await db.deleteFrom('ss_snapshots').where('id', '=', id).where('lease_owner', '=', token).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) return false;
    await recordEvent(db, { snapshotId: id, serverId: Number(row.server_id), scheduleId: row.schedule_id === null ? null : Number(row.schedule_id), actor: 'scheduler', action: 'deleted', detail: `${detail} (${row.name}, provider id ${row.provider_snapshot_id ?? 'none'})`, at: now });
    deps.onOutcome?.('deleted', provider!.slug);
    deps.onSettled?.(id, 'deleted');
    return true;
  }
}
