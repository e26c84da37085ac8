/**
 * A private, throwaway MariaDB for the test suites, the reliability harness and the benchmark:
 * TypeScript's handle on scripts/mariadb.sh, the one launcher (the shell scripts call it
 * directly), so the server's flags, install and readiness check live in one place.
 *
 * Each server has a directory of its own (data, its own tmpdir, socket, log) and a free port;
 * stop() and start() again keep both, so a scenario can restart "the database" under
 * running sidecars whose URL stays valid.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../tests/helpers/net.js';

const run = promisify(execFile);

/** scripts/mariadb.sh, found from here whether this runs from source or from dist/. */
function launcher(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'scripts', 'mariadb.sh');
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('scripts/mariadb.sh was not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export class MariadbServer {
  /** mariadbd's pid while it runs (for the benchmark's CPU figures), else null. */
  pid: number | null = null;
  #forgetExitHook: (() => void) | null = null;

  private constructor(readonly dir: string, readonly port: number) {}

  /** Start a server in `dir` (default: a new temporary directory) on a free port. */
  static async start(opts: { dir?: string } = {}): Promise<MariadbServer> {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ss-mariadb-'));
    const server = new MariadbServer(dir, await freePort());
    await server.start();
    return server;
  }

  get url(): string { return `mysql://root@127.0.0.1:${this.port}`; }
  get running(): boolean { return this.pid !== null; }

  /** Start it (again): same directory, same port, same data. */
  async start(): Promise<void> {
    if (this.pid !== null) return;
    try {
      await run('bash', [launcher(), this.dir, String(this.port)]);
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
      throw new Error(stderr || `MariaDB did not start; see ${this.dir}/error.log`);
    }
    const pid = Number(fs.readFileSync(path.join(this.dir, 'mariadbd.pid'), 'utf8').trim());
    this.pid = pid;
    // mariadbd outlives its launcher: if this process ends without stop(), take it along.
    const kill = () => { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } };
    process.once('exit', kill);
    this.#forgetExitHook = () => process.off('exit', kill);
  }

  /** SIGTERM is a clean shutdown; SIGKILL is a crash (InnoDB recovers on the next start). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (this.pid === null) return;
    await run('bash', [launcher(), 'stop', this.dir, signal]);
    this.pid = null;
    this.#forgetExitHook?.();
    this.#forgetExitHook = null;
  }

  /** Stop it and remove its directory. */
  async destroy(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The server a test run uses: the one SS_TEST_MYSQL_URL names (mysql://root@127.0.0.1:3306),
 * else a private one, removed by stop().
 */
export async function testServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const named = process.env.SS_TEST_MYSQL_URL;
  if (named) return { url: named, stop: async () => {} };
  const server = await MariadbServer.start();
  return { url: server.url, stop: () => server.destroy() };
}
