/**
 * Incidents and alert deliveries. Race safety lives in the SQL, not in any one sidecar:
 * an incident opens through the unique open key (one open incident per server), closes
 * through a conditional UPDATE (only the one that closes it queues the recovery), deliveries
 * are deduplicated by their key and claimed with FOR UPDATE SKIP LOCKED + a lease, exactly
 * like snapshot work.
 */
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { DB } from '../db.js';
import type { AlertDeliveriesTable, HealthState, IncidentsTable } from '../schema.js';

export type IncidentRow = Selectable<IncidentsTable>;
export type DeliveryRow = Selectable<AlertDeliveriesTable>;

export interface NewDelivery { dedupeKey: string; incidentId: number | null; channel: 'email' | 'webhook'; kind: 'open' | 'recovery' | 'digest'; payload: string }

export async function openIncidents(db: DB): Promise<IncidentRow[]> {
  return await db.selectFrom('ss_incidents').selectAll().where('open_server_id', 'is not', null).orderBy('id').execute();
}

export async function listIncidents(db: DB, opts: { open?: boolean; serverId?: number; limit: number }): Promise<IncidentRow[]> {
  let q = db.selectFrom('ss_incidents').selectAll();
  if (opts.open) q = q.where('open_server_id', 'is not', null);
  if (opts.serverId !== undefined) q = q.where('server_id', '=', opts.serverId);
  return await q.orderBy('id', 'desc').limit(opts.limit).execute();
}

async function enqueue(db: DB, now: Date, deliveries: NewDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await db.insertInto('ss_alert_deliveries').ignore().values(deliveries.map((d) => ({
    dedupe_key: d.dedupeKey.slice(0, 190), incident_id: d.incidentId, channel: d.channel, kind: d.kind, payload: d.payload,
    status: 'pending' as const, attempts: 0, next_attempt_at: now, lease_owner: null, last_error: null, created_at: now, sent_at: null,
  }))).execute();
}

export interface IncidentInput {
  serverId: number; scheduleId: number | null; state: Exclude<HealthState, 'ok'>;
  serverName: string | null; scheduleName: string | null; reason: string | null; startedAt: Date;
}

/**
 * Open an incident (closing `previousId` first when the state changed), then queue its
 * messages, all in one transaction. Returns the new incident, or null when another sidecar
 * got there first (nothing is queued then).
 */
export async function openIncident(db: DB, now: Date, input: IncidentInput, previousId: number | null,
  messagesFor: (incidentId: number) => NewDelivery[]): Promise<number | null> {
  return await db.transaction().execute(async (trx) => {
    if (previousId !== null) {
      const closed = await trx.updateTable('ss_incidents').set({ open_server_id: null, resolved_at: now })
        .where('id', '=', previousId).where('open_server_id', 'is not', null).executeTakeFirst();
      if (Number(closed.numUpdatedRows) === 0) return null;
    }
    const res = await trx.insertInto('ss_incidents').ignore().values({
      server_id: input.serverId, open_server_id: input.serverId, schedule_id: input.scheduleId, state: input.state,
      server_name: input.serverName?.slice(0, 190) ?? null, schedule_name: input.scheduleName?.slice(0, 190) ?? null,
      reason: input.reason?.slice(0, 1000) ?? null, started_at: input.startedAt, resolved_at: null,
    }).executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) return null;
    const id = Number(res.insertId);
    await enqueue(trx, now, messagesFor(id));
    return id;
  });
}

/** Resolve an open incident and queue the recovery; false when it was already resolved. */
export async function resolveIncident(db: DB, now: Date, incidentId: number, messages: NewDelivery[]): Promise<boolean> {
  return await db.transaction().execute(async (trx) => {
    const closed = await trx.updateTable('ss_incidents').set({ open_server_id: null, resolved_at: now })
      .where('id', '=', incidentId).where('open_server_id', 'is not', null).executeTakeFirst();
    if (Number(closed.numUpdatedRows) === 0) return false;
    await enqueue(trx, now, messages);
    return true;
  });
}

/** Queue deliveries that stand alone (the daily digest); the dedupe key makes it once a day. */
export async function enqueueDeliveries(db: DB, now: Date, deliveries: NewDelivery[]): Promise<void> {
  await enqueue(db, now, deliveries);
}

export async function claimDeliveries(db: DB, now: Date, instanceId: string, leaseMs: number, channels: string[], limit: number): Promise<{ token: string; rows: DeliveryRow[] }> {
  const token = `${instanceId}:${randomUUID()}`.slice(0, 80);
  if (channels.length === 0 || limit <= 0) return { token, rows: [] };
  const rows = await db.transaction().execute(async (trx) => {
    const due = await trx.selectFrom('ss_alert_deliveries').select('id')
      .where('next_attempt_at', '<=', now).where('channel', 'in', channels as never)
      .orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked().execute();
    if (due.length === 0) return [];
    const ids = due.map((d) => Number(d.id));
    await trx.updateTable('ss_alert_deliveries')
      .set((eb) => ({ lease_owner: token, next_attempt_at: new Date(now.getTime() + leaseMs), attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids).execute();
    return await trx.selectFrom('ss_alert_deliveries').selectAll().where('id', 'in', ids).execute();
  });
  return { token, rows };
}

/** Store a send's outcome, only while the lease is still ours. */
export async function settleDelivery(db: DB, id: number, token: string, values: { status: 'sent' | 'pending' | 'failed'; nextAttemptAt: Date | null; lastError: string | null; sentAt: Date | null }): Promise<boolean> {
  const res = await db.updateTable('ss_alert_deliveries').set({
    status: values.status, next_attempt_at: values.nextAttemptAt, last_error: values.lastError?.slice(0, 1000) ?? null,
    sent_at: values.sentAt, lease_owner: null,
  }).where('id', '=', id).where('lease_owner', '=', token).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function releaseDeliveries(db: DB, tokens: string[], now: Date): Promise<void> {
  if (tokens.length === 0) return;
  await db.updateTable('ss_alert_deliveries').set({ lease_owner: null, next_attempt_at: now })
    .where('lease_owner', 'in', tokens).where('status', '=', 'pending').execute();
}

/**
 * Take a named run lease (one sidecar evaluates health at a time). `minGapMs` keeps the
 * evaluations of all sidecars together at about one per check period.
 */
export async function takeRunLease(db: DB, name: string, token: string, now: Date, leaseMs: number, minGapMs: number): Promise<boolean> {
  await db.insertInto('ss_alert_runs').ignore().values({ name, lease_owner: null, lease_until: new Date(0), last_run_at: null }).execute();
  const gapBefore = new Date(now.getTime() - minGapMs);
  const res = await db.updateTable('ss_alert_runs').set({ lease_owner: token, lease_until: new Date(now.getTime() + leaseMs) })
    .where('name', '=', name).where('lease_until', '<=', now)
    .where((eb) => eb.or([eb('last_run_at', 'is', null), eb('last_run_at', '<=', gapBefore)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function finishRunLease(db: DB, name: string, token: string, now: Date): Promise<void> {
  await db.updateTable('ss_alert_runs').set({ lease_owner: null, lease_until: now, last_run_at: now })
    .where('name', '=', name).where('lease_owner', '=', token).execute();
}

export async function deliveryCounts(db: DB): Promise<Array<{ channel: string; status: string; n: number }>> {
  const rows = await db.selectFrom('ss_alert_deliveries').select(['channel', 'status']).select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['channel', 'status']).execute();
  return rows.map((r) => ({ channel: r.channel, status: r.status, n: Number(r.n) }));
}

/** Servers in an open critical incident, by server id (the screens' critical notice). */
export async function openCriticalIncidents(db: DB, limit: number): Promise<Array<{ server_id: number; server_name: string | null }>> {
  const rows = await db.selectFrom('ss_incidents').select(['server_id', 'server_name'])
    .where('state', '=', 'critical').where('open_server_id', 'is not', null).orderBy('open_server_id').limit(limit).execute();
  return rows.map((r) => ({ server_id: Number(r.server_id), server_name: r.server_name }));
}

/** How many servers have an open incident (not ok): the open index counted, no rows read. */
export async function countOpenIncidents(db: DB): Promise<number> {
  const row = await db.selectFrom('ss_incidents').select((eb) => eb.fn.countAll<number>().as('n')).where('open_server_id', 'is not', null).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Every server with an open incident (not ok), by id. */
export async function serversWithOpenIncidents(db: DB): Promise<number[]> {
  const rows = await db.selectFrom('ss_incidents').select('server_id').where('open_server_id', 'is not', null).orderBy('open_server_id').execute();
  return rows.map((r) => Number(r.server_id));
}

/** When the named run (e.g. the health evaluation) last finished, by any sidecar, and until when a pass holds it now. */
export async function runState(db: DB, name: string): Promise<{ lastRunAt: Date | null; leaseUntil: Date | null }> {
  const run = await db.selectFrom('ss_alert_runs').select(['last_run_at', 'lease_until']).where('name', '=', name).executeTakeFirst();
  return { lastRunAt: run?.last_run_at ?? null, leaseUntil: run?.lease_until ?? null };
}

/** Open incidents by state: servers warning, failing and critical (the open index, no rows read). */
export async function openIncidentCounts(db: DB): Promise<Array<{ state: HealthState; n: number }>> {
  const rows = await db.selectFrom('ss_incidents').select('state').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('open_server_id', 'is not', null).groupBy('state').execute();
  return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
}

/** The servers of the `limit` worst open incidents: critical, failing, then warning; longest open first. */
export async function worstOpenIncidents(db: DB, limit: number): Promise<number[]> {
  const out: number[] = [];
  for (const state of ['critical', 'failing', 'warning'] as const) {
    if (out.length >= limit) break;
    const rows = await db.selectFrom('ss_incidents').select('server_id').where('state', '=', state).where('open_server_id', 'is not', null)
      .orderBy('started_at').orderBy('server_id').limit(limit - out.length).execute();
    out.push(...rows.map((r) => Number(r.server_id)));
  }
  return out;
}
