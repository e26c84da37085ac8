import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import { sql } from 'kysely';
import { ApiError } from '../errors.js';
import { sandboxConfigured, type AppContext } from './context.js';
import { healthRouter } from './health.js';
import { createMetrics } from './metrics.js';
import { providersRouter } from './providers.js';
import { sandboxRouter } from './sandbox.js';
import { schedulesRouter } from './schedules.js';
import { serversRouter } from './servers.js';
import { requireSignature } from './signature.js';
import { snapshotsRouter } from './snapshots.js';
import { uiRouter } from './ui/routes.js';

const BODY_LIMIT = '64kb';

/**
 * The HTTP side: `/healthz` and `/metrics` open (they reveal no data), everything under
 * `/api` signed. Bodies are read raw first, the signature is checked over the exact bytes,
 * and only then is JSON parsed — malformed JSON is a 400, never a 500.
 */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const metrics = createMetrics(ctx);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      metrics.observeRequest(req, res.statusCode, ms);
      if (req.path !== '/healthz' && req.path !== '/metrics') {
        // Paths only, never headers or bodies: no secret, signature or credential reaches a log line.
        ctx.log.info({ method: req.method, path: req.originalUrl.split('?')[0]!.slice(0, 200), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
      }
    });
    next();
  });

  app.get('/healthz', async (_req, res) => {
    let database: 'up' | 'down' = 'up';
    try {
      await sql`SELECT 1`.execute(ctx.db);
    } catch {
      database = 'down';
    }
    const engine = ctx.engine.running ? 'running' : 'stopped';
    const ok = database === 'up' && engine === 'running';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', database, engine });
  });

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.contentType);
    res.send(await metrics.render());
  });

  const api = express.Router();
  api.use(express.raw({ type: () => true, limit: BODY_LIMIT }));
  api.use(requireSignature(ctx.db, ctx.sharedSecret));
  api.use(parseJsonBody);
  api.use(healthRouter(ctx));
  api.use('/schedules', schedulesRouter(ctx));
  api.use('/servers', serversRouter(ctx));
  api.use(snapshotsRouter(ctx));
  api.use(providersRouter(ctx));
  if (sandboxConfigured(ctx.providerConfigs)) api.use(sandboxRouter(ctx));
  app.use('/api/v1', api);

  // wp-admin screens as HTML fragments (views/), signed like the API: one request per screen.
  const ui = express.Router();
  ui.use(express.raw({ type: () => true, limit: BODY_LIMIT }));
  ui.use(requireSignature(ctx.db, ctx.sharedSecret));
  ui.use(parseJsonBody);
  ui.use(uiRouter(ctx));
  app.use('/ui/v1', ui);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new ApiError(404, 'not_found', `There is no ${req.method} ${req.path.slice(0, 100)} in this API.`));
  });
  app.use(errorHandler(ctx));
  return app;
}

function parseJsonBody(req: Request, _res: Response, next: NextFunction) {
  const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (raw.length === 0) { req.body = undefined; return next(); }
  try {
    req.body = JSON.parse(raw.toString('utf8'));
  } catch {
    return next(new ApiError(400, 'malformed_json', 'The request body is not valid JSON.'));
  }
  next();
}

function errorHandler(ctx: AppContext): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof ApiError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string; code?: string };
    if (e?.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'too_large', message: `The request body is larger than ${BODY_LIMIT}.` } });
      return;
    }
    if (e?.type === 'request.aborted' || e?.type === 'entity.verify.failed' || (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)) {
      res.status(400).json({ error: { code: 'bad_request', message: 'The request could not be read.' } });
      return;
    }
    const dbDown = typeof e?.code === 'string' && /^(ECONNREFUSED|PROTOCOL_CONNECTION_LOST|ETIMEDOUT|ER_CON_COUNT_ERROR|ECONNRESET|EPIPE)$/.test(e.code);
    ctx.log.error({ path: req.path.slice(0, 200), err: String(e?.message ?? err).slice(0, 500), code: e?.code }, 'request failed');
    if (dbDown) {
      res.status(503).json({ error: { code: 'database_unavailable', message: 'The snapshot service cannot reach its database right now; try again in a minute.' } });
      return;
    }
    // MariaDB chose this request's transaction as a deadlock victim (or it waited too long for a
    // lock) and rolled it back: busy, not broken — the caller may simply ask again.
    if (e?.code === 'ER_LOCK_DEADLOCK' || e?.code === 'ER_LOCK_WAIT_TIMEOUT') {
      res.status(503).json({ error: { code: 'database_busy', message: 'The snapshot service\'s database was busy and this request did not go through; try again in a moment.' } });
      return;
    }
    res.status(500).json({ error: { code: 'internal', message: 'Something went wrong inside the snapshot service; nothing was changed. Try again, and check the sidecar log if it keeps happening.' } });
  };
}
