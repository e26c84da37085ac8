/**
 * Health gauges an existing Prometheus can alert on (docs/alerts.md). All of them come from the
 * database, so every sidecar reports the same values; the health pass is shared by the gauges of
 * one scrape (cached for a few seconds) instead of being run once per gauge.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../http/context.js';
import { deliveryCounts } from '../store/alerts.js';
import { computeAllHealth } from './health.js';
import { HEALTH_STATES, type ServerHealth } from './state.js';
import { failedByProvider } from '../store/snapshots.js';

export function registerHealthMetrics(registry: Registry, ctx: AppContext): void {
  let cache: { at: number; value: Promise<Map<number, ServerHealth>> } | null = null;
  const health = () => {
    if (!cache || Date.now() - cache.at > 5000) {
      const value = ctx.clock.now(ctx.db).then((now) => computeAllHealth(ctx.db, now, ctx.alerts?.deps.config.failingAfter ?? 3));
      cache = { at: Date.now(), value };
      value.catch(() => { cache = null; });
    }
    return cache.value;
  };

  new Gauge({
    name: 'ss_server_last_good_snapshot_timestamp_seconds',
    help: 'Unix time of the newest good scheduled snapshot per server (0: none yet); alert on time() minus this',
    labelNames: ['server_id', 'state'] as const, registers: [registry],
    async collect() {
      try {
        const all = await health();
        this.reset();
        for (const s of all.values()) this.set({ server_id: String(s.serverId), state: s.state }, s.lastGoodAt ? s.lastGoodAt.getTime() / 1000 : 0);
      } catch { /* database away: healthz says so */ }
    },
  });
  new Gauge({
    name: 'ss_servers_by_health', help: 'Servers with schedules, by health state (ok, warning, failing, critical)',
    labelNames: ['state'] as const, registers: [registry],
    async collect() {
      try {
        const all = await health();
        const counts = new Map(HEALTH_STATES.map((s) => [s, 0]));
        for (const s of all.values()) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      } catch { /* database away */ }
    },
  });
  new Gauge({
    name: 'ss_snapshot_failures', help: 'Failed snapshot records in the list, by provider (slug from the providers file)',
    labelNames: ['provider'] as const, registers: [registry],
    async collect() {
      try {
        const rows = await failedByProvider(ctx.db);
        this.reset();
        for (const r of rows) this.set({ provider: r.provider ?? 'none' }, Number(r.n));
      } catch { /* database away */ }
    },
  });
  new Gauge({
    name: 'ss_alert_deliveries', help: 'Alert messages by channel and status (pending, sent, failed)',
    labelNames: ['channel', 'status'] as const, registers: [registry],
    async collect() {
      try {
        const rows = await deliveryCounts(ctx.db);
        this.reset();
        for (const r of rows) this.set({ channel: r.channel, status: r.status }, r.n);
      } catch { /* database away */ }
    },
  });
  new Counter({
    name: 'ss_alert_send_failures_total', help: 'Failed alert send attempts by this sidecar, by channel',
    labelNames: ['channel'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [channel, n] of ctx.alerts?.sendFailures ?? []) this.inc({ channel }, n);
    },
  });
}
