/**
 * The benchmark's own MariaDB: a private, throwaway server started with scripts/mariadb.sh
 * under .tmp/bench/ (or the server SS_BENCH_MYSQL_URL names, where the benchmark creates
 * and later drops its own databases). Nothing else's data is touched.
 */

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { MariadbServer } from '../scripts/mariadb.js';
import { onExitStop } from './processes.js';

export interface BenchServer {
  /** mysql://user[:pass]@host:port, without a database. */
  url: string;
  user: string;
  password: string;
  hostPort: string;
  private: boolean;
  /** mariadbd's pid when the server is ours (for its CPU time), else null. */
  pid: number | null;
  /** InnoDB buffer pool of the private server in MiB (`SS_BENCH_BUFFER_POOL_MB`), null on a given server. */
  bufferPoolMb: number | null;
  version: string;
  /** Database names: unique per run on a shared server. */
  names: { bench: string; wordpress: string };
  stop(): Promise<void>;
}

export async function startServer(work: string): Promise<BenchServer> {
  const given = process.env.SS_BENCH_MYSQL_URL;
  if (given) {
    const u = new URL(given);
    const base = `mysql://${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.hostname}:${u.port || 3306}`;
    const suffix = `${Date.now().toString(36)}`;
    const names = { bench: `ss_bench_${suffix}`, wordpress: `ss_bench_wp_${suffix}` };
    return {
      url: base, user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password), hostPort: `${u.hostname}:${u.port || 3306}`,
      private: false, pid: null, bufferPoolMb: null, version: await serverVersion(base),
      names,
      async stop() {
        const c = await createConnection({ uri: base });
        for (const db of [names.bench, names.wordpress]) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
        await c.end();
      },
    };
  }

  const dir = path.join(work, 'mariadb');
  const pidFile = path.join(dir, 'mariadbd.pid');
  if (fs.existsSync(pidFile)) {
    const old = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (old > 0 && isAlive(old)) {
      throw new Error(`a MariaDB from an earlier benchmark run is still running (pid ${old}, ${dir}); stop it with: kill ${old}`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const db = await MariadbServer.start({ dir });
  const unregister = onExitStop('mariadbd', () => { if (db.pid) { try { process.kill(db.pid, 'SIGTERM'); } catch { /* gone */ } } });
  const pid = db.pid ?? 0;
  const port = db.port;
  const url = `mysql://root@127.0.0.1:${port}`;
  // The bench's 1,000,000 rows and their eight indexes are ~1 GB: give InnoDB room like a
  // real database server would have (MariaDB resizes the buffer pool online). A run with
  // more rows may give it more (SS_BENCH_BUFFER_POOL_MB).
  const bufferPoolMb = bufferPoolFromEnv();
  const c = await createConnection({ uri: url });
  await c.query(`SET GLOBAL innodb_buffer_pool_size = ${bufferPoolMb * 1024 * 1024}`);
  await c.end();
  return {
    url, user: 'root', password: '', hostPort: `127.0.0.1:${port}`, private: true, pid, bufferPoolMb, version: await serverVersion(url),
    names: { bench: 'ss_bench', wordpress: 'ss_bench_wp' },
    async stop() {
      await db.stop();
      unregister();
      // About 1 GB of throwaway rows; error.log stays for inspection.
      fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    },
  };
}

function bufferPoolFromEnv(): number {
  const v = process.env.SS_BENCH_BUFFER_POOL_MB;
  if (v === undefined || v === '') return 1024;
  if (!/^\d+$/.test(v) || Number(v) < 128) throw new Error(`SS_BENCH_BUFFER_POOL_MB must be a whole number of MiB, at least 128, got "${v}"`);
  return Number(v);
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function serverVersion(url: string): Promise<string> {
  const c = await createConnection({ uri: url });
  const [rows] = await c.query<RowDataPacket[]>('SELECT VERSION() AS v');
  await c.end();
  return String(rows[0]?.v ?? 'unknown');
}

export async function createDatabase(server: BenchServer, name: string): Promise<void> {
  const c = await createConnection({ uri: server.url });
  await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await c.end();
}

/** A pool on one database; times in UTC like the sidecar's. */
export function benchPool(server: BenchServer, database: string, connectionLimit = 10): Pool {
  return createPool({ uri: `${server.url}/${database}`, timezone: 'Z', connectionLimit, supportBigNumbers: true, decimalNumbers: true });
}

export async function rows<T = Record<string, unknown>>(pool: Pool, sqlText: string, params: unknown[] = []): Promise<T[]> {
  const [r] = await pool.query<RowDataPacket[]>(sqlText, params);
  return r as unknown as T[];
}

export async function one<T = Record<string, unknown>>(pool: Pool, sqlText: string, params: unknown[] = []): Promise<T> {
  const r = await rows<T>(pool, sqlText, params);
  if (r.length === 0) throw new Error(`no row from: ${sqlText.slice(0, 80)}`);
  return r[0] as T;
}

/** The database clock (the engine's only clock) as a JS Date. */
export async function dbNow(pool: Pool): Promise<Date> {
  return (await one<{ now: Date }>(pool, 'SELECT UTC_TIMESTAMP(3) AS now')).now;
}

export function machine(server: BenchServer) {
  const sh = (cmd: string) => { try { return execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };
  const pool = server.bufferPoolMb ?? 1024;
  return {
    nproc: Number(sh('nproc')) || null,
    cpu: sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'"),
    memory: sh("free -h | awk '/^Mem:/ {print $2\" total, \"$7\" available\"}'"),
    node: process.version,
    mariadb: server.version,
    databaseServer: server.private
      ? `private (scripts/mariadb.sh: innodb_flush_log_at_trx_commit=2, no binlog, buffer pool ${pool % 1024 === 0 ? `${pool / 1024} GiB` : `${pool} MiB`})`
      : 'SS_BENCH_MYSQL_URL',
  };
}
