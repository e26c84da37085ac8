/**
 * The alert worker: its own timer loop beside the engine's, so neither a slow health pass nor
 * a mail server that hangs can delay a snapshot. Each round it
 *   1. evaluates health (one sidecar at a time, under a run lease) and opens, changes or
 *      resolves incidents — each change queues one message per channel in the same transaction;
 *   2. queues the daily digest while incidents are open (once a day: deduplicated by key);
 *   3. claims due messages (SKIP LOCKED + lease) and sends them, with a timeout each, retrying
 *      with backoff. A sidecar killed mid-send leaves the lease to expire; another sidecar then
 *      sends the same message again (at-least-once; the incident id lets receivers deduplicate).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { backoffMs } from '../backoff.js';
import type { Clock, DB } from '../db.js';
import { healthPages, snapshotsUrl } from '../health/health.js';
import type { ServerHealth } from '../health/state.js';
import { serverDisplayName, type Host } from '../host.js';
import type { Logger } from '../log.js';
import {
  claimDeliveries, enqueueDeliveries, finishRunLease, openIncident, openIncidents, releaseDeliveries, resolveIncident,
  settleDelivery, takeRunLease, type IncidentRow, type NewDelivery,
} from '../store/alerts.js';
import type { Channel } from './channels.js';
import type { AlertConfig } from './config.js';
import { digestMessage, incidentMessage, testMessage, type AlertMessage, type IncidentFacts } from './message.js';

export interface AlertWorkerDeps {
  db: DB;
  clock: Clock;
  log: Logger;
  host: Host;
  config: Readonly<AlertConfig>;
  channels: Channel[];
  instanceId: string;
  /** Delivery lease: longer than a send may take. */
  leaseMs?: number;
  /** Delivery loop period (evaluation runs every config.checkMs). */
  tickMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

type Change = { h: ServerHealth | null; inc: IncidentRow | undefined; serverId: number };

export class AlertWorker extends EventEmitter {
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #round: Promise<void> | null = null;
  #lastEvaluation = 0;
  #stopping = false;
  readonly #tokens = new Set<string>();
  readonly stats = { sent: 0, failed: 0, retried: 0, evaluations: 0, lastError: null as string | null };
  /** Failures by channel since start (metrics). */
  readonly sendFailures = new Map<string, number>();

  constructor(readonly deps: AlertWorkerDeps) {
    super();
    this.setMaxListeners(0);
  }

  get leaseMs(): number { return this.deps.leaseMs ?? Math.max(30_000, this.deps.config.sendTimeoutMs * 3); }
  get channels(): Channel[] { return this.deps.channels; }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#schedule(0);
  }

  #schedule(ms: number) {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#round = this.#loopOnce().finally(() => { this.#round = null; this.#schedule(this.deps.tickMs ?? Math.min(5000, this.deps.config.checkMs)); });
    }, ms);
    this.#timer.unref?.();
  }

  async #loopOnce(): Promise<void> {
    try {
      if (Date.now() - this.#lastEvaluation >= this.deps.config.checkMs) {
        this.#lastEvaluation = Date.now();
        await this.evaluate();
        await this.queueDigest();
      }
      await this.deliver();
      this.stats.lastError = null;
    } catch (e) {
      this.stats.lastError = (e as Error).message;
      this.deps.log.error({ err: (e as Error).message.slice(0, 300) }, 'alert round failed; retrying on the next round');
    }
  }

  /**
   * Stop: no new round; a send in flight gets `graceMs` to finish, then its lease is released so
   * another sidecar sends it now (the receiver may see it twice: at-least-once, same incident id).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#running = false;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#round) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#round, new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
      if (timer) clearTimeout(timer);
    }
    try {
      await releaseDeliveries(this.deps.db, [...this.#tokens], await this.deps.clock.now(this.deps.db));
    } catch { /* the leases expire on their own */ }
    for (const c of this.deps.channels) c.close();
  }

  #deliveries(incidentId: number | null, kind: NewDelivery['kind'], key: string, message: AlertMessage): NewDelivery[] {
    return this.deps.channels.map((c) => ({ dedupeKey: `${key}:${c.name}`, incidentId, channel: c.name, kind, payload: JSON.stringify(message) }));
  }

  #facts(row: IncidentRow, state = row.state as IncidentFacts['state'], since = row.started_at, reason = row.reason): IncidentFacts {
    return { id: Number(row.id), serverId: Number(row.server_id), serverName: row.server_name, scheduleId: row.schedule_id === null ? null : Number(row.schedule_id),
      scheduleName: row.schedule_name, state, since, reason };
  }

  /**
   * Compare every server's health with its open incident and act on the differences.
   * `force` skips the "about once per check period across sidecars" gap (tests, the API),
   * never the lease.
   */
  async evaluate(opts: { force?: boolean } = {}): Promise<{ opened: number; resolved: number } | null> {
    const { db, clock, config } = this.deps;
    const token = `${this.deps.instanceId}:${randomUUID()}`.slice(0, 80);
    const now = await clock.now(db);
    const leaseMs = Math.max(60_000, config.checkMs * 2);
    if (!(await takeRunLease(db, 'evaluate', token, now, leaseMs, opts.force ? 0 : Math.floor(config.checkMs * 0.9)))) return null;
    let opened = 0;
    let resolved = 0;
    try {
      const open = new Map((await openIncidents(db)).map((i) => [Number(i.server_id), i]));
      // A page of servers at a time, judged and forgotten: the pass never holds every server's
      // health at once, and it rests between pages so the engine keeps its timing.
      const seen = new Set<number>();
      for await (const health of healthPages(db, now, config.failingAfter, { paceRatio: 0.5 })) {
        // Stopping mid-pass: what was judged stays; the rest (and the ended incidents) wait for a full pass.
        if (this.#stopping) return { opened, resolved };
        const changed: Change[] = [];
        for (const [serverId, h] of health) {
          seen.add(serverId);
          const inc = open.get(serverId);
          if (h.state === 'ok' ? inc !== undefined : inc?.state !== h.state) changed.push({ h, inc, serverId });
        }
        const n = await this.#act(changed, now);
        opened += n.opened;
        resolved += n.resolved;
      }
      // A server whose schedules were all removed owes nothing any more: its incident ends.
      const ended: Change[] = [];
      for (const [serverId, inc] of open) if (!seen.has(serverId)) ended.push({ h: null, inc, serverId });
      const n = await this.#act(ended, now);
      opened += n.opened;
      resolved += n.resolved;
      if (opened + resolved > 0) this.emit('evaluated', { opened, resolved });
      return { opened, resolved };
    } finally {
      this.stats.evaluations += 1;
      await finishRunLease(db, 'evaluate', token, await clock.now(db)).catch(() => {});
    }
  }

  /** Open, change or resolve the incidents of servers whose health differs from them. */
  async #act(changed: Change[], now: Date): Promise<{ opened: number; resolved: number }> {
    const { db, config } = this.deps;
    let opened = 0;
    let resolved = 0;
    if (changed.length === 0) return { opened, resolved };
    const servers = await this.deps.host.getServers(changed.map((c) => c.serverId));
    for (const { h, inc, serverId } of changed) {
      const name = serverDisplayName(servers.get(serverId), serverId);
      const url = snapshotsUrl(config.adminUrl, serverId);
      if (!h || h.state === 'ok') {
        const reason = h?.lastGoodAt ? `A good snapshot was taken at ${h.lastGoodAt.toISOString()}.` : 'The server no longer has a schedule that needs snapshots.';
        const msg = incidentMessage({ ...this.#facts(inc!, 'ok', now, reason), serverName: name }, url);
        if (await resolveIncident(db, now, Number(inc!.id), this.#deliveries(Number(inc!.id), 'recovery', `inc-${inc!.id}:recovery`, msg))) resolved += 1;
        continue;
      }
      const state = h.state;
      const input = { serverId, scheduleId: h.scheduleId, state, serverName: name, scheduleName: h.scheduleName, reason: h.reason, startedAt: h.since ?? now };
      const id = await openIncident(db, now, input, inc ? Number(inc.id) : null, (newId) => {
        const msg = incidentMessage({ id: newId, ...input, since: input.startedAt, previousId: inc ? Number(inc.id) : null }, url);
        return this.#deliveries(newId, 'open', `inc-${newId}:open`, msg);
      });
      if (id !== null) {
        opened += 1;
        this.deps.log.warn({ serverId, state, incidentId: id }, 'server health changed; alert queued');
      }
    }
    return { opened, resolved };
  }

  /** Once a day after the configured time (UTC), while incidents are open. */
  async queueDigest(): Promise<boolean> {
    const { db, clock, config } = this.deps;
    if (!config.digest || this.deps.channels.length === 0) return false;
    const now = await clock.now(db);
    const minuteOfDay = now.getUTCHours() * 60 + now.getUTCMinutes();
    if (minuteOfDay < config.digest.hour * 60 + config.digest.minute) return false;
    const open = await openIncidents(db);
    if (open.length === 0) return false;
    const day = now.toISOString().slice(0, 10);
    const msg = digestMessage(day, open.map((o) => this.#facts(o)), (id) => snapshotsUrl(config.adminUrl, id), now);
    await enqueueDeliveries(db, now, this.#deliveries(null, 'digest', `digest:${day}`, msg));
    return true;
  }

  /** Claim and send due messages for the channels this sidecar has. Returns how many were tried. */
  async deliver(limit = 10): Promise<number> {
    const { db, clock } = this.deps;
    const byName = new Map(this.deps.channels.map((c) => [c.name, c]));
    const now = await clock.now(db);
    const { token, rows } = await claimDeliveries(db, now, this.deps.instanceId, this.leaseMs, [...byName.keys()], limit);
    if (rows.length === 0) return 0;
    this.#tokens.add(token);
    try {
      await Promise.all(rows.map(async (row) => {
        const channel = byName.get(row.channel)!;
        const message = JSON.parse(row.payload) as AlertMessage;
        try {
          await channel.send(message);
          const ok = await settleDelivery(db, Number(row.id), token, { status: 'sent', nextAttemptAt: null, lastError: null, sentAt: await clock.now(db) });
          this.stats.sent += 1;
          this.emit('sent', { id: Number(row.id), channel: row.channel, incidentId: message.incidentId, stored: ok });
        } catch (e) {
          const sentence = (e as Error).message.slice(0, 500);
          this.sendFailures.set(row.channel, (this.sendFailures.get(row.channel) ?? 0) + 1);
          const giveUp = Number(row.attempts) >= this.deps.config.maxAttempts;
          const wait = backoffMs(Number(row.attempts), this.deps.backoffBaseMs ?? 5000, this.deps.backoffMaxMs ?? 15 * 60_000);
          const at = await clock.now(db);
          await settleDelivery(db, Number(row.id), token, giveUp
            ? { status: 'failed', nextAttemptAt: null, lastError: `${sentence} Gave up after ${row.attempts} attempts.`, sentAt: null }
            : { status: 'pending', nextAttemptAt: new Date(at.getTime() + wait), lastError: `${sentence} (attempt ${row.attempts}; retrying)`, sentAt: null });
          if (giveUp) this.stats.failed += 1; else this.stats.retried += 1;
          this.deps.log.warn({ channel: row.channel, deliveryId: Number(row.id), attempt: Number(row.attempts), err: sentence }, giveUp ? 'alert could not be sent; gave up' : 'alert could not be sent; will retry');
          this.emit('send-failed', { id: Number(row.id), channel: row.channel, error: sentence });
        }
      }));
    } finally {
      this.#tokens.delete(token);
    }
    return rows.length;
  }

  /** "Send test message": every channel, directly (not queued), outcome per channel. */
  async sendTest(): Promise<Array<{ channel: string; ok: boolean; message: string }>> {
    const now = await this.deps.clock.now(this.deps.db);
    const msg = testMessage(now, this.deps.config.adminUrl ? `${this.deps.config.adminUrl}/admin.php?page=ss-settings` : null);
    return await Promise.all(this.deps.channels.map(async (c) => {
      try {
        await c.send(msg);
        return { channel: c.name, ok: true, message: c.name === 'email' ? 'The mail server accepted the test message.' : 'The webhook accepted the test message.' };
      } catch (e) {
        return { channel: c.name, ok: false, message: (e as Error).message };
      }
    }));
  }
}
