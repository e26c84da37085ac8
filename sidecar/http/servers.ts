import { Router } from 'express';
import { z } from 'zod';
import { previewRetention } from '../engine/apply-retention.js';
import { conflict, invalid, notFound } from '../errors.js';
import { serverDisplayName, serverProblem, type HostServer } from '../host.js';
import { timingOf } from '../schedules.js';
import { nextSlotAfter } from '../slots.js';
import { markerName, snapshotToApi } from '../snapshots.js';
import { recordEvent, recordEvents } from '../store/events.js';
import { parseId, parseOr400 } from '../validation.js';
import type { AppContext } from './context.js';
import { actorOf } from './signature.js';
import { capabilitiesOf } from './providers.js';

export function serversRouter(ctx: AppContext): Router {
  const r = Router();
  const { db, clock, host } = ctx;
  const known = () => new Set(ctx.providers.keys());

  async function requireServer(id: number): Promise<HostServer> {
    const s = (await host.getServers([id])).get(id);
    if (!s) throw notFound(`Server ${id}`);
    return s;
  }

  async function assignmentsOf(serverId: number) {
    return await db.selectFrom('ss_assignments as a').innerJoin('ss_schedules as s', 's.id', 'a.schedule_id')
      .select(['a.schedule_id', 'a.next_slot_at', 'a.problem', 's.name', 's.enabled'])
      .where('a.server_id', '=', serverId).orderBy('s.name').execute();
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
    const schedules = await assignmentsOf(id);
    const last = await db.selectFrom('ss_snapshots').selectAll().where('server_id', '=', id).orderBy('id', 'desc').limit(1).executeTakeFirst();
    const now = await clock.now(db);
    res.json({
      server: {
        id, name: serverDisplayName(s, id), provider: s.provider, providerType: provider?.type ?? null,
        providerName: provider?.displayName ?? null, instanceId: s.instanceId, region: s.region,
        problem: serverProblem(id, s, known()), capabilities: provider ? capabilitiesOf(provider) : null,
      },
      schedules: schedules.map((a) => ({ scheduleId: Number(a.schedule_id), name: a.name, enabled: a.enabled === 1, nextRunAt: a.enabled === 1 ? a.next_slot_at.toISOString() : null, problem: a.problem })),
      lastSnapshot: last ? snapshotToApi(last, { now }) : null,
    });
  });

  r.get('/:serverId/schedules', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const schedules = await assignmentsOf(id);
    res.json({
      serverId: id,
      scheduleIds: schedules.map((a) => Number(a.schedule_id)),
      schedules: schedules.map((a) => ({ scheduleId: Number(a.schedule_id), name: a.name, enabled: a.enabled === 1, nextRunAt: a.enabled === 1 ? a.next_slot_at.toISOString() : null, problem: a.problem })),
    });
  });

  r.put('/:serverId/schedules', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const body = parseOr400(z.object({ scheduleIds: z.array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).max(100) }).strict(), req.body);
    await requireServer(id);
    const wanted = [...new Set(body.scheduleIds)];
    const found = wanted.length ? await db.selectFrom('ss_schedules').selectAll().where('id', 'in', wanted).execute() : [];
    const missing = wanted.filter((w) => !found.some((f) => Number(f.id) === w));
    if (missing.length > 0) throw invalid({ scheduleIds: `schedule ${missing.join(', ')} does not exist; reload the page to see the current schedules` });
    const now = await clock.now(db);
    const actor = actorOf(req);
    await db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('ss_assignments').select(['id', 'schedule_id']).where('server_id', '=', id).forUpdate().execute();
      const currentIds = new Set(current.map((c) => Number(c.schedule_id)));
      const toRemove = current.filter((c) => !wanted.includes(Number(c.schedule_id)));
      const toAdd = found.filter((f) => !currentIds.has(Number(f.id)));
      if (toRemove.length) await trx.deleteFrom('ss_assignments').where('id', 'in', toRemove.map((c) => Number(c.id))).execute();
      if (toAdd.length) {
        await trx.insertInto('ss_assignments').values(toAdd.map((s) => ({
          server_id: id, schedule_id: Number(s.id), next_slot_at: nextSlotAfter(timingOf(s), now), problem: null, created_at: now,
        }))).execute();
      }
      await recordEvents(trx, [
        ...toAdd.map((s) => ({ serverId: id, scheduleId: Number(s.id), actor, action: 'schedule_assigned', detail: s.name, at: now })),
        ...toRemove.map((c) => ({ serverId: id, scheduleId: Number(c.schedule_id), actor, action: 'schedule_unassigned', detail: null, at: now })),
      ]);
    });
    const schedules = await assignmentsOf(id);
    res.json({
      serverId: id,
      scheduleIds: schedules.map((a) => Number(a.schedule_id)),
      schedules: schedules.map((a) => ({ scheduleId: Number(a.schedule_id), name: a.name, enabled: a.enabled === 1, nextRunAt: a.enabled === 1 ? a.next_slot_at.toISOString() : null, problem: a.problem })),
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
    const res1 = await db.insertInto('ss_snapshots').values({
      server_id: id, schedule_id: null, slot_at: null, origin: 'manual', status: 'requested',
      provider: s.provider, provider_type: provider.type, name: '', server_name: serverDisplayName(s, id).slice(0, 190),
      instance_id: s.instanceId, keep_forever: 0, note: body.note ?? null, attempts: 0, next_attempt_at: now,
      requested_by: actor, created_at: now, updated_at: now,
    }).executeTakeFirstOrThrow();
    const snapshotId = Number(res1.insertId);
    await db.updateTable('ss_snapshots').set({ name: markerName(snapshotId, serverDisplayName(s, id), now) }).where('id', '=', snapshotId).execute();
    await recordEvent(db, { snapshotId, serverId: id, actor, action: 'requested', detail: 'Manual snapshot', at: now });
    ctx.engine.wake();
    const row = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', snapshotId).executeTakeFirstOrThrow();
    res.status(202).json({ snapshot: snapshotToApi(row, { now, canDelete: provider.capabilities.delete }) });
  });

  r.get('/:serverId/retention-preview', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const now = await clock.now(db);
    const assigned = await db.selectFrom('ss_assignments').select('schedule_id').where('server_id', '=', id).execute();
    const used = await db.selectFrom('ss_snapshots').select('schedule_id').distinct().where('server_id', '=', id).where('schedule_id', 'is not', null).execute();
    const ids = [...new Set([...assigned, ...used].map((a) => Number(a.schedule_id)))];
    const schedules = ids.length ? await db.selectFrom('ss_schedules').selectAll().where('id', 'in', ids).execute() : [];
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
