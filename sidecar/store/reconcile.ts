/**
 * The one owner of `ss_reconcile_runs` and `ss_forgotten_snapshots`, and of the reads
 * reconciliation makes on `ss_snapshots` (engine/reconcile.ts).
 */
import { sql } from 'kysely';
import type { DB } from '../db.js';
import { newSnapshotRow } from './snapshots.js';

/**
 * Claim this period's reconciliation of one provider: a single UPDATE moves `next_run_at`
 * a period ahead only where it was due, so of several sidecars exactly one wins the run.
 */
export async function claimReconcile(db: DB, provider: string, now: Date, everyMs: number, owner: string): Promise<boolean> {
  await db.insertInto('ss_reconcile_runs').ignore().values({ provider, next_run_at: now, last_owner: null, last_run_at: null, last_found: 0 }).execute();
  const res = await db.updateTable('ss_reconcile_runs')
    .set({ next_run_at: new Date(now.getTime() + everyMs), last_owner: owner.slice(0, 80), last_run_at: now })
    .where('provider', '=', provider).where('next_run_at', '<=', now).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function recordReconcileResult(db: DB, provider: string, found: number): Promise<void> {
  await db.updateTable('ss_reconcile_runs').set({ last_found: found }).where('provider', '=', provider).execute();
}

/**
 * Is a marked provider object already accounted for? Yes when a record holds its id, when
 * the record its marker names still exists under that name (a create not yet stored), or
 * when its record left the list (deleted, or forgotten with Delete Record).
 */
export async function isAccounted(db: DB, slugs: readonly string[], o: { providerSnapshotId: string; markerSnapshotId: number | null; name: string | null }): Promise<boolean> {
  // Every slug of the provider's type, not just the one reconciled: two slugs may name one
  // account (the same credential), and each lists the other's snapshots too (provider_ref_idx).
  const held = await db.selectFrom('ss_snapshots').select('id').where('provider', 'in', [...slugs])
    .where('provider_snapshot_id', '=', o.providerSnapshotId).limit(1).executeTakeFirst();
  if (held) return true;
  if (o.markerSnapshotId !== null && o.name) {
    const named = await db.selectFrom('ss_snapshots').select('id').where('id', '=', o.markerSnapshotId).where('name', '=', o.name).executeTakeFirst();
    if (named) return true;
  }
  const gone = await db.selectFrom('ss_forgotten_snapshots').select('provider').where('provider', 'in', [...slugs])
    .where('provider_snapshot_id', '=', o.providerSnapshotId).limit(1).executeTakeFirst();
  return gone !== undefined;
}

/** The regions our records of these slugs were made in (EC2 lists each; see Provider.listOurs). */
export async function recordedRegions(db: DB, slugs: readonly string[]): Promise<string[]> {
  const rows = await db.selectFrom('ss_snapshots').select('region').distinct().where('provider', 'in', [...slugs])
    .where('region', 'is not', null).execute();
  return rows.map((r) => r.region!);
}

export interface FoundSnapshot {
  /** Every slug of this provider's type (see isAccounted). */
  slugs: readonly string[];
  serverId: number;
  serverName: string;
  instanceId: string | null;
  region: string | null;
  provider: string;
  providerType: string;
  providerSnapshotId: string;
  name: string;
  sizeBytes: number | null;
  now: Date;
}

/**
 * Record a marked object nobody listed as `found`: available, at rest (no work owed), never
 * touched by retention (it has no schedule and is not `scheduled`). Inserted only while no
 * record holds the id, in one statement.
 */
export async function insertFound(db: DB, f: FoundSnapshot): Promise<number | null> {
  const row = {
    ...newSnapshotRow({
      serverId: f.serverId, serverName: f.serverName, instanceId: f.instanceId, region: f.region, provider: f.provider, providerType: f.providerType,
      origin: 'found', status: 'creating', requestedBy: 'reconcile', now: f.now, name: f.name, providerSnapshotId: f.providerSnapshotId,
    }),
    status: 'available' as const, next_attempt_at: null, available_at: f.now, size_bytes: f.sizeBytes,
  };
  const cols = Object.keys(row) as Array<keyof typeof row>;
  const res = await sql`INSERT INTO ${sql.table('ss_snapshots')} (${sql.join(cols.map((c) => sql.ref(c)))})
    SELECT ${sql.join(cols.map((c) => sql`${row[c] as unknown}`))} FROM DUAL
    WHERE NOT EXISTS (SELECT 1 FROM ${sql.table('ss_snapshots')} WHERE provider IN (${sql.join([...f.slugs])}) AND provider_snapshot_id = ${f.providerSnapshotId})`.execute(db);
  const id = Number(res.insertId ?? 0);
  return id > 0 ? id : null;
}

/**
 * After a complete listing of one provider's marked snapshots: an available record of ours
 * (marked: not a panel snapshot) that the listing lacked is noted missing; one missing for
 * longer than `graceMs` says so in `last_error`; one listed again is cleared. Returns the
 * records that now say they are gone.
 */
export async function noteMissing(db: DB, provider: string, listed: ReadonlySet<string>, now: Date, graceMs: number, sentence: (since: Date) => string): Promise<number> {
  let after = 0;
  let flagged = 0;
  for (;;) {
    const rows = await db.selectFrom('ss_snapshots').select(['id', 'provider_snapshot_id', 'missing_since', 'last_error'])
      .where('provider', '=', provider).where('status', '=', 'available').where('origin', '<>', 'panel')
      .where('provider_snapshot_id', 'is not', null).where('id', '>', after).orderBy('id').limit(1000).execute();
    for (const r of rows) {
      const id = Number(r.id);
      if (listed.has(r.provider_snapshot_id!)) {
        if (r.missing_since !== null) await db.updateTable('ss_snapshots').set({ missing_since: null, last_error: null }).where('id', '=', id).where('status', '=', 'available').execute();
      } else if (r.missing_since === null) {
        await db.updateTable('ss_snapshots').set({ missing_since: now }).where('id', '=', id).where('status', '=', 'available').execute();
      } else if (now.getTime() - new Date(r.missing_since).getTime() >= graceMs) {
        const text = sentence(new Date(r.missing_since)).slice(0, 1000);
        if (r.last_error !== text) {
          await db.updateTable('ss_snapshots').set({ last_error: text }).where('id', '=', id).where('status', '=', 'available').execute();
          flagged += 1;
        }
      }
    }
    if (rows.length < 1000) return flagged;
    after = Number(rows[rows.length - 1]!.id);
  }
}
