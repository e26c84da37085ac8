/**
 * Phase 6 — the Snapshots screen in wp-admin over the same 1,000,000 rows. A private
 * WordPress (tests/wp/setup-site.sh: Debian's WordPress, our plugin and the host stand-in)
 * gets the same 10,000 servers, the million-row table is moved into its database, a sidecar
 * serves it, and PHP's built-in server serves WordPress. Logged in as the admin, we time the
 * Snapshots screen and a bare admin page of the same WordPress (Tools), alternately.
 * Attempted only when php, WordPress and the plugin are there; otherwise null with the reason.
 */

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Pool } from 'mysql2/promise';
import { openDatabase } from '../sidecar/db.js';
import { migrateToLatest } from '../sidecar/migrate.js';
import { benchPool, type BenchServer } from './database.js';
import { freePort, sleep, startChild, tail } from './processes.js';
import { PREFIX, seedServers } from './seed.js';
import { SECRET, startSidecars, stopSidecars, type SidecarOptions } from './sidecars.js';
import { percentiles } from './stats.js';

export interface WpAdminResult {
  /** Median full response time of the Snapshots screen, ms. */
  snapshotsMs: number | null;
  /** Median full response time of the bare admin page (Tools), ms. */
  bareMs: number | null;
  reason?: string;
  snapshotsP95Ms?: number | null;
  bareP95Ms?: number | null;
  snapshotsUrl?: string;
  bareUrl?: string;
  rowsShown?: number;
  requests?: number;
  peakRssMb?: Array<number | null>;
}

/**
 * The sidecar is a long-running process: the first renders of a fresh one compile the
 * templates and warm V8 up (the very first took ~100 ms, the next ones 25 → 15 ms), which an
 * admin meets once after a restart, not on every screen. So both pages are warmed well first.
 */
const WARMUP = 30;
const MEASURED = 50;

export async function wpAdminPhase(root: string, work: string, server: BenchServer, benchDb: Pool, sc: Omit<SidecarOptions, 'providers' | 'label' | 'databaseUrl'>, log: (s: string) => void): Promise<WpAdminResult> {
  const missing = (reason: string): WpAdminResult => ({ snapshotsMs: null, bareMs: null, reason });
  const wpSource = process.env.SS_WP_SOURCE ?? '/usr/share/wordpress';
  try {
    execFileSync('php', ['-r', 'exit(function_exists("mysqli_connect") && function_exists("curl_init") ? 0 : 1);'], { stdio: 'ignore' });
  } catch {
    return missing('php with the mysqli and curl extensions is not installed (apt-get install php-cli php-mysql php-curl)');
  }
  if (!fs.existsSync(path.join(wpSource, 'wp-settings.php'))) return missing(`WordPress is not installed at ${wpSource} (apt-get install wordpress)`);
  for (const f of ['plugin-php/scheduled-snapshots/scheduled-snapshots.php', 'plugin-php/host-standin/host-standin.php', 'tests/wp/setup-site.sh', 'tests/wp/serve.sh']) {
    if (!fs.existsSync(path.join(root, f))) return missing(`${f} does not exist yet`);
  }

  const dest = path.join(work, 'wp');
  const wpPort = await freePort();
  const sidecarPort = await freePort();
  const password = 'bench-admin-password';
  const setupLog = path.join(sc.logDir, 'wp-setup.log');
  log('  [wp-admin] installing a private WordPress with the plugin (tests/wp/setup-site.sh)');
  const setup = spawn('bash', [path.join(root, 'tests/wp/setup-site.sh'), dest, server.names.wordpress, server.user, server.hostPort, String(wpPort)], {
    cwd: root, stdio: ['ignore', fs.openSync(setupLog, 'w'), fs.openSync(setupLog, 'a')],
    env: {
      ...process.env, SS_SHARED_SECRET: SECRET, SS_SIDECAR_URL: `http://127.0.0.1:${sidecarPort}`, SS_ADMIN_PASSWORD: password,
      SS_SERVERS: '0', SS_WP_DB_PASSWORD: server.password, SS_WP_TABLE_PREFIX: PREFIX,
    },
  });
  const code = await new Promise<number | null>((resolve) => setup.once('exit', resolve));
  if (code !== 0) return missing(`tests/wp/setup-site.sh failed (exit ${code}): ${tail(setupLog, 5).replace(/\s+/g, ' ').slice(0, 400)}`);

  // Same servers (ids 1001 onwards) and the same snapshot rows, moved (not copied) into WordPress's database.
  const wpDb = benchPool(server, server.names.wordpress, 4);
  try {
    await seedServers(wpDb);
    const handle = openDatabase(`${server.url}/${server.names.wordpress}`, PREFIX);
    await migrateToLatest(handle.db, PREFIX);
    await handle.close();
    await wpDb.query(`DROP TABLE ${PREFIX}ss_snapshots`);
    await benchDb.query(`RENAME TABLE \`${server.names.bench}\`.${PREFIX}ss_snapshots TO \`${server.names.wordpress}\`.${PREFIX}ss_snapshots`);
  } finally {
    await wpDb.end();
  }

  const sidecars = await startSidecars(1, {
    ...sc, label: 'wpadmin', listenPort: sidecarPort, databaseUrl: `${server.url}/${server.names.wordpress}`,
    providers: { sandbox: { type: 'sandbox', latencyMs: 0 } },
  });
  const php = startChild('php', 'bash', [path.join(root, 'tests/wp/serve.sh'), dest, String(wpPort)], { cwd: root, logFile: path.join(sc.logDir, 'php-server.log') });
  try {
    const base = `http://127.0.0.1:${wpPort}`;
    for (let i = 0; ; i++) {
      const r = await request(base, '/wp-login.php').catch(() => null);
      if (r && r.status === 200) break;
      if (i > 100) return missing(`PHP's server did not answer on ${base}: ${tail(php.logFile, 5)}`);
      await sleep(200);
    }
    const cookies = await logIn(base, password);
    if (!cookies) return missing('could not log in to the private WordPress as admin');

    let snapshotsUrl: string | null = null;
    let rowsShown = 0;
    for (const candidate of ['/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-snapshots', '/wp-admin/admin.php?page=ss-snapshots']) {
      const r = await request(base, candidate, { cookies });
      if (r.status === 200 && r.body.includes('ss-snapshots-screen')) {
        snapshotsUrl = candidate;
        rowsShown = (r.body.match(/data-snapshot-id="/g) ?? []).length;
        break;
      }
    }
    if (!snapshotsUrl) return missing('the Snapshots screen (page=ss-snapshots) was not found in wp-admin');
    if (rowsShown === 0) log('  [wp-admin] warning: the Snapshots screen shows no rows (is the sidecar reachable from WordPress?)');
    const bareUrl = '/wp-admin/tools.php';

    const snap: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < WARMUP + MEASURED; i++) {
      const a = await request(base, snapshotsUrl, { cookies });
      const b = await request(base, bareUrl, { cookies });
      if (a.status !== 200 || b.status !== 200) return missing(`wp-admin answered ${a.status} / ${b.status} during the measurement`);
      if (i >= WARMUP) { snap.push(a.ms); bare.push(b.ms); }
    }
    const s = percentiles(snap);
    const b = percentiles(bare);
    log(`  [wp-admin] Snapshots screen p50 ${s.p50Ms} ms (${rowsShown} rows), bare admin page p50 ${b.p50Ms} ms`);
    sidecars[0]!.sample();
    return {
      snapshotsMs: s.p50Ms, bareMs: b.p50Ms, snapshotsP95Ms: s.p95Ms, bareP95Ms: b.p95Ms,
      snapshotsUrl, bareUrl, rowsShown, requests: MEASURED, peakRssMb: [sidecars[0]!.peakRssMb],
    };
  } finally {
    await php.stop(5000);
    await stopSidecars(sidecars);
  }
}

async function logIn(base: string, password: string): Promise<string | null> {
  const body = new URLSearchParams({ log: 'admin', pwd: password, 'wp-submit': 'Log In', redirect_to: `${base}/wp-admin/`, testcookie: '1' }).toString();
  const r = await request(base, '/wp-login.php', { method: 'POST', body, cookies: 'wordpress_test_cookie=WP%20Cookie%20check' });
  const jar = r.setCookies.map((c) => c.split(';')[0]!).filter((c) => c.startsWith('wordpress'));
  return r.status === 302 && jar.some((c) => c.startsWith('wordpress_logged_in_')) ? jar.join('; ') : null;
}

async function request(base: string, pathWithQuery: string, opts: { method?: string; body?: string; cookies?: string } = {}) {
  const u = new URL(pathWithQuery, base);
  const t = process.hrtime.bigint();
  return await new Promise<{ status: number; body: string; ms: number; setCookies: string[] }>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.cookies) headers.Cookie = opts.cookies;
    if (opts.body) { headers['Content-Type'] = 'application/x-www-form-urlencoded'; headers['Content-Length'] = String(Buffer.byteLength(opts.body)); }
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'),
        ms: Number(process.hrtime.bigint() - t) / 1e6, setCookies: res.headers['set-cookie'] ?? [],
      }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.end(opts.body);
  });
}
