/**
 * The wp-admin screens, rendered here from views/ as fragments of WordPress's own admin
 * markup. WordPress makes one signed request per screen (`GET /ui/v1/<screen>?ctx=…`) and
 * prints the answer; the schedule form's save and live preview post here too, so the form's
 * mapping and its sentences live in one place.
 */
import { Router, type Request, type Response } from 'express';
import { ApiError } from '../../errors.js';
import { thresholdsOf } from '../../health/freshness.js';
import { createSchedule, replaceSchedule } from '../../schedule-service.js';
import { nextRuns, spreadWindowMinutes, type Timing } from '../../slots.js';
import { SNAPSHOT_ORIGINS, SNAPSHOT_STATUSES } from '../../snapshots.js';
import type { AppContext } from '../context.js';
import { actorOf } from '../signature.js';
import { parseRenderContext, type RenderContext } from './context.js';
import * as data from './data.js';
import * as hd from './health-data.js';
import { translatorFor, type Translator } from './i18n.js';
import { helpersFor, renderView } from './render.js';
import * as form from './schedule-form.js';
import { retention as retentionWords, frequency as frequencyWords } from './words.js';

/** What a screen's reads get: the user's language and the database's clock (read once per render). */
interface ScreenEnv { t: Translator; now: Promise<Date> }

export function uiRouter(app: AppContext): Router {
  const r = Router();

  /**
   * One screen: its reads, the clock and the critical notice go to the database at once (the
   * pool's connections), so a render waits for the slowest read, not for the sum of them.
   */
  async function page(req: Request, res: Response, screen: (ctx: RenderContext, env: ScreenEnv) => Promise<[string, Record<string, unknown>]>) {
    const ctx = parseRenderContext(req.query.ctx);
    const now = app.clock.now(app.db);
    // Our own screens say so while anything is critical; the server box is the host's screen.
    const critical = req.path === '/server-box' ? null : hd.criticalServers(app);
    const shown = screen(ctx, { t: translatorFor(ctx.locale), now }).catch((e: unknown): [string, Record<string, unknown>] => {
      // A thing that is gone (deleted schedule or snapshot, bad id): the screen says so.
      if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 400)) throw e;
      return ['missing', { code: e.code }];
    });
    // Nothing may be left unawaited when one of them fails.
    const [at, crit, [view, vars]] = await Promise.all([now, critical, shown]);
    if (crit) vars.critical = crit;
    res.type('html').send(await renderView(view, helpersFor(ctx, at), vars));
  }

  const id = (v: string | undefined) => (v && /^[1-9]\d{0,14}$/.test(v) ? Number(v) : null);
  const days = (v: string | undefined) => (v === '90' ? 90 : 30);
  const notFound = () => new ApiError(404, 'not_found', 'not found');

  r.get('/schedules', (req, res) => page(req, res, async () => ['schedules', { schedules: await data.schedulesWithCounts(app) }]));

  r.get('/schedule-form', (req, res) => page(req, res, async (ctx) => {
    const scheduleId = ctx.args.view === 'edit' ? id(ctx.args.schedule) : null;
    if (ctx.args.view === 'edit' && scheduleId === null) throw notFound();
    const schedule = scheduleId === null ? null : await data.scheduleById(app, scheduleId);
    let values = schedule ? form.fromSchedule(schedule, ctx.timezone) : form.defaults(ctx.timezone);
    let errors: Record<string, string> = {};
    if (ctx.form) {
      values = form.fromRequest(ctx.form.values, ctx.timezone);
      errors = ctx.form.errors;
    }
    const t = helpersFor(ctx, new Date()).t;
    const checked = form.validate(t, values, true);
    const preview = 'schedule' in checked
      ? { runs: nextRuns(checked.schedule, await app.clock.now(app.db), 5), spreadNote: spreadNote(t, checked.schedule), summary: retentionWords(t, checked.schedule.retention), limits: thresholdsOf(checked.schedule, null, null) }
      : null;
    return ['schedule-form', { schedule, values, errors, preview, retentionFields: form.retentionFields(t), timezones: form.timezones() }];
  }));

  r.get('/schedule-delete', (req, res) => page(req, res, async (ctx) => {
    const scheduleId = id(ctx.args.schedule);
    if (scheduleId === null) throw notFound();
    return ['schedule-delete', { schedule: await data.scheduleById(app, scheduleId) }];
  }));

  r.get('/snapshots', (req, res) => page(req, res, async (ctx, h) => {
    const a = ctx.args;
    const filters: data.SnapshotFilters = {
      needsAttention: a.needsAttention === '1' ? '1' : undefined,
      serverId: id(a.serverId) && (!ctx.servers || ctx.servers.includes(Number(a.serverId))) ? a.serverId : undefined,
      scheduleId: id(a.scheduleId) ? a.scheduleId : undefined,
      status: (SNAPSHOT_STATUSES as string[]).includes(a.status ?? '') ? a.status : undefined,
      origin: (SNAPSHOT_ORIGINS as string[]).includes(a.origin ?? '') ? a.origin : undefined,
      search: a.s ? a.s.trim().slice(0, 100) : undefined,
      cursor: a.cursor && /^[A-Za-z0-9_-]{1,40}$/.test(a.cursor) ? a.cursor : undefined,
    };
    const listingOf = async () => {
      try {
        return await data.snapshotsPage(app, filters, ctx.perPage, ctx.servers);
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 400) throw e;
        // A cursor this list did not give out: show the first page.
        filters.cursor = undefined;
        return await data.snapshotsPage(app, filters, ctx.perPage, ctx.servers);
      }
    };
    const prev = (a.ss_prev ?? '').split(',').filter((c) => c === '-' || /^[A-Za-z0-9_-]{1,40}$/.test(c)).slice(-40);
    // Independent reads, so on separate pool connections at once: the screen waits for the slowest, not the sum.
    const [listing, attention, timeline, choices] = await Promise.all([
      listingOf(),
      // A server manager who is not an administrator counts only the servers they may see.
      hd.attentionCount(app, h.now, ctx.servers),
      filters.serverId ? hd.serverTimeline(app, h.t, Number(filters.serverId), days(a.ss_days)) : null,
      data.filterChoices(app, ctx.servers, filters.serverId ? Number(filters.serverId) : undefined),
    ]);
    return ['snapshots', { ...listing, filters, prev, choices, attention, timeline }];
  }));

  r.get('/snapshot', (req, res) => page(req, res, async (ctx) => {
    const snapshotId = id(ctx.args.snapshot);
    if (snapshotId === null) throw notFound();
    return ['snapshot', await data.snapshotDetail(app, snapshotId)];
  }));

  r.get('/server-box', (req, res) => page(req, res, async (ctx, h) => {
    if (!ctx.serverId) throw notFound();
    return ['server-box', {
      box: await data.serverBox(app, ctx.serverId), serverId: ctx.serverId,
      health: await hd.serverHealthLine(app, ctx.serverId),
      // The box sits in the side column: the narrow picture, whose words stay readable there.
      timeline: await hd.serverTimeline(app, h.t, ctx.serverId, days(ctx.args.ss_days), 320),
    }];
  }));

  // The wp-admin dashboard widget: servers by state and the worst ones, linked to their snapshots.
  r.get('/dashboard', (req, res) => page(req, res, async () => ['dashboard', { board: await hd.dashboard(app) }]));

  // The host's server list: only the critical notice (empty while nothing is critical).
  r.get('/notice', (req, res) => page(req, res, async () => ['notice', {}]));

  // Settings also lists the alert channels as the sidecar runs them and where each provider's
  // credentials come from (never a secret); the test calls run only when asked (ss_check=1).
  r.get('/settings', (req, res) => page(req, res, async (ctx) => ['settings', {
    channels: (app.alerts?.channels ?? []).map((c) => c.describe() as Record<string, string | string[] | boolean>),
    credentials: await data.credentialSources(app, ctx.args.ss_check === '1'),
  }]));

  // The schedule form, as typed: save (create or update) or refuse with sentences per field.
  r.post('/forms/schedule', async (req, res) => {
    const body = (req.body ?? {}) as { ctx?: unknown; schedule?: unknown; values?: unknown };
    const ctx = parseRenderContext(body.ctx);
    const t = helpersFor(ctx, new Date()).t;
    const object = body.schedule === 'new' ? 'new' : id(typeof body.schedule === 'string' ? body.schedule : String(body.schedule ?? ''));
    if (object === null) throw new ApiError(400, 'validation_failed', t.__('That schedule id is not valid.'));
    const values = form.fromRequest(body.values, ctx.timezone);
    const checked = form.validate(t, values, false);
    if (!('schedule' in checked)) {
      res.json({ saved: false, values, errors: checked.errors });
      return;
    }
    const s = checked.schedule;
    const now = await app.clock.now(app.db);
    if (object === 'new') {
      const newId = await createSchedule(app.db, s, { now, actor: actorOf(req), freshness: form.freshnessOf(values) });
      res.json({ saved: true, id: newId, code: 'schedule-created' });
      return;
    }
    await replaceSchedule(app.db, object, s, { now, actor: actorOf(req), freshness: form.freshnessOf(values) });
    res.json({ saved: true, id: object, code: 'schedule-updated' });
  });

  // The form's live preview: next runs (as date_i18n prints them) and retention in words.
  r.post('/forms/schedule-preview', async (req, res) => {
    const body = (req.body ?? {}) as { ctx?: unknown; values?: unknown };
    const ctx = parseRenderContext(body.ctx);
    const now = await app.clock.now(app.db);
    const h = helpersFor(ctx, now);
    const values = form.fromRequest(body.values, ctx.timezone);
    const checked = form.validate(h.t, values, true);
    if (!('schedule' in checked)) {
      res.json({ nextRuns: [], retentionSummary: '', frequency: '', fields: checked.errors, message: checked.errors[''] ?? '' });
      return;
    }
    const runs = nextRuns(checked.schedule, now, 5);
    res.json({
      nextRuns: runs.map((d) => ({ iso: d.toISOString(), text: h.dateTime(d), relative: h.relative(d) })),
      retentionSummary: retentionWords(h.t, checked.schedule.retention),
      frequency: frequencyWords(h.t, checked.schedule),
      spreadNote: spreadNote(h.t, checked.schedule),
      fields: {}, message: '',
    });
  });

  return r;
}

/** Where the next runs are shown: how far after each one a server may start (its spread offset). */
function spreadNote(t: { __(s: string): string; sprintf(f: string, ...a: unknown[]): string }, timing: Timing): string {
  const minutes = spreadWindowMinutes(timing);
  return minutes > 0 ? t.sprintf(t.__('Each server starts at its own fixed time within %d minutes after each run.'), minutes) : t.__('Every server starts at the time shown.');
}
