/**
 * Batched status reads: the rows one claim hands the engine that only need the provider's
 * word on a snapshot we know — `creating` ones it follows, `deleting` ones whose ownership it
 * checks before the delete — are read with one list call per account (Provider.describeMany)
 * instead of one GET each. Each request spends the account's budget that a create could use.
 * A snapshot the list does not show is read on its own by its step, as before.
 */
import type { Provider, SnapshotFacts } from '../providers/types.js';
import type { SnapshotRow } from '../store/snapshots.js';

/** Per claimed row id: the provider's facts (undefined: not in the answer, the step asks itself). */
export type BatchReads = Map<number, Promise<SnapshotFacts | undefined>>;

export function batchReads(rows: readonly SnapshotRow[], providers: ReadonlyMap<string, Provider>): BatchReads {
  const groups = new Map<Provider, SnapshotRow[]>();
  for (const row of rows) {
    if (row.status !== 'creating' && row.status !== 'deleting') continue;
    // A panel row still waiting for its real id is resolved by the adapter, not listed.
    if (!row.provider_snapshot_id || !row.provider) continue;
    const provider = providers.get(row.provider);
    if (!provider?.describeMany) continue;
    groups.set(provider, [...(groups.get(provider) ?? []), row]);
  }
  const out: BatchReads = new Map();
  for (const [provider, group] of groups) {
    // One row alone gains nothing from a list: its step sends the usual single read.
    if (group.length < 2) continue;
    const answer = provider.describeMany!(group.map((r) => ({ snapshotId: Number(r.id), providerSnapshotId: r.provider_snapshot_id! })));
    // Every row's step awaits its share; a failed list is each step's failed read (retried as one).
    answer.catch(() => undefined);
    for (const row of group) out.set(Number(row.id), answer.then((m) => m.get(row.provider_snapshot_id!)));
  }
  return out;
}
