/**
 * Real sidecar processes (`node <build>/sidecar/main.js`) configured only through SS_*
 * environment variables, as an operator would run them. Their stdout/stderr are kept (in
 * memory and in .tmp/reliability/logs) so scenarios can search every log line for secrets.
 * Every process started here is killed in `stopAll()` and, as a last resort, when the test
 * worker exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { signedHeaders } from '../../../sidecar/signing.js';
import { LOGS_DIR } from './results.js';

export const SECRET = 'reliability-secret-6f1c2a9e-0b7d-4e55-9a31-ffee';
const GUARD = fileURLToPath(new URL('./network-guard.mjs', import.meta.url));

const everyChild = new Set<ChildProcess>();
process.on('exit', () => { for (const c of everyChild) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

import { freePort } from '../../helpers/net.js';

export { freePort };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `probe` until it returns a truthy value, or throw naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) { lastError = e; }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

export interface SidecarSpec {
  scenario: string;
  instanceId: string;
  databaseUrl: string;
  providersFile: string;
  prefix?: string;
  tickMs?: number;
  leaseMs?: number;
  logLevel?: string;
  env?: Record<string, string>;
}

export class SidecarProcess {
  readonly lines: string[] = [];
  child: ChildProcess | null = null;
  port = 0;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #logFile = '';
  static #counter = 0;

  constructor(readonly spec: SidecarSpec) {}

  get url(): string { return `http://127.0.0.1:${this.port}`; }
  get alive(): boolean { return this.child !== null && this.exit === null; }
  get pid(): number { return this.child?.pid ?? 0; }

  /** Start and wait until /healthz answers 200. Retries another port if the chosen one was taken meanwhile. */
  async start(timeoutMs = 30_000): Promise<this> {
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      this.exit = null;
      fs.mkdirSync(LOGS_DIR, { recursive: true });
      this.#logFile = path.join(LOGS_DIR, `${this.spec.scenario}-${this.spec.instanceId}-${++SidecarProcess.#counter}.log`);
      const log = fs.createWriteStream(this.#logFile);
      const child = spawn(process.execPath, ['--import', GUARD, inject('sidecarMain')], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          SS_DATABASE_URL: this.spec.databaseUrl,
          SS_TABLE_PREFIX: this.spec.prefix ?? 'wp_',
          SS_SHARED_SECRET: SECRET,
          SS_LISTEN: `127.0.0.1:${this.port}`,
          SS_PROVIDERS_FILE: this.spec.providersFile,
          SS_TICK_MS: String(this.spec.tickMs ?? 200),
          SS_LEASE_MS: String(this.spec.leaseMs ?? 2000),
          SS_INSTANCE_ID: this.spec.instanceId,
          SS_LOG_LEVEL: this.spec.logLevel ?? 'info',
          ...this.spec.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      everyChild.add(child);
      const onData = (stream: string) => (chunk: Buffer) => {
        log.write(chunk);
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') this.lines.push(`${stream}: ${l}`);
      };
      child.stdout!.on('data', onData('out'));
      child.stderr!.on('data', onData('err'));
      child.once('exit', (code, signal) => { this.exit = { code, signal }; everyChild.delete(child); log.end(); });
      try {
        await waitFor(`sidecar ${this.spec.instanceId} /healthz`, async () => {
          if (this.exit) throw new Error(`exited with ${this.exit.code ?? this.exit.signal}: ${this.lines.slice(-3).join(' / ')}`);
          const r = await fetch(`${this.url}/healthz`).catch(() => null);
          return r?.status === 200;
        }, timeoutMs, 100);
        return this;
      } catch (e) {
        const inUse = this.lines.some((l) => l.includes('already in use'));
        await this.kill('SIGKILL');
        if (inUse && attempt < 5) continue;
        throw e;
      }
    }
  }

  /** Send a signal and wait for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || this.exit) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
    if (!this.exit) { child.kill('SIGKILL'); await gone; }
  }

  /** A fresh process with the same configuration (same instance id), e.g. after a SIGKILL. */
  async restart(): Promise<this> {
    await this.kill('SIGKILL');
    return await this.start();
  }

  async healthz(): Promise<{ status: number; body: { status?: string; database?: string; engine?: string } }> {
    const r = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(8000) });
    return { status: r.status, body: await r.json() as { status?: string } };
  }

  /** One counter or gauge from /metrics (summed over its labels when `label` is not given). */
  async metric(name: string, label?: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      if (label && !(m[2] ?? '').includes(label)) continue;
      sum += Number(m[3]);
    }
    return sum;
  }

  /** A signed JSON API call, as the WordPress plugin makes it. */
  async api(method: string, pathWithQuery: string, body?: unknown, opts: { actor?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: any; text: string }> {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = signedHeaders(SECRET, { method, pathWithQuery, body: text, actor: opts.actor ?? '1' });
    if (text !== '') headers['Content-Type'] = 'application/json';
    const r = await fetch(`${this.url}${pathWithQuery}`, { method, headers, body: text === '' ? undefined : text, signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000) });
    const raw = await r.text();
    let parsed: unknown = null;
    try { parsed = JSON.parse(raw); } catch { /* not JSON */ }
    return { status: r.status, body: parsed, text: raw };
  }
}

/** Stop every process (SIGTERM, then SIGKILL after the grace). */
export async function stopAll(list: SidecarProcess[], signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all(list.map((p) => p.kill(signal, 12_000).catch(() => {})));
}

/** Log lines (and any other texts) that contain one of the secrets. */
export function leaks(texts: string[], secrets: string[]): string[] {
  const found: string[] = [];
  for (const t of texts) for (const s of secrets) if (s && t.includes(s)) found.push(`${s.slice(0, 4)}… in: ${t.slice(0, 200)}`);
  return found;
}
