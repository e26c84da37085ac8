/**
 * The one owner of `ss_snapshots`: every statement on the table is a named function here.
 * Status changes take their allowed starting statuses from the lifecycle table
 * (engine/lifecycle.ts), so a row that moved on meanwhile is never overwritten.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { DB } from '../db.js';
import { assertTransition, sourcesOf, type Cause } from '../engine/lifecycle.js';
import { choosePrioritized, type ListedReads } from '../engine/priority.js';
import { notFound } from '../errors.js';
import type { SnapshotOrigin, SnapshotStatus, SnapshotsTable } from '../schema.js';

export type SnapshotRow = Selectable<SnapshotsTable>;

// ---- a new row --------------------------------------------------------------------------

export interface NewSnapshot {
  serverId: number;
  serverName: string;
  instanceId: string | null;
  provider: string | null;
  providerType: string | null;
  origin: SnapshotOrigin;
  /** Scheduled and manual rows start `requested`; a panel row starts `creating` (the host already made it). */
  status: 'requested' | 'creating';
  requestedBy: string;
  now: Date;
  scheduleId?: number | null;
  slotAt?: Date | null;
  /** The schedule's "no reboot" wish at dispatch time; null for manual and panel snapshots. */
  noReboot?: boolean | null;
  name?: string;
  note?: string | null;
  providerSnapshotId?: string | null;
  pendingRef?: string | null;
  /** The server's region (WPCD's `wpcd_server_region`). */
  region?: string | null;
}

/** The one builder of a new snapshot row: due for the engine at once, nothing protected yet. */
export function newSnapshotRow(s: NewSnapshot): Insertable<SnapshotsTable> {
  return {
    server_id: s.serverId, schedule_id: s.scheduleId ?? null, slot_at: s.slotAt ?? null,
    origin: s.origin, status: s.status, provider: s.provider, provider_type: s.providerType,
    provider_snapshot_id: s.providerSnapshotId ?? null, pending_ref: s.pendingRef ?? null,
    name: (s.name ?? '').slice(0, 190), server_name: s.serverName.slice(0, 190), instance_id: s.instanceId,
    region: s.region ? s.region.slice(0, 64) : null,
    no_reboot: s.noReboot === undefined || s.noReboot === null ? null : s.noReboot ? 1 : 0,
    keep_forever: 0, note: s.note ?? null, attempts: 0, next_attempt_at: s.now,
    requested_by: s.requestedBy, created_at: s.now, updated_at: s.now,
  };
}

export async function insertSnapshot(db: DB, s: NewSnapshot): Promise<number> {
  const res = await db.insertInto('ss_snapshots').values(newSnapshotRow(s)).executeTakeFirstOrThrow();
  return Number(res.insertId);
}

/**
 * Scheduled rows for due slots, in one statement. IGNORE only swallows the slot_uq duplicate
 * (a slot already snapshotted); every column is NOT NULL-safe in newSnapshotRow, so nothing
 * else can be silently dropped. Returns the rows this call made (not ones that existed).
 */
export async function insertScheduled(trx: DB, rows: NewSnapshot[], now: Date) {
  if (rows.length === 0) return { created: 0, made: [] };
  const res = await trx.insertInto('ss_snapshots').ignore().values(rows.map(newSnapshotRow)).executeTakeFirst();
  const made = await trx.selectFrom('ss_snapshots').select(['id', 'server_id', 'schedule_id', 'slot_at'])
    .where((eb) => eb.or(rows.map((r) => eb.and([
      eb('server_id', '=', r.serverId), eb('schedule_id', '=', r.scheduleId ?? null), eb('slot_at', '=', r.slotAt ?? null),
    ])))).where('created_at', '=', now).execute();
  return { created: Number(res.numInsertedOrUpdatedRows ?? 0), made };
}

// ---- reads ------------------------------------------------------------------------------

export async function findSnapshot(db: DB, id: number): Promise<SnapshotRow | undefined> {
  return await db.selectFrom('ss_snapshots').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getSnapshot(db: DB, id: number): Promise<SnapshotRow> {
  const row = await findSnapshot(db, id);
  if (!row) throw notFound(`Snapshot ${id}`);
  return row;
}

export interface SnapshotFilter {
  serverId?: number;
  scheduleId?: number;
  status?: SnapshotStatus;
  origin?: SnapshotOrigin;
  /** Keyset: only ids below this one (the previous page's last id). */
  beforeId?: number;
  /** Only these servers (e.g. those whose health is not ok); an empty list matches nothing. */
  serverIds?: number[];
  /** Part of the server's or the snapshot's name (the list's search box). */
  search?: string;
}

/** One keyset page, newest first; every filter is served by an (x, id) index. */
export async function listPage(db: DB, f: SnapshotFilter, limit: number): Promise<{ rows: SnapshotRow[]; more: boolean }> {
  if (f.serverIds && f.serverIds.length === 0) return { rows: [], more: false };
  let query = db.selectFrom('ss_snapshots').selectAll();
  if (f.serverIds) query = query.where('server_id', 'in', f.serverIds);
  if (f.serverId !== undefined) query = query.where('server_id', '=', f.serverId);
  if (f.scheduleId !== undefined) query = query.where('schedule_id', '=', f.scheduleId);
  if (f.status !== undefined) query = query.where('status', '=', f.status);
  if (f.origin !== undefined) query = query.where('origin', '=', f.origin);
  if (f.search) {
    const like = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('server_name', 'like', like), eb('name', 'like', like)]));
  }
  if (f.beforeId !== undefined) query = query.where('id', '<', f.beforeId);
  const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

export async function latestOfServer(db: DB, serverId: number): Promise<SnapshotRow | undefined> {
  return await db.selectFrom('ss_snapshots').selectAll().where('server_id', '=', serverId).orderBy('id', 'desc').limit(1).executeTakeFirst();
}

/** A panel snapshot already recorded under this provider id or pending reference. */
export async function findPanelRecord(db: DB, serverId: number, ref: string): Promise<SnapshotRow | undefined> {
  return await db.selectFrom('ss_snapshots').selectAll().where('server_id', '=', serverId).where('origin', '=', 'panel')
    .where((eb) => eb.or([eb('provider_snapshot_id', '=', ref), eb('pending_ref', '=', ref)])).executeTakeFirst();
}

export async function countForSchedule(db: DB, scheduleId: number): Promise<number> {
  const r = await db.selectFrom('ss_snapshots').select((eb) => eb.fn.countAll<number>().as('n')).where('schedule_id', '=', scheduleId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Schedules that have snapshots of this server (assigned now or in the past). */
export async function scheduleIdsOfServer(db: DB, serverId: number): Promise<number[]> {
  const rows = await db.selectFrom('ss_snapshots').select('schedule_id').distinct().where('server_id', '=', serverId).where('schedule_id', 'is not', null).execute();
  return rows.map((r) => Number(r.schedule_id));
}

/** What retention decides over: one schedule's snapshots of one server, newest first. */
export async function retentionCandidates(db: DB, serverId: number, scheduleId: number) {
  return await db.selectFrom('ss_snapshots')
    .select(['id', 'status', 'origin', 'created_at', 'slot_at', 'keep_forever', 'delete_not_before', 'name'])
    .where('server_id', '=', serverId).where('schedule_id', '=', scheduleId)
    .orderBy('id', 'desc').limit(5000).execute();
}

/** Servers with an available scheduled snapshot of this schedule older than `cutoff`. */
export async function serversWithAgedSnapshots(db: DB, scheduleId: number, cutoff: Date): Promise<number[]> {
  const rows = await db.selectFrom('ss_snapshots').select('server_id').distinct()
    .where('schedule_id', '=', scheduleId).where('status', '=', 'available').where('origin', '=', 'scheduled')
    .where('created_at', '<', cutoff).limit(1000).execute();
  return rows.map((r) => Number(r.server_id));
}

/** When the engine next owes work (reads the first entry of work_idx). */
export async function nextWorkAt(db: DB): Promise<Date | null> {
  const r = await db.selectFrom('ss_snapshots').select((eb) => eb.fn.min('next_attempt_at').as('at')).executeTakeFirst();
  return r?.at instanceof Date ? r.at : null;
}

/**
 * How long the newest completed creates took, from the provider accepting the create (its
 * `creating` event) to our seeing it available, newest first (engine/poll-timing.ts learns
 * the typical time from them). The newest `limit` available rows, through status_list_idx.
 */
export async function recentCompletionTimes(db: DB, limit = 500): Promise<Array<{ provider: string; ms: number }>> {
  const rows = await db.selectFrom('ss_snapshots as s')
    .innerJoin('ss_events as e', (j) => j.onRef('e.snapshot_id', '=', 's.id').on('e.action', '=', 'creating'))
    .select(['s.provider', sql<number>`TIMESTAMPDIFF(MICROSECOND, e.at, s.available_at) DIV 1000`.as('ms')])
    .where('s.status', '=', 'available').where('s.origin', 'in', ['scheduled', 'manual']).where('s.available_at', 'is not', null)
    .orderBy('s.id', 'desc').limit(limit).execute();
  return rows.filter((r) => r.provider !== null).map((r) => ({ provider: r.provider!, ms: Number(r.ms) }));
}

/** Failed records by provider slug (the metrics' failures-by-provider gauge). */
export async function failedByProvider(db: DB): Promise<Array<{ provider: string | null; n: number }>> {
  const rows = await db.selectFrom('ss_snapshots').select(['provider']).select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'failed').groupBy('provider').execute();
  return rows.map((r) => ({ provider: r.provider, n: Number(r.n) }));
}

export async function countsByStatus(db: DB): Promise<Array<{ status: string; n: number }>> {
  const rows = await db.selectFrom('ss_snapshots').select(['status']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('status').execute();
  return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
}

// ---- admin changes ----------------------------------------------------------------------

export interface DetailsChange {
  keepForever?: boolean;
  deleteNotBefore?: Date | null;
  note?: string | null;
}

export async function updateDetails(db: DB, id: number, c: DetailsChange, now: Date): Promise<void> {
  await db.updateTable('ss_snapshots').set({
    updated_at: now,
    ...(c.keepForever !== undefined ? { keep_forever: c.keepForever ? 1 : 0 } : {}),
    ...(c.deleteNotBefore !== undefined ? { delete_not_before: c.deleteNotBefore } : {}),
    ...(c.note !== undefined ? { note: c.note } : {}),
  }).where('id', '=', id).execute();
}

/**
 * Queue snapshots for deletion at the provider (Trash, retention): the engine picks them up at
 * once. Retention repeats every protection in SQL, so one an admin sets between the decision
 * and this update still wins; Trash is the admin's own act and overrides them.
 */
export async function queueDelete(db: DB, ids: number[], cause: Extract<Cause, 'trash' | 'retention'>, now: Date): Promise<number> {
  if (ids.length === 0) return 0;
  let q = db.updateTable('ss_snapshots')
    .set({ status: 'deleting', next_attempt_at: now, attempts: 0, lease_owner: null, last_error: null, updated_at: now })
    .where('id', 'in', ids).where('status', 'in', sourcesOf('deleting', cause));
  if (cause === 'retention') {
    q = q.where('origin', '=', 'scheduled').where('keep_forever', '=', 0)
      .where((eb) => eb.or([eb('delete_not_before', 'is', null), eb('delete_not_before', '<=', now)]));
  }
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function idsWithStatus(db: DB, ids: number[], status: SnapshotStatus): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('ss_snapshots').select('id').where('id', 'in', ids).where('status', '=', status).execute();
  return new Set(rows.map((r) => Number(r.id)));
}

/** Forget our record (Trash of what cannot be deleted at the provider, Delete Record). */
export async function removeRecord(db: DB, id: number, cause: Extract<Cause, 'trash' | 'delete_record'>): Promise<boolean> {
  const ref = await providerRef(db, id);
  const res = await db.deleteFrom('ss_snapshots').where('id', '=', id).where('status', 'in', sourcesOf('removed', cause)).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) return false;
  await forget(db, ref);
  return true;
}

async function providerRef(db: DB, id: number) {
  return await db.selectFrom('ss_snapshots').select(['provider', 'provider_snapshot_id']).where('id', '=', id).executeTakeFirst();
}

/**
 * A record left the list: remember its provider object, so that reconciliation never brings
 * it back as `found` (an admin's Delete Record is for good; a deleted one may still be listed
 * by a reconciliation that started before the delete).
 */
async function forget(db: DB, ref: { provider: string | null; provider_snapshot_id: string | null } | undefined): Promise<void> {
  if (!ref?.provider || !ref.provider_snapshot_id) return;
  await db.insertInto('ss_forgotten_snapshots').ignore()
    .values({ provider: ref.provider, provider_snapshot_id: ref.provider_snapshot_id, forgotten_at: sql<Date>`UTC_TIMESTAMP(3)` }).execute();
}

export async function setName(db: DB, id: number, name: string): Promise<void> {
  await db.updateTable('ss_snapshots').set({ name }).where('id', '=', id).execute();
}

// ---- the engine's lease -----------------------------------------------------------------

/**
 * Claim snapshot work (create, poll, delete) for this sidecar.
 *
 * `next_attempt_at` is both "when work is due" and the lease expiry: a claim moves it to
 * now + lease, so a sidecar that dies holding it simply lets the row become due again after
 * the lease — no separate reaper needed. FOR UPDATE SKIP LOCKED in a short transaction keeps
 * concurrent claimers from taking the same rows or waiting on each other.
 */
export async function claimDue(db: DB, now: Date, instanceId: string, leaseMs: number, limit: number, listed?: ListedReads & { scan: boolean }): Promise<{ token: string; rows: SnapshotRow[] }> {
  const token = `${instanceId}:${randomUUID()}`.slice(0, 80);
  const reads = listed && listed.batching.size > 0 ? listed.room : 0;
  if (limit <= 0 && reads <= 0) return { token, rows: [] };
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const rows = await db.transaction().execute(async (trx) => {
    // A window of the oldest due rows, then the priority order picks the claim from it
    // (engine/priority.ts: creates first, deletes last, each kind a share). Reads that go in
    // lists are left out of it: they have room of their own, looked for below.
    const batching = reads > 0 ? [...listed!.batching] : [];
    const size = Math.min(2000, limit * 4);
    let q = trx.selectFrom('ss_snapshots').select(['id', 'status', 'provider', 'next_attempt_at']).where('next_attempt_at', '<=', now);
    if (batching.length > 0) q = q.where((eb) => eb.or([eb('status', '<>', 'creating'), eb('provider', 'is', null), eb('provider', 'not in', batching)]));
    const window = size > 0 ? await q.orderBy('next_attempt_at').limit(size).forUpdate().skipLocked().execute() : [];
    // The listed reads due, oldest first: on every claim while no backlog of work fills the
    // window, else only when the engine says (`scan`, every half second) — found without locks,
    // then those still due locked.
    if (reads > 0 && (listed!.scan || window.length < size)) {
      const found = (await trx.selectFrom('ss_snapshots').select('id').where('status', '=', 'creating')
        .where('provider', 'in', batching).where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at').limit(reads).execute()).map((r) => Number(r.id));
      if (found.length > 0) {
        window.push(...await trx.selectFrom('ss_snapshots').select(['id', 'status', 'provider', 'next_attempt_at'])
          .where('id', 'in', found).where('status', '=', 'creating').where('next_attempt_at', '<=', now)
          .forUpdate().skipLocked().execute());
      }
    }
    const due = choosePrioritized(window.map((w) => ({ ...w, id: Number(w.id) })), limit, listed);
    if (due.length === 0) return [];
    const ids = due.map((d) => d.id);
    await trx.updateTable('ss_snapshots')
      .set((eb) => ({ lease_owner: token, next_attempt_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids).execute();
    const rows = await trx.selectFrom('ss_snapshots').selectAll().where('id', 'in', ids).execute();
    // In priority order: the engine starts them (and so spends the budget) in this order.
    const order = new Map(ids.map((id, i) => [id, i]));
    return rows.sort((a, b) => order.get(Number(a.id))! - order.get(Number(b.id))!);
  });
  return { token, rows };
}

/** Keep a lease alive during a long provider call. False when the lease was lost. */
export async function renewLease(db: DB, id: number, token: string, until: Date): Promise<boolean> {
  const res = await db.updateTable('ss_snapshots').set({ next_attempt_at: until })
    .where('id', '=', id).where('lease_owner', '=', token).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Give leased rows back at once (graceful shutdown): another sidecar may take them now. */
export async function releaseLeases(db: DB, tokens: string[], now: Date): Promise<number> {
  if (tokens.length === 0) return 0;
  const res = await db.updateTable('ss_snapshots').set({ lease_owner: null, next_attempt_at: now })
    .where('lease_owner', 'in', tokens).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** What a step may write when it finishes; the status goes through `to` and the lifecycle. */
export type LeasedValues = Omit<Updateable<SnapshotsTable>, 'status' | 'lease_owner' | 'updated_at' | 'id'>;

/**
 * Store a step's outcome and give the lease back, only while we still hold it. A status
 * change is checked against the lifecycle and written only from the status the step saw.
 */
export async function finishLeased(db: DB, lease: { id: number; token: string; from: SnapshotStatus }, values: LeasedValues, now: Date, to?: SnapshotStatus): Promise<boolean> {
  let q = db.updateTable('ss_snapshots').set({ ...values, ...(to ? { status: to } : {}), lease_owner: null, updated_at: now })
    .where('id', '=', lease.id).where('lease_owner', '=', lease.token);
  if (to && to !== lease.from) {
    assertTransition(lease.from, to, 'engine');
    q = q.where('status', '=', lease.from);
  }
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Name a leased row before its provider call (the marker the provider will carry). */
export async function nameLeased(db: DB, lease: { id: number; token: string }, name: string): Promise<boolean> {
  const res = await db.updateTable('ss_snapshots').set({ name }).where('id', '=', lease.id).where('lease_owner', '=', lease.token).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** The engine deleted the provider copy: our record leaves the list. */
export async function removeLeased(db: DB, lease: { id: number; token: string }): Promise<boolean> {
  const ref = await providerRef(db, lease.id);
  const res = await db.deleteFrom('ss_snapshots').where('id', '=', lease.id).where('lease_owner', '=', lease.token)
    .where('status', 'in', sourcesOf('removed', 'engine')).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) return false;
  await forget(db, ref);
  return true;
}

/** How a row stands now, for a step that lost its lease and must decide about its own work. */
export async function leaseView(db: DB, id: number) {
  return await db.selectFrom('ss_snapshots').select(['status', 'provider_snapshot_id', 'lease_owner']).where('id', '=', id).executeTakeFirst();
}

/** The provider keeps one snapshot per server: its earlier available ones become history. */
export async function supersedeAvailable(db: DB, o: { serverId: number; provider: string; exceptId: number }, now: Date): Promise<number[]> {
  const from = sourcesOf('superseded', 'engine');
  const older = await db.selectFrom('ss_snapshots').select('id').where('server_id', '=', o.serverId)
    .where('provider', '=', o.provider).where('id', '<>', o.exceptId).where('status', 'in', from).execute();
  if (older.length === 0) return [];
  const ids = older.map((r) => Number(r.id));
  await db.updateTable('ss_snapshots').set({ status: 'superseded', updated_at: now }).where('id', 'in', ids).where('status', 'in', from).execute();
  return ids;
}
