/**
 * Creates first: when more work is due than one claim takes, the claim takes creates of due
 * slots before status reads (a snapshot still being made loses nothing by waiting), and
 * deletes last (an old snapshot kept a little longer costs little). Each request spends the
 * account's budget, so the claim order is the order the budget is spent in. Nothing starves:
 * status reads and deletes each keep a reserved share of every claim while any are due.
 *
 * Status reads that go in lists (batch-reads.ts: one request per page of snapshots) have room
 * of their own beside the claim's `limit` — fifty of them cost one request, not fifty. While
 * creates are waiting (more due than the claim takes: the budget is short), they are taken
 * only a whole page at a time, or once the oldest has waited READ_HOLD_MS past its time, so a
 * list is never a request a create could have used for a handful of reads.
 */
import { PAGE } from './batch-reads.js';

/** The share of a claim kept for status reads and for deletes while any are due. */
export const RESERVED_SHARE = { poll: 0.25, delete: 0.15 } as const;

/** While creates wait, listed reads short of a page wait at most this long past their time. */
export const READ_HOLD_MS = 30_000;

/** Room for reads that go in lists, beside the claim's limit. */
export interface ListedReads {
  /** How many such reads this claim may take. */
  room: number;
  /** Providers whose status reads go in lists. */
  batching: ReadonlySet<string>;
  now: Date;
}

type Kind = 'create' | 'poll' | 'delete' | 'read';

interface Candidate { id: number; status: string; provider?: string | null; next_attempt_at?: Date | null }

function kindOf(c: Candidate, batching: ReadonlySet<string> | undefined): Kind {
  if (c.status === 'requested') return 'create';
  if (c.status === 'deleting') return 'delete';
  if (c.status === 'creating' && c.provider && batching?.has(c.provider)) return 'read';
  return 'poll';
}

/**
 * Choose up to `limit` of the due candidates (oldest due first within each kind): the reserved
 * shares first, then creates, then status reads, then deletes with whatever room is left; and,
 * with `listed`, up to its room of the reads that go in lists (see the module comment).
 */
export function choosePrioritized<T extends Candidate>(candidates: readonly T[], limit: number, listed?: ListedReads): T[] {
  const queues: Record<Kind, T[]> = { create: [], poll: [], delete: [], read: [] };
  for (const c of candidates) queues[kindOf(c, listed?.batching)].push(c);
  const chosen: T[] = [];
  const take = (kind: Kind, n: number) => { chosen.push(...queues[kind].splice(0, Math.max(0, Math.min(n, limit - chosen.length)))); };
  take('poll', queues.poll.length > 0 ? Math.max(1, Math.floor(limit * RESERVED_SHARE.poll)) : 0);
  take('delete', queues.delete.length > 0 ? Math.max(1, Math.floor(limit * RESERVED_SHARE.delete)) : 0);
  take('create', limit);
  take('poll', limit);
  take('delete', limit);
  if (listed && listed.room > 0 && queues.read.length > 0) {
    const createsWaiting = queues.create.length > 0;
    const oldest = queues.read.reduce((t, r) => Math.min(t, r.next_attempt_at?.getTime() ?? Number.NEGATIVE_INFINITY), Number.POSITIVE_INFINITY);
    if (!createsWaiting || queues.read.length >= Math.min(PAGE, listed.room) || oldest <= listed.now.getTime() - READ_HOLD_MS) {
      chosen.push(...queues.read.splice(0, listed.room));
    }
  }
  return chosen;
}
