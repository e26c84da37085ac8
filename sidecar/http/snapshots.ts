import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { previewRetention } from '../engine/apply-retention.js';
import { canTransition } from '../engine/lifecycle.js';
import { ApiError, conflict, notFound } from '../errors.js';
import { knownProviders, serverDisplayName, serverProblem } from '../host.js';
import { serversNeedingAttention } from '../health/health.js';
import type { Provider, ServerRef } from '../providers/types.js';
import { eventsForSnapshot, recordEvent } from '../store/events.js';
import { findSchedule, scheduleNames } from '../store/schedules.js';
import {
  findPanelRecord, findSnapshot, getSnapshot, insertSnapshot, listPage, queueDelete, removeRecord, updateDetails, type SnapshotRow,
} from '../store/snapshots.js';
import { parseId, parseOr400 } from '../validation.js';
import type { AppContext } from './context.js';
import { actorOf } from './signature.js';
import { encodeCursor, panelSnapshotSchema, parseListQuery, parsePatch, snapshotToApi } from './snapshots-wire.js';
import { idFormatProblem } from '../providers/id-formats.js';

const STILL_CREATING = 'This snapshot is still being created; wait until it is available or failed, then';

export function snapshotsRouter(ctx: AppContext): Router {
  const r = Router();
  const { db, clock } = ctx;

  async function enrich(rows: SnapshotRow[]) {
    const now = await clock.now(db);
    const names = await scheduleNames(db, [...new Set(rows.map((x) => x.schedule_id).filter((x): x is number => x !== null).map(Number))]);
    const servers = await ctx.host.getServers(rows.map((x) => Number(x.server_id)));
    const known = knownProviders(ctx.providers, ctx.providerProblems);
    return rows.map((row) => {
      const provider = row.provider ? ctx.providers.get(row.provider) : undefined;
      const sid = Number(row.server_id);
      return snapshotToApi(row, {
        now,
        scheduleName: row.schedule_id === null ? null : (names.get(Number(row.schedule_id)) ?? '(deleted schedule)'),
        canDelete: provider ? provider.capabilities.delete : false,
        serverProblem: serverProblem(sid, servers.get(sid), known),
      });
    });
  }

  r.get('/snapshots', async (req, res) => {
    const { filter, limit, needsAttention } = parseListQuery(req.query);
    // "Needs attention": snapshots of servers whose health is not ok (docs/alerts.md).
    if (needsAttention) filter.serverIds = await serversNeedingAttention(db, await clock.now(db), ctx.alerts?.deps.config.failingAfter ?? 3);
    const { rows, more } = await listPage(db, filter, limit);
    const last = rows[rows.length - 1];
    res.json({ items: await enrich(rows), nextCursor: more && last ? encodeCursor(Number(last.id)) : null });
  });

  r.get('/snapshots/:id', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const row = await getSnapshot(db, id);
    const [snapshot] = await enrich([row]);
    // What retention thinks of this snapshot right now, in words ("kept: daily #3").
    let retention: { action: string; reasons: string[] } | null = null;
    const schedule = row.schedule_id === null ? undefined : await findSchedule(db, Number(row.schedule_id));
    if (schedule) {
      const { decisions } = await previewRetention(db, await clock.now(db), Number(row.server_id), schedule);
      const d = decisions.find((x) => x.id === id);
      if (d) retention = { action: d.action, reasons: d.reasons };
    }
    res.json({ snapshot: { ...snapshot, retention } });
  });

  r.patch('/snapshots/:id', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const patch = parsePatch(req.body);
    const before = await getSnapshot(db, id);
    const now = await clock.now(db);
    const changes: string[] = [];
    const change: typeof patch = {};
    if (patch.keepForever !== undefined && (before.keep_forever === 1) !== patch.keepForever) {
      change.keepForever = patch.keepForever;
      changes.push(patch.keepForever ? 'Never delete automatically: on' : 'Never delete automatically: off');
    }
    if (patch.deleteNotBefore !== undefined && (before.delete_not_before?.getTime() ?? null) !== (patch.deleteNotBefore?.getTime() ?? null)) {
      change.deleteNotBefore = patch.deleteNotBefore;
      changes.push(patch.deleteNotBefore ? `Do not delete before ${patch.deleteNotBefore.toISOString()}` : 'Do not delete before: cleared');
    }
    if (patch.note !== undefined && (patch.note ?? null) !== before.note) {
      change.note = patch.note;
      changes.push('Note changed');
    }
    if (changes.length > 0) {
      await updateDetails(db, id, change, now);
      await recordEvent(db, { snapshotId: id, serverId: Number(before.server_id), scheduleId: before.schedule_id, actor: actorOf(req), action: 'updated', detail: changes.join('; '), at: now });
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
    if (row.status === 'deleting') throw conflict('This snapshot is already being deleted.');
    if (!canTransition(row.status, 'deleting', 'trash') && !canTransition(row.status, 'removed', 'trash')) {
      throw conflict(`${STILL_CREATING} trash it.`);
    }
    const deleter = provider && provider.capabilities.delete && row.provider_snapshot_id && canTransition(row.status, 'deleting', 'trash') ? provider : null;
    if (!deleter) {
      const why = !row.provider_snapshot_id ? 'there is nothing at the provider to delete'
        : row.status === 'superseded' ? 'the provider already replaced it'
        : !provider ? `provider "${row.provider ?? ''}" is not configured`
        : `${provider.displayName} cannot delete a single snapshot through its API; the provider copy stays`;
      if (!(await removeRecord(db, id, 'trash'))) throw conflict('This snapshot changed while you were looking at it; reload and try again.');
      await recordEvent(db, { snapshotId: id, serverId: Number(row.server_id), scheduleId: row.schedule_id, actor, action: 'trashed', detail: `Only our record was removed: ${why} (${row.name})`, at: now });
      res.json({ deleted: true, providerCopyKept: Boolean(row.provider_snapshot_id) && row.status !== 'superseded', message: `Removed from the list: ${why}.` });
      return;
    }
    if ((await queueDelete(db, [id], 'trash', now)) === 0) throw conflict('This snapshot changed while you were looking at it; reload and try again.');
    await recordEvent(db, { snapshotId: id, serverId: Number(row.server_id), scheduleId: row.schedule_id, actor, action: 'trash_requested', detail: null, at: now });
    await waitForSettled(ctx, id, ctx.trashWaitMs ?? 8000);
    const after = await findSnapshot(db, id);
    if (!after) {
      res.json({ deleted: true, providerCopyKept: false, message: `Deleted at ${deleter.displayName} and removed from the list.` });
      return;
    }
    const [snapshot] = await enrich([after]);
    if (after.status === 'delete_failed') {
      res.status(200).json({ deleted: false, snapshot, message: `${deleter.displayName} could not delete it: ${after.last_error ?? 'no reason given'} Use Delete Record to remove only our record.` });
      return;
    }
    res.status(202).json({ deleted: false, snapshot, message: after.last_error ? `Still trying: ${after.last_error}` : 'Deletion is under way at the provider.' });
  };
  r.delete('/snapshots/:id', trash);

  // DELETE RECORD: forget our record only; the provider copy (if any) is left as it is.
  const deleteRecord = async (req: Request, res: Response) => {
    const id = parseId(req.params.id, 'id');
    const row = await getSnapshot(db, id);
    // Forgetting a snapshot still being created would leave the provider's copy with no record pointing at it.
    if (!canTransition(row.status, 'removed', 'delete_record')) throw conflict(`${STILL_CREATING} delete the record.`);
    const now = await clock.now(db);
    if (!(await removeRecord(db, id, 'delete_record'))) throw conflict('This snapshot changed while you were looking at it; reload and try again.');
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
    if (items.length === 0 && !(await findSnapshot(db, id))) throw notFound(`Snapshot ${id}`);
    res.json({ items });
  });

  // A snapshot the host's backup tab took: record it in our list (origin panel).
  r.post('/panel-snapshots', async (req, res) => {
    const body = parseOr400(panelSnapshotSchema, req.body);
    const server = (await ctx.host.getServers([body.serverId])).get(body.serverId);
    if (!server) throw notFound(`Server ${body.serverId}`);
    const provider = server.provider ? ctx.providers.get(server.provider) : undefined;
    if (!provider) throw conflict(serverProblem(body.serverId, server, knownProviders(ctx.providers, ctx.providerProblems)) ?? 'This server has no configured provider.');
    const badId = idFormatProblem(provider.type, provider.displayName, body.providerSnapshotId);
    if (badId) throw new ApiError(400, 'validation_failed', badId, { fields: { providerSnapshotId: badId } });
    // The host may fire its hook twice for one snapshot: record it once.
    const existing = await findPanelRecord(db, body.serverId, body.providerSnapshotId);
    if (existing) {
      const [snapshot] = await enrich([existing]);
      res.status(200).json({ snapshot, alreadyRecorded: true });
      return;
    }
    const foreign = await foreignPanelObject(provider, { serverId: body.serverId, instanceId: server.instanceId ?? '', region: server.region, name: server.name }, body.providerSnapshotId);
    if (foreign) throw conflict(foreign);
    const now = await clock.now(db);
    const actor = actorOf(req);
    // The host says whether its id is final or intermediate (DigitalOcean's action id): an
    // intermediate id is kept as the pending reference and the adapter resolves the real
    // snapshot while following it. A host that does not say: every adapter that can resolve does.
    const canResolve = typeof provider.resolvePanelSnapshotId === 'function';
    if (body.idType === 'intermediate' && !canResolve) {
      throw conflict(`${provider.displayName} cannot follow the host's intermediate snapshot id ${body.providerSnapshotId}; record the snapshot's own id instead.`);
    }
    const needsResolve = body.idType === undefined ? canResolve : body.idType === 'intermediate';
    const id = await insertSnapshot(db, {
      serverId: body.serverId, origin: 'panel', status: 'creating', provider: server.provider, providerType: provider.type,
      providerSnapshotId: needsResolve ? null : body.providerSnapshotId, pendingRef: needsResolve ? body.providerSnapshotId : null,
      name: `panel-${body.providerSnapshotId}`, serverName: serverDisplayName(server, body.serverId),
      instanceId: server.instanceId, region: server.region, note: body.note ?? null, requestedBy: actor, now,
    });
    await recordEvent(db, { snapshotId: id, serverId: body.serverId, actor, action: 'recorded_from_panel', detail: `Host backup tab: ${body.providerSnapshotId}`, at: now });
    ctx.engine.wake();
    const [snapshot] = await enrich([await getSnapshot(db, id)]);
    res.status(201).json({ snapshot });
  });

  return r;
}

/** Resolve when the engine settles this snapshot (in this process), or after `ms`. */
function waitForSettled(ctx: AppContext, id: number, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const onSettled = (e: { id: number }) => {
      if (e.id !== id) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => { cleanup(); resolve(); }, ms);
    const cleanup = () => { clearTimeout(timer); ctx.engine.off('settled', onSettled); };
    ctx.engine.on('settled', onSettled);
    ctx.engine.wake();
  });
}

/**
 * A panel record must name a snapshot of its own server: where the provider says which server
 * an object was made from and it is another one, the record is refused with a sentence. A
 * provider that cannot be asked now, or an id it resolves later (DigitalOcean's action id), is
 * recorded (DigitalOcean: an action id is no snapshot id yet); the check before every delete (engine/ownership.ts) still protects it.
 */
async function foreignPanelObject(provider: Provider, server: ServerRef, id: string): Promise<string | null> {
  if (!provider.describe || !server.instanceId) return null;
  const facts = await provider.describe(server, id).catch(() => null);
  if (!facts || facts.sourceInstanceId === null || facts.sourceInstanceId === server.instanceId) return null;
  return `${provider.displayName} snapshot ${id} was made from server ${facts.sourceInstanceId}, not from this server (${server.instanceId}); it was not recorded.`;
}
