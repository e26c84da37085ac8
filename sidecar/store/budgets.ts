/**
 * The one owner of `ss_request_budgets`: token buckets of the provider accounts, shared by
 * every sidecar on the database. A take locks the account's rows (FOR UPDATE), refills them
 * by the database clock and spends one token from each window, or spends nothing and says
 * how long until every window has one — so N sidecars together never spend more than the
 * buckets hold.
 */
import { sql } from 'kysely';
import type { Clock, DB } from '../db.js';

export interface BucketWindow {
  windowMs: number;
  capacity: number;
  refillPerMs: number;
}

/** A new account starts with full buckets; IGNORE leaves a row another sidecar made alone. */
export async function ensureBuckets(db: DB, clock: Clock, accountKey: string, windows: readonly BucketWindow[]): Promise<void> {
  const now = await clock.now(db);
  await db.insertInto('ss_request_budgets').ignore().values(windows.map((w) => ({
    account_key: accountKey, window_ms: w.windowMs, capacity: w.capacity, refill_per_ms: w.refillPerMs, tokens: w.capacity, refilled_at: now,
  }))).execute();
}

/**
 * Spend one token from every window of the account, or return the milliseconds until it can.
 * The rows must exist (`ensureBuckets`). InnoDB may pick this transaction as a deadlock
 * victim when many take at once; it changed nothing then, so it is simply run again.
 */
export async function takeToken(db: DB, clock: Clock, accountKey: string, windows: readonly BucketWindow[]): Promise<{ taken: true } | { taken: false; waitMs: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await takeOnce(db, clock, accountKey, windows);
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (attempt >= 5 || (errno !== 1213 && errno !== 1205)) throw e;
    }
  }
}

async function takeOnce(db: DB, clock: Clock, accountKey: string, windows: readonly BucketWindow[]): Promise<{ taken: true } | { taken: false; waitMs: number }> {
  return await db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('ss_request_budgets').selectAll().where('account_key', '=', accountKey)
      .where('window_ms', 'in', windows.map((w) => w.windowMs)).forUpdate().execute();
    const now = await clock.now(trx);
    const levels = windows.map((w) => {
      const row = rows.find((r) => Number(r.window_ms) === w.windowMs);
      const elapsed = row ? Math.max(0, now.getTime() - new Date(row.refilled_at).getTime()) : 0;
      const tokens = row ? Math.min(w.capacity, Number(row.tokens) + elapsed * w.refillPerMs) : 0;
      return { w, tokens, found: row !== undefined };
    });
    if (levels.some((l) => !l.found)) throw new Error('A request budget row is missing; it is made again on the next request.');
    const waitMs = Math.max(0, ...levels.map(({ w, tokens }) => (tokens >= 1 ? 0 : (1 - tokens) / w.refillPerMs)));
    if (waitMs > 0) return { taken: false as const, waitMs: Math.ceil(waitMs) };
    for (const { w, tokens } of levels) {
      await trx.updateTable('ss_request_budgets').set({ tokens: tokens - 1, refilled_at: now, capacity: w.capacity, refill_per_ms: w.refillPerMs })
        .where('account_key', '=', accountKey).where('window_ms', '=', w.windowMs).execute();
    }
    return { taken: true as const };
  });
}

/** Tokens left now in each window of an account (tests, metrics). */
export async function tokensLeft(db: DB, accountKey: string): Promise<Array<{ windowMs: number; tokens: number }>> {
  const rows = await db.selectFrom('ss_request_budgets').select(['window_ms', 'tokens', 'capacity', 'refill_per_ms', 'refilled_at',
    sql<Date>`UTC_TIMESTAMP(3)`.as('now')]).where('account_key', '=', accountKey).execute();
  return rows.map((r) => ({
    windowMs: Number(r.window_ms),
    tokens: Math.min(Number(r.capacity), Number(r.tokens) + Math.max(0, new Date(r.now).getTime() - new Date(r.refilled_at).getTime()) * Number(r.refill_per_ms)),
  }));
}
