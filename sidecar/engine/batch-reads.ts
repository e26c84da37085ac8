/**
 * Batched status reads: the snapshots the engine follows while they are `creating`, and the
 * ones whose ownership it checks before a delete, are read with list requests of many
 * (Provider.describeMany) instead of one GET each: every request spends the account's budget
 * that a create could use.
 *
 * Reads are coalesced per provider account: the rows of one claim join one list, and while a
 * list is on its way (or waiting for budget) the reads that fall due meanwhile queue up for
 * the next one — one request per page of PAGE, not one per snapshot (sending each turn's reads
 * at once instead made lists of ~2 and 1.7 × the requests in the benchmark). The price: a list
 * that hangs holds the account's next reads until its timeout (`timeoutMs`). A read alone is
 * sent as the usual single read. A snapshot missing from the answer is read on its own by its
 * step (status / describe), so a list never decides that something is gone.
 */
import type { Provider, SnapshotFacts } from '../providers/types.js';
import type { SnapshotRow } from '../store/snapshots.js';

/** Snapshots per list request (Hetzner's largest page). */
export const PAGE = 50;

interface Waiting {
  ref: { snapshotId: number; providerSnapshotId: string };
  resolve: (f: SnapshotFacts | undefined) => void;
  reject: (e: unknown) => void;
}

export class ReadBatcher {
  readonly #queues = new Map<Provider, { waiting: Waiting[]; busy: boolean }>();

  /** The provider's facts for this row from a shared list, or null when the row is not read that way. */
  readFor(row: SnapshotRow, providers: ReadonlyMap<string, Provider>): Promise<SnapshotFacts | undefined> | undefined {
    if (row.status !== 'creating' && row.status !== 'deleting') return undefined;
    // A panel row still waiting for its real id is resolved by the adapter, not listed.
    if (!row.provider_snapshot_id || !row.provider) return undefined;
    const provider = providers.get(row.provider);
    if (!provider?.describeMany) return undefined;
    const read = this.read(provider, { snapshotId: Number(row.id), providerSnapshotId: row.provider_snapshot_id });
    // The step awaits it; a step that ends before (a lost lease) must not leave a rejection unhandled.
    read.catch(() => undefined);
    return read;
  }

  read(provider: Provider, ref: Waiting['ref']): Promise<SnapshotFacts | undefined> {
    let q = this.#queues.get(provider);
    if (!q) { q = { waiting: [], busy: false }; this.#queues.set(provider, q); }
    const queue = q;
    const answer = new Promise<SnapshotFacts | undefined>((resolve, reject) => { queue.waiting.push({ ref, resolve, reject }); });
    if (!queue.busy) {
      queue.busy = true;
      // After this turn of the event loop: the other rows of the same claim join this list.
      setImmediate(() => { void this.#drain(provider, queue); });
    }
    return answer;
  }

  async #drain(provider: Provider, queue: { waiting: Waiting[]; busy: boolean }): Promise<void> {
    while (queue.waiting.length > 0) await this.#send(provider, queue.waiting.splice(0, PAGE));
    queue.busy = false;
  }

  async #send(provider: Provider, batch: Waiting[]): Promise<void> {
    // A read alone gains nothing from a list: its step sends the usual single read.
    if (batch.length === 1) { batch[0]!.resolve(undefined); return; }
    try {
      const facts = await provider.describeMany!(batch.map((w) => w.ref));
      for (const w of batch) w.resolve(facts.get(w.ref.providerSnapshotId));
    } catch (e) {
      // Each step sees the failed list as its own failed read (retried as usual).
      for (const w of batch) w.reject(e);
    }
  }
}
