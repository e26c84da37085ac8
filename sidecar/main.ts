import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startSidecar } from './sidecar.js';

/** `npm start`: read the configuration, migrate, serve and run the engine until SIGTERM/SIGINT. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger({ level: config.logLevel });
  let sidecar;
  try {
    sidecar = await startSidecar(config, { log });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    const what = err.code === 'EADDRINUSE' ? `SS_LISTEN: ${config.listenHost}:${config.listenPort} is already in use`
      : err.code === 'ECONNREFUSED' || err.code === 'ER_ACCESS_DENIED_ERROR' || err.code === 'ER_BAD_DB_ERROR' || err.code === 'ENOTFOUND' || err.code === 'ETIMEDOUT'
        ? `SS_DATABASE_URL: cannot connect to the database (${err.code})`
        : `start-up failed: ${String(err.message ?? e).slice(0, 300)}`;
    process.stderr.write(`Configuration error: ${what}\n`);
    log.flush?.();
    process.exit(2);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new work is claimed; work in flight finishes or is released');
    sidecar.stop(10_000).then(() => process.exit(0), (e) => {
      log.error({ err: (e as Error).message }, 'stop failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
