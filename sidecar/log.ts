/**
 * Structured logs: one JSON line per event on stdout. Anything that could carry a secret is
 * redacted by path, and callers never pass credentials or signatures in the first place.
 */

import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'ss-sidecar',
      level: opts.level ?? process.env.SS_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          '*.token', '*.apiKey', '*.password', '*.secretAccessKey', '*.sessionToken', '*.secret',
          'headers.authorization', 'headers["x-ss-signature"]', 'headers["x-auth-token"]',
          'config', 'credentials',
        ],
        censor: '[redacted]',
      },
    },
    opts.destination,
  );
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = pino({ level: 'silent' });
