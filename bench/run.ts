/**
 * `npm run bench`: dispatch, lateness, list latency, memory and provider budget at 10,000
 * servers and 1,000,000 snapshots (or as many as the knobs say), on this machine, in a private
 * database. Prints a table and writes bench/results.json. See docs/performance.md for what each figure means.
 *
 * Knobs (environment), for development; the defaults are the real benchmark:
 *   SS_BENCH_MYSQL_URL          use this server (mysql://user:pass@host:port) instead of a private one;
 *                               the benchmark creates and drops its own databases there
 *   SS_BENCH_LATENESS_SECONDS   window the lateness phase spreads its 10,000 slots over (300)
 *   SS_BENCH_BUDGET_SECONDS     how long the provider-budget phase runs (60)
 *   SS_BENCH_SIDECARS           sidecar counts for the dispatch phase ("1,2,4")
 *   SS_BENCH_SERVERS            servers seeded and put on the hourly schedule, for every phase (10000)
 *   SS_BENCH_SNAPSHOTS          rows for the list phase (1000000)
 *   SS_BENCH_BUFFER_POOL_MB     InnoDB buffer pool of the private MariaDB in MiB (1024)
 *   SS_BENCH_PHASES             which phases (dispatch,lateness,budget,provider,list,wpadmin); the
 *                               figures of phases not run are kept from the results file, and so
 *                               are keys this program does not write (e.g. `scale100k`)
 *   SS_BENCH_RESULTS            where to write the results (bench/results.json)
 *   SS_BENCH_SIDECAR_JS         the sidecar entry point to run (dist/sidecar/main.js)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../sidecar/db.js';
import { ensureSandboxTable } from '../migrations/sandbox.js';
import { migrateToLatest } from '../sidecar/migrate.js';
import { benchPool, createDatabase, machine, startServer } from './database.js';
import { budgetPhase } from './phase-budget.js';
import { providerPhase } from './phase-provider.js';
import { dispatchPhase } from './phase-dispatch.js';
import { latenessPhase } from './phase-lateness.js';
import { listPhase } from './phase-list.js';
import { wpAdminPhase } from './phase-wpadmin.js';
import { stopEverything } from './processes.js';
import { HOURLY_SCHEDULE_ID, PREFIX, SERVERS, assignAll, seedServers, wordpressTablesDdl } from './seed.js';
import { fmt, table } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = path.join(root, '.tmp/bench');
const logDir = path.join(work, 'logs');

function intEnv(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a positive whole number, got "${v}"`);
  return Number(v);
}

const settings = {
  latenessSeconds: intEnv('SS_BENCH_LATENESS_SECONDS', 300),
  budgetSeconds: intEnv('SS_BENCH_BUDGET_SECONDS', 60),
  sidecarCounts: (process.env.SS_BENCH_SIDECARS ?? '1,2,4').split(',').map((x) => Number(x.trim())).filter((x) => x >= 1),
  snapshots: intEnv('SS_BENCH_SNAPSHOTS', 1_000_000),
  phases: new Set((process.env.SS_BENCH_PHASES ?? 'dispatch,lateness,budget,provider,list,wpadmin').split(',').map((x) => x.trim())),
  resultsFile: path.resolve(root, process.env.SS_BENCH_RESULTS ?? 'bench/results.json'),
};

const t0 = Date.now();
function log(line: string) {
  const s = ((Date.now() - t0) / 1000).toFixed(0).padStart(4);
  process.stdout.write(`[${s}s] ${line}\n`);
}

const ALL_PHASES = ['dispatch', 'lateness', 'budget', 'provider', 'list', 'wpadmin'];
/** Keys every run writes itself (beside the phases'). */
const OWN_KEYS = ['generatedAt', 'machine', 'settings', 'memory', 'targets', 'durationSeconds'];

type Results = Record<string, unknown> & {
  memory: { peakRssMb: number | null; byPhase: Record<string, Array<number | null>> };
};

async function main() {
  if (!fs.existsSync(process.env.SS_BENCH_SIDECAR_JS ?? path.join(root, 'dist/sidecar/main.js'))) {
    throw new Error('dist/sidecar/main.js is missing: run `npm run build` first (npm run bench does).');
  }
  fs.mkdirSync(work, { recursive: true });
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });

  log('starting a private MariaDB (scripts/mariadb.sh, .tmp/bench/mariadb)');
  const server = await startServer(work);
  const results: Results = {
    generatedAt: new Date().toISOString(),
    machine: machine(server),
    settings: { ...settings, phases: [...settings.phases], resultsFile: path.relative(root, settings.resultsFile), servers: SERVERS },
    memory: { peakRssMb: null, byPhase: {} },
  };
  // A run of some phases keeps the other phases' figures from the last full run, and every
  // key this program does not write (such as `scale100k`, a larger run's figures kept beside).
  if (fs.existsSync(settings.resultsFile)) {
    const before = JSON.parse(fs.readFileSync(settings.resultsFile, 'utf8')) as Partial<Results>;
    for (const [k, v] of Object.entries(before)) {
      if (!(k in results) && !ALL_PHASES.includes(k) && !OWN_KEYS.includes(k)) results[k] = v;
    }
    for (const k of ALL_PHASES) {
      if (settings.phases.has(k) || before[k] === undefined) continue;
      results[k] = before[k];
      const rss = before.memory?.byPhase?.[k];
      if (rss) results.memory.byPhase[k] = rss;
    }
  }
  const save = () => {
    results.durationSeconds = Math.round((Date.now() - t0) / 1000);
    fs.mkdirSync(path.dirname(settings.resultsFile), { recursive: true });
    fs.writeFileSync(settings.resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  };

  try {
    await createDatabase(server, server.names.bench);
    const dbUrl = `${server.url}/${server.names.bench}`;
    const pool = benchPool(server, server.names.bench, 8);
    try {
      for (const ddl of wordpressTablesDdl(PREFIX)) await pool.query(ddl);
      const handle = openDatabase(dbUrl, PREFIX);
      await migrateToLatest(handle.db, PREFIX);
      // The bench's sidecars run the sandbox provider; its table is made before any phase empties it.
      await ensureSandboxTable(handle.db);
      await handle.close();
      log(`seeding ${SERVERS.toLocaleString('en-US')} servers (wpcd_app_server posts + meta) on the hourly schedule`);
      await seedServers(pool);
      await assignAll(pool, HOURLY_SCHEDULE_ID);

      const sc = { root, logDir, databaseUrl: dbUrl };
      const phase = async (name: string, title: string, run: () => Promise<unknown>, rss: (r: unknown) => Array<number | null> | undefined) => {
        if (!settings.phases.has(name)) return;
        log(`${title}`);
        const started = Date.now();
        try {
          const r = await run();
          results[name] = r;
          const peaks = rss(r);
          if (peaks) results.memory.byPhase[name] = peaks;
        } catch (e) {
          results[name] = { error: (e as Error).message };
          log(`  ${name} failed: ${(e as Error).message}`);
        }
        log(`  (${name}: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
        save();
      };

      await phase('dispatch', `phase 1/5 dispatch: ${SERVERS.toLocaleString('en-US')} hourly slots due at once, ${settings.sidecarCounts.join(' / ')} sidecar processes, and the raw commit limit`,
        () => dispatchPhase(server, pool, sc, settings.sidecarCounts, log),
        (r) => (r as { runs: Array<{ peakRssMb: Array<number | null> }> }).runs.flatMap((x) => x.peakRssMb));
      await phase('lateness', `phase 2/5 lateness: ${SERVERS.toLocaleString('en-US')} slots spread over ${settings.latenessSeconds} s, one sidecar`,
        () => latenessPhase(pool, sc, settings.latenessSeconds, log), (r) => (r as { peakRssMb: Array<number | null> }).peakRssMb);
      await phase('budget', `phase 3/5 provider budget: ${SERVERS.toLocaleString('en-US')} servers on one Hetzner account (fake API), ${settings.budgetSeconds} s`,
        () => budgetPhase(root, work, pool, sc, settings.budgetSeconds, log), (r) => (r as { peakRssMb?: Array<number | null> }).peakRssMb);
      await phase('provider', `phase provider: requests per snapshot and a round of ${SERVERS.toLocaleString('en-US')} servers against the budget's floor (Hetzner fake)`,
        () => providerPhase(root, work, pool, sc, log), (r) => (r as { peakRssMb?: Array<number | null> }).peakRssMb);
      await phase('list', `phase 4/5 snapshots list: ${settings.snapshots.toLocaleString('en-US')} rows through the signed API`,
        () => listPhase(pool, sc, settings.snapshots, log), (r) => (r as { peakRssMb: Array<number | null> }).peakRssMb);
      await phase('wpadmin', 'phase 5/5 wp-admin: the Snapshots screen vs a bare admin page',
        () => wpAdminPhase(root, work, server, pool, { root, logDir }, log), (r) => (r as { peakRssMb?: Array<number | null> }).peakRssMb);
    } finally {
      await pool.end();
    }
  } finally {
    await server.stop().catch(() => {});
    stopEverything();
  }

  // Memory: the sidecars of the engine and list phases (1–3 in the issue); the others are listed too.
  const engineAndList = ['dispatch', 'lateness', 'list'].flatMap((k) => results.memory.byPhase[k] ?? []).filter((x): x is number => x !== null);
  results.memory.peakRssMb = engineAndList.length ? Math.max(...engineAndList) : null;
  results.targets = targets(results);
  save();
  report(results);
}

type Target = { name: string; value: number | boolean | null; target: string; met: boolean | null };

function targets(r: Results): Target[] {
  const field = (obj: string, key: string) => (r[obj] as Record<string, unknown> | undefined)?.[key];
  const num = (obj: string, key: string) => { const v = field(obj, key); return typeof v === 'number' ? v : null; };
  const ratio = num('dispatch', 'ratio');
  const p99 = num('lateness', 'p99Ms');
  const list = num('list', 'p95Ms');
  const snap = num('wpadmin', 'snapshotsMs');
  const bare = num('wpadmin', 'bareMs');
  const rss = r.memory.peakRssMb;
  const e = field('budget', 'exceeded');
  const exceeded = typeof e === 'boolean' ? e : null;
  const rps = num('provider', 'requestsPerSnapshot');
  const round = num('provider', 'roundSeconds');
  const floor = num('provider', 'roundFloorSeconds');
  const refused = num('provider', 'refused429');
  return [
    { name: 'dispatch.ratio', value: ratio, target: '≥ 0.5', met: ratio === null ? null : ratio >= 0.5 },
    { name: 'lateness.p99Ms', value: p99, target: '< 2000', met: p99 === null ? null : p99 < 2000 },
    { name: 'list.p95Ms', value: list, target: '< 50', met: list === null ? null : list < 50 },
    { name: 'wpadmin.snapshotsMs − bareMs', value: snap === null || bare === null ? null : Math.round((snap - bare) * 10) / 10, target: '≤ 100', met: snap === null || bare === null ? null : snap <= bare + 100 },
    { name: 'memory.peakRssMb', value: rss, target: '< 250', met: rss === null ? null : rss < 250 },
    { name: 'budget.exceeded', value: exceeded, target: 'false', met: exceeded === null ? null : exceeded === false },
    { name: 'provider.requestsPerSnapshot', value: rps, target: '≤ 2.5 (floor 2)', met: rps === null ? null : rps <= 2.5 },
    { name: 'provider.roundSeconds', value: round, target: `≤ 1.1 × roundFloorSeconds (${floor ?? 'n/a'})`, met: round === null || floor === null ? null : round <= 1.1 * floor },
    { name: 'provider.refused429', value: refused, target: '0', met: refused === null ? null : refused === 0 },
  ];
}

function report(r: Results) {
  const d = r.dispatch as { raw?: { perSec: number; byConnections: Record<string, number> }; runs?: Array<Record<string, unknown>>; ratio?: number; providerCallsRatio?: number; error?: string } | undefined;
  const out: string[] = ['', 'Scheduled Snapshots benchmark', `machine: ${JSON.stringify(r.machine)}`, ''];
  if (d?.runs) {
    out.push(table([
      [`dispatch (${SERVERS.toLocaleString('en-US')} slots due at once)`, 'slots/s', 'provider calls/s', 'burst lateness p50 / p99 / max', 'SQL statements / commits per slot', 'CPU s: sidecars / MariaDB / wall', 'peak RSS MiB'],
      ['raw: single-row transactions', fmt(d.raw?.perSec), '', `by connections: ${Object.entries(d.raw?.byConnections ?? {}).map(([k, v]) => `${k}→${v}`).join(', ')}`, '4 / 1', '', ''],
      ...d.runs.map((x) => {
        const l = x.burstLateness as { p50Ms: number; p99Ms: number; maxMs: number };
        const c = x.cpu as { sidecarsSeconds: number | null; mariadbSeconds: number | null; wallSeconds: number };
        return [`engine: ${x.sidecars} sidecar process${Number(x.sidecars) > 1 ? 'es' : ''}`, fmt(x.dispatchPerSec as number), fmt(x.providerCallsPerSec as number),
          `${fmt(l.p50Ms)} / ${fmt(l.p99Ms)} / ${fmt(l.maxMs)} ms`, `${fmt(x.statementsPerSlot as number)} / ${fmt(x.commitsPerSlot as number)}`, `${fmt(c.sidecarsSeconds)} / ${fmt(c.mariadbSeconds)} / ${fmt(c.wallSeconds)}`,
          (x.peakRssMb as Array<number | null>).map((m) => fmt(m)).join(', ')];
      }),
    ]));
    out.push('');
  }
  const l = r.list as { cases?: Array<Record<string, unknown>> } | undefined;
  if (l?.cases) {
    out.push(table([
      [`GET /api/v1/snapshots (${Number((r.list as { rows?: number }).rows ?? 0).toLocaleString('en-US')} rows)`, 'p50 ms', 'p95 ms', 'p99 ms', 'items'],
      ...l.cases.map((c) => [String(c.name), fmt(c.p50Ms as number), fmt(c.p95Ms as number), fmt(c.p99Ms as number), String(c.items)]),
    ]));
    const sc = (r.list as { screen?: { p50Ms: number | null; p95Ms: number | null; bytes: number } }).screen;
    if (sc) out.push(`GET /ui/v1/snapshots (the Snapshots screen's render, sidecar only): p50 ${fmt(sc.p50Ms)} ms, p95 ${fmt(sc.p95Ms)} ms, ${sc.bytes.toLocaleString('en-US')} bytes`);
    out.push('');
  }
  const b = r.budget as Record<string, unknown> | undefined;
  if (b && b.exceeded !== null && b.exceeded !== undefined) {
    out.push(`provider budget (Hetzner fake, ${b.budgetPerHour}/h, ${b.seconds} s): ${b.requests} requests (${b.snapshotsCreated} creates, ${b.statusRequests} status reads), peak ${b.peakPerSecond}/s and ${b.peakPerMinute}/min, refused by the provider: ${b.refusedByProvider}; the creates of one round of ${SERVERS.toLocaleString('en-US')} need ${b.hoursPerRoundCreatesOnly} h of this budget`, '');
  }
  const rows: string[][] = [['figure', 'value', 'target', 'met']];
  for (const t of r.targets as Target[]) rows.push([t.name, t.value === null ? 'null' : String(t.value), t.target, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO']);
  out.push(table(rows), '');
  for (const k of ALL_PHASES) {
    const v = r[k] as { reason?: string; error?: string } | undefined;
    if (v?.reason) out.push(`${k}: not measured — ${v.reason}`);
    if (v?.error) out.push(`${k}: FAILED — ${v.error}`);
  }
  out.push(`results: ${path.relative(root, settings.resultsFile)}; logs: ${path.relative(root, logDir)}/; ${r.durationSeconds} s in all`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  stopEverything();
  process.exit(1);
});
