import type { Request } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { countsByStatus } from '../store/snapshots.js';
import { registerHealthMetrics } from '../health/metrics.js';
import type { AppContext } from './context.js';

/** Prometheus metrics: process defaults, HTTP latency, engine counters, and the queue by status. */
export function createMetrics(ctx: AppContext) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ss_' });
  const http = new Histogram({
    name: 'ss_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });
  const outcomes = new Counter({ name: 'ss_snapshot_outcomes_total', help: 'Snapshot work outcomes by kind', labelNames: ['kind'] as const, registers: [registry] });
  new Gauge({
    name: 'ss_engine_running', help: '1 while this sidecar\'s engine is running', registers: [registry],
    collect() { this.set(ctx.engine.running ? 1 : 0); },
  });
  new Gauge({
    name: 'ss_engine_in_flight', help: 'Snapshots this sidecar is working on', registers: [registry],
    collect() { this.set(ctx.engine.inFlight); },
  });
  new Counter({
    name: 'ss_engine_dispatched_total', help: 'Scheduled snapshot rows this sidecar created', registers: [registry],
    collect() { this.reset(); this.inc(ctx.engine.stats.dispatched); },
  });
  new Gauge({
    name: 'ss_snapshots', help: 'Snapshots in the list by status', labelNames: ['status'] as const, registers: [registry],
    async collect() {
      try {
        const rows = await countsByStatus(ctx.db);
        this.reset();
        for (const r of rows) this.set({ status: r.status }, Number(r.n));
      } catch { /* database away: healthz says so */ }
    },
  });
  ctx.engine.on('outcome', (kind: string) => outcomes.inc({ kind }));
  registerHealthMetrics(registry, ctx);

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeRequest(req: Request, status: number, ms: number) {
      // Route patterns only (never raw paths): ids and junk paths must not explode label cardinality.
      const pattern = req.route?.path;
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}`.slice(0, 100) : 'unmatched';
      http.observe({ method: req.method, route, status: String(status) }, ms / 1000);
    },
  };
}
