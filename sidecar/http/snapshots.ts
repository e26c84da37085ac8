import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { previewRetention } from '../engine/apply-retention.js';
import { ApiError, conflict, notFound } from '../errors.js';
import { serverDisplayName, serverProblem } from '../host.js';
import { getSnapshot, listSnapshots, parsePatch, snapshotToApi, type SnapshotRow } from '../snapshots.js';
import { eventsForSnapshot, recordEvent } from '../store/events.js';
import { parseId, parseOr400 } from '../validation.js';
import type { AppContext } from './context.js';
import { actorOf } from './signature.js';

export function snapshotsRouter(ctx: AppContext): Router {
  const r = Router();
  const { db, clock } = ctx;

  async function enrich(rows: SnapshotRow[]) {
    const now = await clock.now(db);
    const scheduleIds = [...new Set(rows.map((x) => x.schedule_id).filter((x): x is number => x !== null).map(Number))];
    const names = new Map(scheduleIds.length
      ? (await db.selectFrom('ss_schedules').select(['id', 'name']).where('id', 'in', scheduleIds).execute()).map((s) => [Number(s.id), s.name])
      : []);
    const servers = await ctx.host.getServers(rows.map((x) => Number(x.server_id)));
    const known = new Set(ctx.providers.keys());
    return rows.map((row) => {
      const provider = row.provider ? ctx.providers.get(row.provider) : undefined;
      const sid = Number(row.server_id);
      const server = servers.get(sid);
      const problem = server ? serverProblem(sid, server, known) : serverProblem(sid, undefined, known);
      return snapshotToApi(row, {
        now,
        scheduleName: row.schedule_id === null ? null : (names.get(Number(row.schedule_id)) ?? '(deleted schedule)'),
        canDelete: provider ? provider.capabilities.delete : false,
        serverProblem: problem,
      });
    });
  }

  r.get('/snapshots', async (req, res) => {
    const { rows, nextCursor } = await listSnapshots(db, req.query);
    res.json({ items: await enrich(rows), nextCursor });
  });

  r.get('/snapshots/:id', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const row = await getSnapshot(db, id);
    const [snapshot] = await enrich([row]);
    // What retention thinks of this snapshot right now, in words ("kept: daily #3").
    let retention: { action: string; reasons: string[] } | null = null;
    if (row.schedule_id !== null) {
      const schedule = await db.selectFrom('ss_schedules').selectAll().where('id', '=', Number(row.schedule_id)).executeTakeFirst();
      if (schedule) {
        const { decisions } = await previewRetention(db, await clock.now(db), Number(row.server_id), schedule);
        const d = decisions.find((x) => x.id === id);
        if (d) retention = { action: d.action, reasons: d.reasons };
      }
    }
    res.json({ snapshot: { ...snapshot, retention } });
  });

  r.patch('/snapshots/:id', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const patch = parsePatch(req.body);
    const before = await getSnapshot(db, id);
    const now = await clock.now(db);
    const actor = actorOf(req);
    const changes: string[] = [];
    const set: Record<string, unknown> = { updated_at: now };
    if (patch.keepForever !== undefined && (before.keep_forever === 1) !== patch.keepForever) {
      set.keep_forever = patch.keepForever ? 1 : 0;
      changes.push(patch.keepForever ? 'Never delete automatically: on' : 'Never delete automatically: off');
    }
    if (patch.deleteNotBefore !== undefined && (before.delete_not_before?.getTime() ?? null) !== (patch.deleteNotBefore?.getTime() ?? null)) {
      set.delete_not_before = patch.deleteNotBefore;
      changes.push(patch.deleteNotBefore ? `Do not delete before ${patch.deleteNotBefore.toISOString()}` : 'Do not delete before: cleared');
    }
    if (patch.note !== undefined && (patch.note ?? null) !== before.note) {
      set.note = patch.note;
      changes.push('Note changed');
    }
    if (changes.length > 0) {
      await db.updateTable('ss_snapshots').set(set).where('id', '=', id).execute();
      await recordEvent(db, { snapshotId: id, serverId: Number(before.server_id), scheduleId: before.schedule_id, actor, action: 'updated', detail: changes.join('; '), at: now });
    }
    const [snapshot] = await enrich([await getSnapshot(db, id)]);
    res.json({ snapshot });
  });

  // TRASH: delete at the provider, then drop our record. The engine does the provider call
  // (with its retries); we wait a little so the screen can usually show the outcome at once.
  const trash = async (req: Request, res: Response) => {
    const id = parseId(req.params.id, 'id');
    const row = await getSnapshot(db, id);
    const actor = actorOf(req);
    const now = await clock.now(db);
    const provider = row.provider ? ctx.providers.get(row.provider) : undefined;
    if (row.status === 'requested' || row.status === 'creating') {
      throw conflict('This snapshot is still being created; wait until it is available or failed, then trash it.');
    }
    if (row.status === 'deleting') throw conflict('This snapshot is already being deleted.');
    const cannotDelete = !provider || !provider.capabilities.delete || !row.provider_snapshot_id || row.status === 'superseded';
    if (cannotDelete) {
      const why = !row.provider_snapshot_id ? 'there is nothing at the provider to delete'
        : row.status === 'superseded' ? 'the provider already replaced it'
        : !provider ? `provider "${row.provider ?? ''}" is not configured`
        : `${provider.displayName} cannot delete a single snapshot through its API; the provider copy stays`;
      await db.deleteFrom('ss_snapshots').where('id', '=', id).execute();
      await recordEvent(db, { snapshotId: id, serverId: Number(row.server_id), scheduleId: row.schedule_id, actor, action: 'trashed', detail: `Only our record was removed: ${why} (${row.name})`, at: now });
      res.json({ deleted: true, providerCopyKept: Boolean(row.provider_snapshot_id) && row.status !== 'superseded', message: `Removed from the list: ${why}.` });
      return;
    }
    const upd = await db.updateTable('ss_snapshots')
      .set({ status: 'deleting', next_attempt_at: now, attempts: 0, lease_owner: null, last_error: null, updated_at: now })
      .where('id', '=', id).where('status', 'in', ['available', 'failed', 'delete_failed']).executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) throw conflict('This snapshot changed while you were looking at it; reload and try again.');
    await recordEvent(db, { snapshotId: id, serverId: Number(row.server_id), scheduleId: row.schedule_id, actor, action: 'trash_requested', detail: null, at: now });
    const outcome = await waitForSettled(ctx, id, ctx.trashWaitMs ?? 8000);
    const after = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', id).executeTakeFirst();
    if (!after) {
      res.json({ deleted: true, providerCopyKept: false, message: `Deleted at ${provider!.displayName} and removed from the list.` });
      return;
    }
    const [snapshot] = await enrich([after]);
    if (after.status === 'delete_failed') {
      res.status(200).json({ deleted: false, snapshot, message: `${provider!.displayName} could not delete it: ${after.last_error ?? 'no reason given'} Use Delete Record to remove only our record.` });
      return;
    }
    void outcome;
    res.status(202).json({ deleted: false, snapshot, message: after.last_error ? `Still trying: ${after.last_error}` : 'Deletion is under way at the provider.' });
  };
  r.delete('/snapshots/:id', trash);

  // DELETE RECORD: forget our record only; the provider copy (if any) is left as it is.
  const deleteRecord = async (req: Request, res: Response) => {
    const id = parseId(req.params.id, 'id');
    const row = await getSnapshot(db, id);
    if (row.status === 'requested' || row.status === 'creating') {
      // Forgetting it now would leave the provider's copy with no record pointing at it.
      throw conflict('This snapshot is still being created; wait until it is available or failed, then delete the record.');
    }
    const now = await clock.now(db);
    await db.deleteFrom('ss_snapshots').where('id', '=', id).execute();
    await recordEvent(db, {
      snapshotId: id, serverId: Number(row.server_id), scheduleId: row.schedule_id, actor: actorOf(req), action: 'record_deleted',
      detail: `Record removed; provider copy ${row.provider_snapshot_id ? `${row.provider_snapshot_id} left at ${row.provider ?? 'the provider'}` : 'never existed'} (${row.name})`, at: now,
    });
    res.json({ deleted: true, providerCopyKept: Boolean(row.provider_snapshot_id), message: row.provider_snapshot_id ? `Record removed. The copy at the provider (${row.provider_snapshot_id}) was left as it is.` : 'Record removed.' });
  };
  r.delete('/snapshots/:id/record', deleteRecord);

  // Bulk Trash / Delete Record: each id goes through the same handler as a single click, and
  // every row's outcome is reported (trashed, record-only, pending, delete-failed, refused).
  r.post('/snapshots/bulk', async (req, res) => {
    const body = parseOr400(z.object({
      action: z.enum(['trash', 'delete_record']),
      ids: z.array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).min(1).max(200),
    }).strict(), req.body);
    const results = await Promise.all([...new Set(body.ids)].map(async (id) => {
      const one = { statusCode: 200, body: {} as Record<string, unknown>, status(c: number) { this.statusCode = c; return this; }, json(b: Record<string, unknown>) { this.body = b; return this; } };
      const fake = Object.assign(Object.create(req) as Request, { params: { id: String(id) } });
      try {
        await (body.action === 'trash' ? trash : deleteRecord)(fake, one as unknown as Response);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        return { id, outcome: e.status === 404 ? 'not-found' : 'refused', message: e.message };
      }
      const b = one.body as { deleted?: boolean; providerCopyKept?: boolean; message?: string; snapshot?: { status?: string } };
      const outcome = body.action === 'delete_record' ? 'record-deleted'
        : b.deleted ? (b.providerCopyKept ? 'record-only' : 'trashed')
        : b.snapshot?.status === 'delete_failed' ? 'delete-failed' : 'pending';
      return { id, outcome, message: b.message ?? '' };
    }));
    res.json({ results });
  });

  r.get('/snapshots/:id/events', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const items = await eventsForSnapshot(db, id);
    if (items.length === 0) {
      const exists = await db.selectFrom('ss_snapshots').select('id').where('id', '=', id).executeTakeFirst();
      if (!exists) throw notFound(`Snapshot ${id}`);
    }
    res.json({ items });
  });

  // A snapshot the host's backup tab took: record it in our list (origin panel).
  r.post('/panel-snapshots', async (req, res) => {
    const body = parseOr400(z.object({
      serverId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      providerSnapshotId: z.union([z.string().trim().min(1).max(190), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).transform(String)]),
      action: z.string().max(100).optional(),
      note: z.string().max(2000).optional(),
    }).strict(), req.body);
    const server = (await ctx.host.getServers([body.serverId])).get(body.serverId);
    if (!server) throw notFound(`Server ${body.serverId}`);
    const provider = server.provider ? ctx.providers.get(server.provider) : undefined;
    if (!provider) throw conflict(serverProblem(body.serverId, server, new Set(ctx.providers.keys())) ?? 'This server has no configured provider.');
    // The host may fire its hook twice for one snapshot: record it once.
    const existing = await db.selectFrom('ss_snapshots').selectAll().where('server_id', '=', body.serverId).where('origin', '=', 'panel')
      .where((eb) => eb.or([eb('provider_snapshot_id', '=', body.providerSnapshotId), eb('pending_ref', '=', body.providerSnapshotId)])).executeTakeFirst();
    if (existing) {
      const [snapshot] = await enrich([existing]);
      res.status(200).json({ snapshot, alreadyRecorded: true });
      return;
    }
    const now = await clock.now(db);
    const actor = actorOf(req);
    // DigitalOcean's backup tab stores an action id, not a snapshot id: keep it as the pending
    // reference and let the adapter resolve the real snapshot while following it.
    const needsResolve = typeof provider.resolvePanelSnapshotId === 'function';
    const ins = await db.insertInto('ss_snapshots').values({
      server_id: body.serverId, schedule_id: null, slot_at: null, origin: 'panel', status: 'creating',
      provider: server.provider, provider_type: provider.type,
      provider_snapshot_id: needsResolve ? null : body.providerSnapshotId, pending_ref: needsResolve ? body.providerSnapshotId : null,
      name: `panel-${body.providerSnapshotId}`.slice(0, 190), server_name: serverDisplayName(server, body.serverId).slice(0, 190),
      instance_id: server.instanceId, keep_forever: 0, note: body.note ?? null, attempts: 0, next_attempt_at: now,
      requested_by: actor, created_at: now, updated_at: now,
    }).executeTakeFirstOrThrow();
    const id = Number(ins.insertId);
    await recordEvent(db, { snapshotId: id, serverId: body.serverId, actor, action: 'recorded_from_panel', detail: `Host backup tab: ${body.providerSnapshotId}`, at: now });
    ctx.engine.wake();
    const [snapshot] = await enrich([await getSnapshot(db, id)]);
    res.status(201).json({ snapshot });
  });

  return r;
}

/** Resolve when the engine settles this snapshot (in this process), or after `ms`. */
function waitForSettled(ctx: AppContext, id: number, ms: number): Promise<string | null> {
  return new Promise((resolve) => {
    const onSettled = (e: { id: number; status: string }) => {
      if (e.id !== id) return;
      cleanup();
      resolve(e.status);
    };
    const timer = setTimeout(() => { cleanup(); resolve(null); }, ms);
    const cleanup = () => { clearTimeout(timer); ctx.engine.off('settled', onSettled); };
    ctx.engine.on('settled', onSettled);
    ctx.engine.wake();
  });
}
