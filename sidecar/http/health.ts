/**
 * Health, the timeline picture and the alert channels (docs/alerts.md):
 *   GET  /health                      counts by state + the worst servers
 *   GET  /servers/:serverId/health    one server, per schedule
 *   GET  /servers/:serverId/timeline  { svg, items } for the last 30 or 90 days
 *   GET  /alerts/channels             configured channels, never a secret
 *   POST /alerts/test                 a test message to every channel, outcome per channel
 *   GET  /alerts/incidents            incidents, newest first
 */
import { Router } from 'express';
import { z } from 'zod';
import { conflict, notFound } from '../errors.js';
import { computeAllHealth, computeServerHealth, countsByState, serverHealthToApi, worstFirst } from '../health/health.js';
import { timelineItems } from '../health/timeline.js';
import { countByKind, timelineSvg } from '../health/timeline-svg.js';
import { serverDisplayName } from '../host.js';
import { listIncidents } from '../store/alerts.js';
import { parseId, parseOr400 } from '../validation.js';
import type { AppContext } from './context.js';

export function healthRouter(ctx: AppContext): Router {
  const r = Router();
  const { db, clock } = ctx;
  const failingAfter = () => ctx.alerts?.deps.config.failingAfter ?? 3;
  const adminUrl = () => ctx.alerts?.deps.config.adminUrl ?? null;

  r.get('/health', async (req, res) => {
    const q = parseOr400(z.object({ limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().int().min(1).max(200)).optional() }).strict(), req.query);
    const now = await clock.now(db);
    const all = await computeAllHealth(db, now, failingAfter());
    const worst = [...all.values()].filter((s) => s.state !== 'ok').sort(worstFirst).slice(0, q.limit ?? 10);
    const names = await ctx.host.getServers(worst.map((w) => w.serverId));
    res.json({
      evaluatedAt: now.toISOString(),
      servers: all.size,
      counts: countsByState(all.values()),
      worst: worst.map((w) => serverHealthToApi({ ...w, serverName: serverDisplayName(names.get(w.serverId), w.serverId) }, adminUrl())),
    });
  });

  r.get('/servers/:serverId/health', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const server = (await ctx.host.getServers([id])).get(id);
    const h = await computeServerHealth(db, ctx.host, await clock.now(db), failingAfter(), id);
    if (!server && h.schedules.length === 0) throw notFound(`Server ${id}`);
    res.json({ health: serverHealthToApi(h, adminUrl()) });
  });

  r.get('/servers/:serverId/timeline', async (req, res) => {
    const id = parseId(req.params.serverId, 'serverId');
    const q = parseOr400(z.object({ days: z.enum(['30', '90']).transform(Number).optional() }).strict(), req.query);
    const days = q.days ?? 30;
    const now = await clock.now(db);
    const server = (await ctx.host.getServers([id])).get(id);
    const items = await timelineItems(db, id, now, days);
    if (!server && items.length === 0) throw notFound(`Server ${id}`);
    const serverName = serverDisplayName(server, id);
    res.json({
      serverId: id, days, from: new Date(now.getTime() - days * 86_400_000).toISOString(), to: now.toISOString(),
      counts: countByKind(items),
      svg: timelineSvg({ serverName, now, days, items, idPrefix: `ss-timeline-${id}` }),
      items: items.map((i) => ({ snapshotId: i.snapshotId, at: i.at.toISOString(), kind: i.kind, label: i.label })),
    });
  });

  r.get('/alerts/channels', (_req, res) => {
    const config = ctx.alerts?.deps.config;
    res.json({
      channels: (ctx.alerts?.channels ?? []).map((c) => c.describe()),
      digest: config?.digest ? `${String(config.digest.hour).padStart(2, '0')}:${String(config.digest.minute).padStart(2, '0')} UTC` : null,
      failingAfter: failingAfter(),
      adminUrlSet: Boolean(config?.adminUrl),
    });
  });

  r.post('/alerts/test', async (_req, res) => {
    if (!ctx.alerts || ctx.alerts.channels.length === 0) {
      throw conflict('No alert channel is configured: set SS_SMTP_URL and SS_ALERT_EMAIL_TO, or SS_ALERT_WEBHOOK_URL, and restart the sidecar.');
    }
    const results = await ctx.alerts.sendTest();
    res.json({ ok: results.every((x) => x.ok), results });
  });

  r.get('/alerts/incidents', async (req, res) => {
    const q = parseOr400(z.object({
      open: z.enum(['1', '0', 'true', 'false']).optional(),
      serverId: z.string().regex(/^[1-9]\d{0,14}$/).transform(Number).optional(),
      limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().int().min(1).max(500)).optional(),
    }).strict(), req.query);
    const rows = await listIncidents(db, { open: q.open === '1' || q.open === 'true', serverId: q.serverId, limit: q.limit ?? 50 });
    res.json({
      items: rows.map((i) => ({
        id: Number(i.id), serverId: Number(i.server_id), serverName: i.server_name, scheduleId: i.schedule_id === null ? null : Number(i.schedule_id),
        scheduleName: i.schedule_name, state: i.state, reason: i.reason, startedAt: i.started_at.toISOString(),
        resolvedAt: i.resolved_at?.toISOString() ?? null, open: i.open_server_id !== null,
      })),
    });
  });

  return r;
}
