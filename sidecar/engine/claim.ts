import { randomUUID } from 'node:crypto';
import type { DB } from '../db.js';
import type { SnapshotRow } from '../snapshots.js';

/**
 * Claim snapshot work (create, poll, delete) for this sidecar.
 *
 * `next_attempt_at` is both "when work is due" and the lease expiry: a claim moves it to
 * now + lease, so a sidecar that dies holding it simply lets the row become due again after
 * the lease — no separate reaper needed. FOR UPDATE SKIP LOCKED in a short transaction keeps
 * concurrent claimers from taking the same rows or waiting on each other.
 */
export async function claimWork(db: DB, now: Date, instanceId: string, leaseMs: number, limit: number): Promise<{ token: string; rows: SnapshotRow[] }> {
  const token = `${instanceId}:${randomUUID()}`.slice(0, 80);
  if (limit <= 0) return { token, rows: [] };
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const rows = await db.transaction().execute(async (trx) => {
    const due = await trx.selectFrom('ss_snapshots').select('id')
      .where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(limit)
      .forUpdate().skipLocked().execute();
    if (due.length === 0) return [];
    const ids = due.map((d) => Number(d.id));
    await trx.updateTable('ss_snapshots')
      .set((eb) => ({ lease_owner: token, next_attempt_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids).execute();
    return await trx.selectFrom('ss_snapshots').selectAll().where('id', 'in', ids).execute();
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
