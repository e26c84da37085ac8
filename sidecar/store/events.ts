import type { DB } from '../db.js';

/** Every change of state is an audit event: who (user id or `scheduler`), what, when. */
export interface EventInput {
  snapshotId?: number | null;
  scheduleId?: number | null;
  serverId?: number | null;
  actor: string;
  action: string;
  detail?: string | null;
  at: Date;
}

export async function recordEvent(db: DB, e: EventInput): Promise<void> {
  await recordEvents(db, [e]);
}

export async function recordEvents(db: DB, events: EventInput[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto('ss_events').values(events.map((e) => ({
    snapshot_id: e.snapshotId ?? null,
    schedule_id: e.scheduleId ?? null,
    server_id: e.serverId ?? null,
    actor: e.actor.slice(0, 64),
    action: e.action.slice(0, 64),
    detail: e.detail ? e.detail.slice(0, 2000) : null,
    at: e.at,
  }))).execute();
}

export async function eventsForSnapshot(db: DB, snapshotId: number, limit = 200) {
  const rows = await db.selectFrom('ss_events').selectAll().where('snapshot_id', '=', snapshotId)
    .orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: Number(r.id), at: r.at.toISOString(), actor: r.actor, action: r.action, detail: r.detail,
  }));
}

/**
 * Forget audit events older than `cutoff`, except those of snapshots still listed (their
 * history stays with them). Small batches, so the table is never locked for long.
 */
export async function pruneEventsBefore(db: DB, cutoff: Date): Promise<number> {
  let total = 0;
  for (let i = 0; i < 1000; i++) {
    const r = await db.deleteFrom('ss_events').where('at', '<', cutoff)
      .where((eb) => eb.or([
        eb('snapshot_id', 'is', null),
        eb.not(eb.exists(eb.selectFrom('ss_snapshots').select('ss_snapshots.id').whereRef('ss_snapshots.id', '=', 'ss_events.snapshot_id'))),
      ]))
      .limit(5000).executeTakeFirst();
    const n = Number(r.numDeletedRows);
    total += n;
    if (n < 5000) break;
  }
  return total;
}
