/**
 * Real sidecar processes (`node dist/sidecar/main.js`, configured only through SS_* variables,
 * exactly as `npm start` runs it), each logging to its own file under .tmp/bench/logs.
 */

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, peakRssMb, sleep, startChild, tail, type Child } from './processes.js';

export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface SidecarProcess {
  child: Child;
  url: string;
  instanceId: string;
  /** Peak RSS seen so far (VmHWM), refreshed by sample(). */
  peakRssMb: number | null;
  sample(): void;
  stop(): Promise<void>;
}

export interface SidecarOptions {
  root: string;
  logDir: string;
  databaseUrl: string;
  providers: Record<string, unknown>;
  label: string;
  env?: Record<string, string>;
  /** A fixed port (one sidecar only), e.g. the one wp-config.php's SS_SIDECAR_URL names. */
  listenPort?: number;
}

export async function startSidecars(count: number, opts: SidecarOptions): Promise<SidecarProcess[]> {
  const providersFile = path.join(opts.logDir, `providers-${opts.label}.json`);
  fs.writeFileSync(providersFile, JSON.stringify(opts.providers, null, 2));
  const main = process.env.SS_BENCH_SIDECAR_JS ?? path.join(opts.root, 'dist/sidecar/main.js');
  const out: SidecarProcess[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const port = opts.listenPort ?? await freePort();
      const instanceId = `bench-${opts.label}-${i}`;
      const logFile = path.join(opts.logDir, `${instanceId}.log`);
      fs.writeFileSync(logFile, '');
      const child = startChild(instanceId, process.execPath, [main], {
        cwd: opts.root, logFile,
        env: {
          PATH: process.env.PATH, HOME: process.env.HOME,
          SS_DATABASE_URL: opts.databaseUrl, SS_TABLE_PREFIX: 'wp_', SS_SHARED_SECRET: SECRET,
          SS_LISTEN: `127.0.0.1:${port}`, SS_PROVIDERS_FILE: providersFile, SS_INSTANCE_ID: instanceId,
          ...opts.env,
        },
      });
      const sc: SidecarProcess = {
        child, url: `http://127.0.0.1:${port}`, instanceId, peakRssMb: null,
        sample() { const v = peakRssMb(child.pid); if (v !== null) sc.peakRssMb = Math.max(sc.peakRssMb ?? 0, v); },
        async stop() { sc.sample(); await child.stop(); },
      };
      out.push(sc);
    }
    for (const sc of out) await waitHealthy(sc);
  } catch (e) {
    await Promise.all(out.map((s) => s.stop()));
    throw e;
  }
  return out;
}

async function waitHealthy(sc: SidecarProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (sc.child.proc.exitCode !== null) break;
    const status = await new Promise<number>((resolve) => {
      const req = http.get(`${sc.url}/healthz`, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', () => resolve(0));
      req.setTimeout(2000, () => { req.destroy(); resolve(0); });
    });
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`sidecar ${sc.instanceId} did not become healthy; its log ends:\n${tail(sc.child.logFile)}`);
}

export async function stopSidecars(list: SidecarProcess[]): Promise<void> {
  await Promise.all(list.map((s) => s.stop()));
}
