/**
 * A snapshot's domain rules: its name at the provider and its protection in words. The
 * table lives in store/snapshots.ts, the lifecycle in engine/lifecycle.ts, the answer shape
 * in http/snapshots-wire.ts.
 */
import type { SnapshotOrigin } from './schema.js';
import type { SnapshotRow } from './store/snapshots.js';

export type { SnapshotRow } from './store/snapshots.js';
export { SNAPSHOT_STATUSES } from './engine/lifecycle.js';

export const SNAPSHOT_ORIGINS: SnapshotOrigin[] = ['scheduled', 'manual', 'panel', 'found'];

/** Our name at the provider: unique (it holds our id), so a retry can find what a crash left. */
export function markerName(snapshotId: number, serverName: string | null, at: Date): string {
  const safe = (serverName ?? 'server').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'server';
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `ss-${snapshotId}-${safe}-${stamp}`;
}

export function protectionWords(row: Pick<SnapshotRow, 'keep_forever' | 'delete_not_before' | 'origin'>, now: Date): string | null {
  if (row.keep_forever === 1) return 'Never delete automatically';
  if (row.delete_not_before && row.delete_not_before.getTime() > now.getTime()) return `Not before ${row.delete_not_before.toISOString().slice(0, 10)}`;
  if (row.origin === 'found') return 'Found at the provider, not in this list: never deleted automatically';
  if (row.origin !== 'scheduled') return `${row.origin === 'manual' ? 'Manual' : 'Panel'} snapshot: never deleted automatically`;
  return null;
}
