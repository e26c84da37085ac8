import { Router } from 'express';
import { z } from 'zod';
import { previewRetention } from '../engine/apply-retention.js';
import { describeRetention } from '../retention.js';
import { freshnessToApi, takeFreshnessFields } from '../health/freshness.js';
import { timingOf, type ScheduleRow } from '../schedules.js';
import { describeTiming, nextRuns } from '../slots.js';
import { removeForSchedule, serverCounts, serverIdsOfSchedule } from '../store/assignments.js';
import { recordEvent } from '../store/events.js';
import { deleteSchedule, getSchedule, listSchedules, rulesOf } from '../store/schedules.js';
import { countForSchedule } from '../store/snapshots.js';
import { parseId, parseOr400 } from '../validation.js';
import type { AppContext } from './context.js';
import { parseScheduleBody, scheduleToApi as baseScheduleToApi } from './schedules-wire.js';
import { actorOf } from './signature.js';
import { createSchedule, replaceSchedule } from '../schedule-service.js';

/** A schedule as the API shows it, with its health limits (set, or the defaults in effect). */
function scheduleToApi(row: ScheduleRow, extra: Parameters<typeof baseScheduleToApi>[1]) {
  return { ...baseScheduleToApi(row, extra), ...freshnessToApi(timingOf(row), row.warn_after_minutes ?? null, row.critical_after_minutes ?? null) };
}

export function schedulesRouter(ctx: AppContext): Router {
  const r = Router();
  const { db, clock } = ctx;

  r.get('/', async (_req, res) => {
    const rows = await listSchedules(db);
    const counts = await serverCounts(db, rows.map((s) => Number(s.id)));
    const now = await clock.now(db);
    res.json({ items: rows.map((s) => scheduleToApi(s, { serverCount: counts.get(Number(s.id)) ?? 0, now })) });
  });

  r.post('/', async (req, res) => {
    const { rest, freshness } = takeFreshnessFields(req.body);
    const s = parseScheduleBody(rest);
    const now = await clock.now(db);
    const id = await createSchedule(db, s, { now, actor: actorOf(req), freshness });
    res.status(201).json({ schedule: scheduleToApi(await getSchedule(db, id), { now }) });
  });

  // Preview for the add/edit form: next runs and retention in words, validated like a save.
  r.post('/preview', async (req, res) => {
    const s = parseScheduleBody(takeFreshnessFields(req.body).rest);
    const now = await clock.now(db);
    const runs = nextRuns({ intervalMinutes: s.intervalMinutes, cron: s.cron, timezone: s.timezone }, now, 5);
    res.json({
      frequency: describeTiming({ intervalMinutes: s.intervalMinutes, cron: s.cron, timezone: s.timezone }),
      nextRuns: runs.map((d) => d.toISOString()),
      retentionSummary: describeRetention(s.retention),
    });
  });

  r.get('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const s = await getSchedule(db, id);
    const counts = await serverCounts(db, [id]);
    res.json({ schedule: scheduleToApi(s, { serverCount: counts.get(id) ?? 0, now: await clock.now(db) }) });
  });

  r.put('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    // PUT replaces the schedule: health limits left out go back to the defaults.
    const { rest, freshness } = takeFreshnessFields(req.body);
    const s = parseScheduleBody(rest);
    const now = await clock.now(db);
    await replaceSchedule(db, id, s, { now, actor: actorOf(req), freshness });
    const counts = await serverCounts(db, [id]);
    res.json({ schedule: scheduleToApi(await getSchedule(db, id), { serverCount: counts.get(id) ?? 0, now }) });
  });

  // Deleting a schedule never deletes snapshots: they stay, with their protection, and are no
  // longer pruned automatically. The answer says so in words the screen can show.
  r.delete('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const s = await getSchedule(db, id);
    const now = await clock.now(db);
    const n = await countForSchedule(db, id);
    await db.transaction().execute(async (trx) => {
      await removeForSchedule(trx, id);
      await deleteSchedule(trx, id);
      await recordEvent(trx, { scheduleId: id, actor: actorOf(req), action: 'schedule_deleted', detail: `${s.name}; ${n} snapshot(s) kept`, at: now });
    });
    res.json({
      deleted: true,
      snapshotsKept: n,
      message: n === 0
        ? `Schedule "${s.name}" was deleted. It had no snapshots.`
        : `Schedule "${s.name}" was deleted. Its ${n} snapshot(s) stay in the list and at the provider, with their protection unchanged; they will no longer be deleted automatically.`,
    });
  });

  r.get('/:id/retention-preview', async (req, res) => {
    const id = parseId(req.params.id, 'id');
    const q = parseOr400(z.object({ serverId: z.string().regex(/^[1-9]\d{0,14}$/).transform(Number).optional() }).strict(), req.query);
    const s = await getSchedule(db, id);
    const now = await clock.now(db);
    let serverIds: number[];
    if (q.serverId !== undefined) serverIds = [q.serverId];
    else serverIds = await serverIdsOfSchedule(db, id, 100);
    const servers = [];
    for (const serverId of serverIds) {
      const { decisions, rows } = await previewRetention(db, now, serverId, s);
      const byId = new Map(rows.map((r) => [Number(r.id), r]));
      servers.push({
        serverId,
        decisions: decisions.map((d) => ({ ...d, name: byId.get(d.id)?.name ?? null, status: byId.get(d.id)?.status ?? null, createdAt: byId.get(d.id)?.created_at.toISOString() ?? null })),
      });
    }
    res.json({ scheduleId: id, retentionSummary: describeRetention(rulesOf(s)), servers });
  });

  return r;
}
