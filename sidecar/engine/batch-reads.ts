/**
 * Batched status reads: the snapshots the engine follows while they are `creating`, and the
 * ones whose ownership it checks before a delete, are read with list requests of many
 * (Provider.describeMany) instead of one GET each: every request spends the account's budget
 * that a create could use.
 *
 * Reads are coalesced per provider account (and, where the adapter says so, per group: EC2's
 * region): the rows of one claim join one list, and while a list is on its way (or waiting for
 * budget) the reads that fall due meanwhile queue up for the next one — one call per batch of
 * the adapter's `batchReads.size` (default PAGE), not one per snapshot (sending each turn's
 * reads at once instead made lists of ~2 and 1.7 × the requests in the benchmark). The price:
 * a list that hangs holds the group's next reads until its timeout (`timeoutMs`). A read alone
 * is sent as the usual single read. A snapshot missing from the answer is read on its own by
 * its step (status / describe), so a list never decides that something is gone.
 */
import { batchReadKey, type BatchReadRef, type Provider, type SnapshotFacts } from '../providers/types.js';
import type { SnapshotRow } from '../store/snapshots.js';

/** Snapshots per describeMany call when the adapter does not say (Hetzner's largest page). */
export const PAGE = 50;

interface Waiting {
  ref: BatchReadRef;
  resolve: (f: SnapshotFacts | undefined) => void;
  reject: (e: unknown) => void;
}

interface Queue { waiting: Waiting[]; busy: boolean }

/** The ref a row is read by, or null when the row is not read through a list. */
export function batchRefOf(row: SnapshotRow, provider: Provider): BatchReadRef | null {
  if (row.status !== 'creating' && row.status !== 'deleting') return null;
  if (!row.provider || !provider.describeMany) return null;
  if (!row.provider_snapshot_id) {
    // Without an id only a pending reference of ours can be listed (DigitalOcean's action);
    // a panel row still waiting for its real id is resolved by the adapter, not listed.
    if (!provider.batchReads?.pending || row.status !== 'creating' || row.origin === 'panel' || !row.pending_ref) return null;
  }
  return {
    snapshotId: Number(row.id), providerSnapshotId: row.provider_snapshot_id || null, pendingRef: row.pending_ref ?? null,
    name: row.name, instanceId: row.instance_id ?? null, region: row.region ?? null,
    purpose: row.status === 'creating' ? 'follow' : 'delete',
  };
}

export class ReadBatcher {
  readonly #queues = new Map<Provider, Map<string, Queue>>();

  /** The provider's facts for this row from a shared list, or undefined when the row is not read that way. */
  readFor(row: SnapshotRow, providers: ReadonlyMap<string, Provider>): Promise<SnapshotFacts | undefined> | undefined {
    const provider = row.provider ? providers.get(row.provider) : undefined;
    const ref = provider ? batchRefOf(row, provider) : null;
    if (!provider || !ref) return undefined;
    const read = this.read(provider, ref);
    // The step awaits it; a step that ends before (a lost lease) must not leave a rejection unhandled.
    read.catch(() => undefined);
    return read;
  }

  read(provider: Provider, ref: BatchReadRef): Promise<SnapshotFacts | undefined> {
    let groups = this.#queues.get(provider);
    if (!groups) { groups = new Map(); this.#queues.set(provider, groups); }
    const group = provider.batchReads?.groupOf?.(ref) ?? '';
    let q = groups.get(group);
    if (!q) { q = { waiting: [], busy: false }; groups.set(group, q); }
    const queue = q;
    const answer = new Promise<SnapshotFacts | undefined>((resolve, reject) => { queue.waiting.push({ ref, resolve, reject }); });
    if (!queue.busy) {
      queue.busy = true;
      // After this turn of the event loop: the other rows of the same claim join this list.
      setImmediate(() => { void this.#drain(provider, queue); });
    }
    return answer;
  }

  async #drain(provider: Provider, queue: Queue): Promise<void> {
    const size = Math.max(1, provider.batchReads?.size ?? PAGE);
    while (queue.waiting.length > 0) await this.#send(provider, queue.waiting.splice(0, size));
    queue.busy = false;
  }

  async #send(provider: Provider, batch: Waiting[]): Promise<void> {
    // A read alone gains nothing from a list: its step sends the usual single read.
    if (batch.length === 1) { batch[0]!.resolve(undefined); return; }
    try {
      const facts = await provider.describeMany!(batch.map((w) => w.ref));
      for (const w of batch) w.resolve(facts.get(batchReadKey(w.ref)));
    } catch (e) {
      // Each step sees the failed list as its own failed read (retried as usual).
      for (const w of batch) w.reject(e);
    }
  }
}
