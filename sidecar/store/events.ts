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
