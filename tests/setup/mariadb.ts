/**
 * Global setup: gives every test file a real MariaDB server.
 *
 * If SS_TEST_MYSQL_URL names a server (mysql://root@127.0.0.1:3306), it is used. Otherwise
 * a private, throwaway MariaDB is started in a temporary directory (docs/testing.md) and stopped
 * after the run. Each test file then creates its own database on it (tests/helpers/db.ts).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/net.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string;
  }
}


async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('mariadbd did not accept connections in time');
}

export async function startPrivateMariadb(): Promise<{ url: string; stop: () => Promise<void>; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-mariadb-'));
  const datadir = path.join(dir, 'data');
  // Its own tmpdir: servers started at the same moment in a shared /tmp trip over each
  // other's temporary tables.
  const tmpdir = path.join(dir, 'tmp');
  fs.mkdirSync(tmpdir);
  execFileSync('mariadb-install-db', [
    '--no-defaults', `--datadir=${datadir}`, `--tmpdir=${tmpdir}`, '--user=root',
    '--auth-root-authentication-method=normal', '--skip-test-db',
  ], { stdio: 'ignore' });
  const port = await freePort();
  const child = spawn('mariadbd', [
    '--no-defaults', `--datadir=${datadir}`, `--tmpdir=${tmpdir}`, `--socket=${path.join(dir, 'sock')}`, `--port=${port}`,
    '--bind-address=127.0.0.1', '--user=root', '--skip-log-bin', '--innodb-flush-log-at-trx-commit=2',
    '--max-connections=500', '--innodb-buffer-pool-size=256M', `--log-error=${path.join(dir, 'error.log')}`,
  ], { stdio: 'ignore' });
  await waitForPort(port, child, 30_000);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { url: `mysql://root@127.0.0.1:${port}`, stop, dir };
}

let stopFn: (() => Promise<void>) | null = null;

export default async function setup(project: TestProject) {
  let url = process.env.SS_TEST_MYSQL_URL;
  if (!url) {
    const started = await startPrivateMariadb();
    url = started.url;
    stopFn = started.stop;
  }
  project.provide('mysqlUrl', url);
  return async () => {
    if (stopFn) await stopFn();
  };
}
