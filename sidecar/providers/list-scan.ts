/**
 * Batched reads where a provider has no "these ids" filter (Vultr's snapshots, DigitalOcean's
 * snapshots): the account's whole list, page by page, answers any number of ids — but costs
 * its page count whatever we ask, so it is read only while that is cheaper than a GET for
 * each snapshot still missing. The list's `total` (remembered from the last answer) says how
 * many pages it has; a snapshot not found is left to its own read, as for every batched read.
 */

export interface ListPage<T> {
  items: T[];
  /** The list's length as the provider states it (`meta.total`), when it does. */
  total: number | null;
  /** The cursor or page of the next page, or null on the last one. */
  next: string | null;
}

export interface ListScanOptions<T> {
  perPage: number;
  /** Stops a misbehaving endpoint from looping. */
  maxPages: number;
  /** The page after `cursor` (null: the first). */
  page(cursor: string | null): Promise<ListPage<T>>;
  idOf(item: T): string;
}

export function createListScan<T>(opts: ListScanOptions<T>): (ids: ReadonlySet<string>) => Promise<Map<string, T>> {
  let knownTotal: number | null = null;
  const pagesOf = (total: number): number => Math.ceil(total / opts.perPage);
  return async function scan(ids) {
    const out = new Map<string, T>();
    // The whole list would cost as much as a GET each, or more: leave them to their own reads.
    if (ids.size === 0 || (knownTotal !== null && pagesOf(knownTotal) >= ids.size)) return out;
    let cursor: string | null = null;
    for (let read = 1; ; read++) {
      const page: ListPage<T> = await opts.page(cursor);
      if (page.total !== null) knownTotal = page.total;
      for (const item of page.items) if (ids.has(opts.idOf(item))) out.set(opts.idOf(item), item);
      const missing = ids.size - out.size;
      if (missing === 0 || !page.next || read >= opts.maxPages) return out;
      // Pages left against GETs of the ones still missing (unknown length: stop here).
      if (knownTotal === null || pagesOf(knownTotal) - read > missing) return out;
      cursor = page.next;
    }
  };
}
