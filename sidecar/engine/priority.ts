/**
 * Creates first: when more work is due than one claim takes, the claim takes creates of due
 * slots before status reads (a snapshot still being made loses nothing by waiting), and
 * deletes last (an old snapshot kept a little longer costs little). Each request spends the
 * account's budget, so the claim order is the order the budget is spent in. Nothing starves:
 * status reads and deletes each keep a reserved share of every claim while any are due.
 */

/** The share of a claim kept for status reads and for deletes while any are due. */
export const RESERVED_SHARE = { poll: 0.25, delete: 0.15 } as const;

type Kind = 'create' | 'poll' | 'delete';

function kindOf(status: string): Kind {
  if (status === 'requested') return 'create';
  if (status === 'deleting') return 'delete';
  return 'poll';
}

/**
 * Choose up to `limit` of the due candidates (oldest due first within each kind): the reserved
 * shares first, then creates, then status reads, then deletes with whatever room is left.
 */
export function choosePrioritized<T extends { id: number; status: string }>(candidates: readonly T[], limit: number): T[] {
  const queues: Record<Kind, T[]> = { create: [], poll: [], delete: [] };
  for (const c of candidates) queues[kindOf(c.status)].push(c);
  const chosen: T[] = [];
  const take = (kind: Kind, n: number) => { chosen.push(...queues[kind].splice(0, Math.max(0, Math.min(n, limit - chosen.length)))); };
  take('poll', queues.poll.length > 0 ? Math.max(1, Math.floor(limit * RESERVED_SHARE.poll)) : 0);
  take('delete', queues.delete.length > 0 ? Math.max(1, Math.floor(limit * RESERVED_SHARE.delete)) : 0);
  take('create', limit);
  take('poll', limit);
  take('delete', limit);
  return chosen;
}
