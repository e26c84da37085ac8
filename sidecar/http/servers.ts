import { Router } from 'express';
import { z } from 'zod';
import { previewRetention } from '../engine/apply-retention.js';
import { conflict, invalid, notFound } from '../errors.js';
import { knownProviders, serverDisplayName, serverProblem, type HostServer } from '../host.js';
import { timingOf } from '../schedules.js';
import { nextDueAfter, spreadOffsetMs } from '../slots.js';
import { markerName } from '../snapshots.js';
import { assign, assignmentsOfServer, deleteAssignments, lockServerAssignments, scheduleIdsOfServer as assignedScheduleIds } from '../store/assignments.js';
import { recordEvent, recordEvents } from '../store/events.js';
import { schedulesByIds } from '../store/schedules.js';
import { getSnapshot, insertSnapshot, latestOfServer, scheduleIdsOfServer as snapshottedScheduleIds, setName } from '../store/snapshots.js';
import { parseId, parseOr400 } from '../validation.js';
import type { AppContext } from './context.js';
import { actorOf } from './signature.js';
import { snapshotToApi } from './snapshots-wire.js';
import { capabilitiesOf } from './providers.js';

export function serversRouter(ctx: AppContext): Router {
  const r = Router();
  const { db, clock, host } = ctx;
  const known = () => knownProviders(ctx.providers, ctx.providerProblems);

  async function requireServer(id: number): Promise<HostServer> {
    const s = (await host.getServers([id])).get(id);
    if (!s) throw notFound(`Server ${id}`);
    return s;
  }

  async function schedulesOf(serverId: number) {
    return (await assignmentsOfServer(db, serverId)).map((a) => {
      // nextRunAt is when this server runs; slotAt the schedule's slot it belongs to (the spread offset before it).
      const offset = spreadOffsetMs(a.timing, serverId);
      return {
        scheduleId: a.scheduleId, name: a.name, enabled: a.enabled, nextRunAt: a.enabled ? a.nextSlotAt.toISOString() : null,
        slotAt: a.enabled ? new Date(a.nextSlotAt.getTime() - offset).toISOString() : null, spreadOffsetSeconds: offset / 1000, problem: a.problem,
      };
    });
  }

  r.get('/', async (req, res) => {
    const q = parseOr400(z.object({
      limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().min(1).max(5000)).optional(),
      afterId: z.string().regex(/^\d{1,15}$/).transform(Number).optional(),
    }).strict(), req.query);
    const servers = await host.listServers({ limit: q.limit ?? 500, afterId: q.afterId });
    res.json({ items: servers.map((s) => ({ id: s.id, name: serverDisplayName(s, s.id), provider: s.provider, problem: serverProblem(s.id, s, known()) })) });
  });

  r.get('/:serverId', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const s = await requireServer(id);
    const provider = s.provider ? ctx.providers.get(s.provider) : undefined;
    const schedules = await schedulesOf(id);
    const last = await latestOfServer(db, id);
    const now = await clock.now(db);
    res.json({
      server: {
        id, name: serverDisplayName(s, id), provider: s.provider, providerType: provider?.type ?? null,
        providerName: provider?.displayName ?? null, instanceId: s.instanceId, region: s.region,
        problem: serverProblem(id, s, known()), capabilities: provider ? capabilitiesOf(provider) : null,
      },
      schedules,
      lastSnapshot: last ? snapshotToApi(last, { now }) : null,
    });
  });

  r.get('/:serverId/schedules', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const schedules = await schedulesOf(id);
    res.json({
      serverId: id,
      scheduleIds: schedules.map((a) => a.scheduleId),
      schedules,
    });
  });

  r.put('/:serverId/schedules', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const body = parseOr400(z.object({ scheduleIds: z.array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).max(100) }).strict(), req.body);
    await requireServer(id);
    const wanted = [...new Set(body.scheduleIds)];
    const found = await schedulesByIds(db, wanted);
    const missing = wanted.filter((w) => !found.some((f) => Number(f.id) === w));
    if (missing.length > 0) throw invalid({ scheduleIds: `schedule ${missing.join(', ')} does not exist; reload the page to see the current schedules` });
    const now = await clock.now(db);
    const actor = actorOf(req);
    await db.transaction().execute(async (trx) => {
      const current = await lockServerAssignments(trx, id);
      const currentIds = new Set(current.map((c) => c.scheduleId));
      const toRemove = current.filter((c) => !wanted.includes(c.scheduleId));
      const toAdd = found.filter((f) => !currentIds.has(Number(f.id)));
      await deleteAssignments(trx, toRemove.map((c) => c.id));
      await assign(trx, id, toAdd.map((s) => ({ scheduleId: Number(s.id), nextSlotAt: nextDueAfter(timingOf(s), id, now).dueAt })), now);
      await recordEvents(trx, [
        ...toAdd.map((s) => ({ serverId: id, scheduleId: Number(s.id), actor, action: 'schedule_assigned', detail: s.name, at: now })),
        ...toRemove.map((c) => ({ serverId: id, scheduleId: c.scheduleId, actor, action: 'schedule_unassigned', detail: null, at: now })),
      ]);
    });
    const schedules = await schedulesOf(id);
    res.json({
      serverId: id,
      scheduleIds: schedules.map((a) => a.scheduleId),
      schedules,
    });
  });

  // Take a snapshot now (origin manual). The row is written here; the engine calls the provider.
  r.post('/:serverId/snapshots', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const body = parseOr400(z.object({ note: z.string().max(2000).optional() }).strict(), req.body ?? {});
    const s = await requireServer(id);
    const problem = serverProblem(id, s, known());
    if (problem) throw conflict(problem);
    const provider = ctx.providers.get(s.provider!)!;
    if (!provider.capabilities.create) throw conflict(`${provider.displayName} cannot take snapshots through its API.`);
    const now = await clock.now(db);
    const actor = actorOf(req);
    const snapshotId = await insertSnapshot(db, {
      serverId: id, origin: 'manual', status: 'requested', provider: s.provider, providerType: provider.type,
      serverName: serverDisplayName(s, id), instanceId: s.instanceId, region: s.region, note: body.note ?? null, requestedBy: actor, now,
    });
    await setName(db, snapshotId, markerName(snapshotId, serverDisplayName(s, id), now));
    await recordEvent(db, { snapshotId, serverId: id, actor, action: 'requested', detail: 'Manual snapshot', at: now });
    ctx.engine.wake();
    const row = await getSnapshot(db, snapshotId);
    res.status(202).json({ snapshot: snapshotToApi(row, { now, canDelete: provider.capabilities.delete }) });
  });

  r.get('/:serverId/retention-preview', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const now = await clock.now(db);
    const ids = [...new Set([...await assignedScheduleIds(db, id), ...await snapshottedScheduleIds(db, id)])];
    const schedules = await schedulesByIds(db, ids);
    const out = [];
    for (const s of schedules) {
      const { decisions, rows } = await previewRetention(db, now, id, s);
      const byId = new Map(rows.map((x) => [Number(x.id), x]));
      out.push({ scheduleId: Number(s.id), name: s.name, decisions: decisions.map((d) => ({ ...d, name: byId.get(d.id)?.name ?? null, status: byId.get(d.id)?.status ?? null })) });
    }
    res.json({ serverId: id, schedules: out });
  });

  return r;
}
