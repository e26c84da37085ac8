/**
 * The snapshot lifecycle: the only place that says which status may follow which, and who
 * may cause it. Every status change goes through this table — the engine's steps, Trash,
 * Delete Record and retention — by asking `sourcesOf(to, cause)` for the statuses a write may
 * start from (the store puts them in the UPDATE's WHERE, so a row that moved on meanwhile is
 * left alone) or by `assertTransition` before a write guarded by the lease.
 *
 *   requested ─engine→ creating ─engine→ available ─trash/retention→ deleting ─engine→ (removed)
 *        └──engine→ available / failed       │  └─engine→ superseded          └─engine→ delete_failed
 *   failed, delete_failed ─trash→ deleting;  available, failed, delete_failed, superseded
 *   ─trash (record only) / delete record→ (removed); deleting ─delete record→ (removed)
 *
 * A record of origin `found` (reconciliation, engine/reconcile.ts) is born `available`: the
 * provider already holds it. From there it follows `available`'s rows like any other, and
 * retention never queues it (only `scheduled` snapshots).
 *
 * `removed` is not a status: the record leaves the table and the audit log keeps its story.
 * Nothing leaves `requested` or `creating` by an admin's hand: forgetting the row then would
 * leave the provider's copy with no record pointing at it.
 */
import type { SnapshotStatus } from '../schema.js';

export type Cause = 'engine' | 'trash' | 'delete_record' | 'retention';
export type Target = SnapshotStatus | 'removed';

export const TRANSITIONS: Readonly<Record<SnapshotStatus, Readonly<Partial<Record<Target, readonly Cause[]>>>>> = {
  requested: { creating: ['engine'], available: ['engine'], failed: ['engine'] },
  creating: { available: ['engine'], failed: ['engine'] },
  available: { deleting: ['trash', 'retention'], superseded: ['engine'], removed: ['trash', 'delete_record'] },
  failed: { deleting: ['trash'], removed: ['trash', 'delete_record'] },
  deleting: { delete_failed: ['engine'], removed: ['engine', 'delete_record'] },
  delete_failed: { deleting: ['trash'], removed: ['trash', 'delete_record'] },
  superseded: { removed: ['trash', 'delete_record'] },
};

export const SNAPSHOT_STATUSES = Object.keys(TRANSITIONS) as SnapshotStatus[];

export function canTransition(from: SnapshotStatus, to: Target, cause: Cause): boolean {
  return TRANSITIONS[from]?.[to]?.includes(cause) ?? false;
}

/** The statuses from which `cause` may move a snapshot to `to` (for an UPDATE's WHERE). */
export function sourcesOf(to: Target, cause: Cause): SnapshotStatus[] {
  return SNAPSHOT_STATUSES.filter((from) => canTransition(from, to, cause));
}

export class IllegalTransition extends Error {
  constructor(readonly from: SnapshotStatus, readonly to: Target, readonly by: Cause) {
    super(`A snapshot may not go from ${from} to ${to} by ${by}.`);
    this.name = 'IllegalTransition';
  }
}

export function assertTransition(from: SnapshotStatus, to: Target, cause: Cause): void {
  if (!canTransition(from, to, cause)) throw new IllegalTransition(from, to, cause);
}
