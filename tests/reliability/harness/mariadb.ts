/**
 * A private MariaDB this scenario may stop and start again (docs/testing.md recipe): same data
 * directory, same port, so the sidecars' SS_DATABASE_URL stays valid across a restart.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { freePort, waitFor } from './processes.js';

export class RestartableMariadb {
  #child: ChildProcess | null = null;
  #exited: Promise<void> | null = null;
  private constructor(readonly dir: string, readonly port: number) {}

  static async create(): Promise<RestartableMariadb> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-rel-mariadb-'));
    // Its own tmpdir, as in tests/setup/mariadb.ts: servers sharing /tmp collide on temporary tables.
    fs.mkdirSync(path.join(dir, 'tmp'));
    execFileSync('mariadb-install-db', [
      '--no-defaults', `--datadir=${path.join(dir, 'data')}`, `--tmpdir=${path.join(dir, 'tmp')}`, '--user=root',
      '--auth-root-authentication-method=normal', '--skip-test-db',
    ], { stdio: 'ignore' });
    return new RestartableMariadb(dir, await freePort());
  }

  get url(): string { return `mysql://root@127.0.0.1:${this.port}`; }
  get running(): boolean { return this.#child !== null; }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn('mariadbd', [
      '--no-defaults', `--datadir=${path.join(this.dir, 'data')}`, `--tmpdir=${path.join(this.dir, 'tmp')}`, `--socket=${path.join(this.dir, 'sock')}`,
      `--port=${this.port}`, '--bind-address=127.0.0.1', '--user=root', '--skip-log-bin',
      '--max-connections=300', `--log-error=${path.join(this.dir, 'error.log')}`,
    ], { stdio: 'ignore' });
    this.#child = child;
    this.#exited = new Promise((r) => child.once('exit', () => { r(); }));
    process.once('exit', () => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
    await waitFor('MariaDB accepting queries', async () => {
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}; see ${this.dir}/error.log`);
      const c = await createConnection({ uri: this.url, connectTimeout: 1000 });
      await c.query('SELECT 1');
      await c.end();
      return true;
    }, 60_000, 100);
  }

  /** SIGTERM is a clean shutdown; SIGKILL is a crash (InnoDB recovers on the next start). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill(signal);
    await this.#exited;
    this.#child = null;
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
