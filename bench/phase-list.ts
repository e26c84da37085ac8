/**
 * Phase 3 — the snapshots list at 1,000,000 rows (SS_BENCH_SNAPSHOTS), through the real signed HTTP API of a
 * running sidecar process (every request has its own nonce, as the plugin sends them).
 * Requests are sequential: this is the latency one admin sees, not a load test.
 */

import http from 'node:http';
import type { Pool } from 'mysql2/promise';
import { signedHeaders } from '../sidecar/signing.js';
import { FIRST_SERVER_ID, HOURLY_SCHEDULE_ID, PREFIX, SERVERS, count, resetEngineTables, rows, seedSnapshots } from './seed.js';
import { SECRET, startSidecars, stopSidecars, type SidecarOptions, type SidecarProcess } from './sidecars.js';
import { percentiles, round } from './stats.js';

export interface ListCase {
  name: string;
  query: string;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  requests: number;
  items: number;
  /** MariaDB's plan for the page's statement and the rows it really read (ANALYZE). */
  plan: ListPlan | null;
}

export interface ListPlan {
  /** The index the page is read through (null: a full scan). */
  key: string | null;
  /** The optimizer's estimate of rows to read, and the rows it did read for one page. */
  rows: number | null;
  rowsRead: number | null;
  extra: string | null;
}

export interface ListResult {
  rows: number;
  seedSeconds: number;
  cases: ListCase[];
  /** The worst p95 of the cases (target < 50 ms). */
  p95Ms: number | null;
  /** Following nextCursor page by page reached the same row as the cursor built for it. */
  keysetChecked: boolean;
  peakRssMb: Array<number | null>;
  /** The Snapshots screen's render as WordPress asks for it (`GET /ui/v1/snapshots`), sidecar only. */
  screen?: { p50Ms: number | null; p95Ms: number | null; bytes: number };
}

const WARMUP = 20;
const MEASURED = 200;

export async function listPhase(pool: Pool, sc: Omit<SidecarOptions, 'providers' | 'label'>, total: number, log: (s: string) => void): Promise<ListResult> {
  await resetEngineTables(pool);
  const started = Date.now();
  await seedSnapshots(pool, total, (done) => {
    log(`  [list] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} snapshot rows written, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  const seedSeconds = round((Date.now() - started) / 1000, 1);
  const n = await count(pool, `${PREFIX}ss_snapshots`);

  const sidecars = await startSidecars(1, { ...sc, label: 'list', providers: { sandbox: { type: 'sandbox', latencyMs: 0 } } });
  const sidecar = sidecars[0]!;
  const cases: ListCase[] = [];
  let keysetChecked = false;
  let screen: ListResult['screen'];
  try {
    const client = apiClient(sidecar);
    // The page 10,000 rows deep: follow the cursors there once (200 pages of 50), then check
    // it against the cursor built from the table (base64url of "id:<n>").
    let cursor: string | null = null;
    for (let page = 0; page < 200; page++) {
      const body = await client.get(`/api/v1/snapshots?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = (body.json as { nextCursor: string | null }).nextCursor;
      if (!cursor) throw new Error(`the list ended after ${page + 1} pages`);
    }
    const [[deep]] = await pool.query(`SELECT id FROM ${PREFIX}ss_snapshots ORDER BY id DESC LIMIT 1 OFFSET 9999`) as unknown as [[{ id: number }]];
    const built = Buffer.from(`id:${Number(deep.id)}`).toString('base64url');
    keysetChecked = built === cursor;
    if (!keysetChecked) log(`  [list] warning: following cursors reached ${cursor}, the table says ${built}`);

    let k = 0;
    const someServer = () => FIRST_SERVER_ID + ((k++ * 7919) % SERVERS);
    // `where`: the condition listPage (sidecar/store/snapshots.ts) sends for the case, for its plan.
    const defs: Array<{ name: string; query: () => string; where: string }> = [
      { name: 'first page', query: () => '', where: '1=1' },
      { name: 'page 10,000 rows deep (keyset)', query: () => `cursor=${built}`, where: `id < ${Number(deep.id)}` },
      { name: 'serverId filter', query: () => `serverId=${someServer()}`, where: `server_id = ${FIRST_SERVER_ID + Math.floor(SERVERS / 2)}` },
      { name: 'status=failed (1 % of rows)', query: () => 'status=failed', where: "status = 'failed'" },
      { name: 'status=available (98 % of rows)', query: () => 'status=available', where: "status = 'available'" },
      { name: 'scheduleId filter (60 % of rows)', query: () => `scheduleId=${HOURLY_SCHEDULE_ID}`, where: `schedule_id = ${HOURLY_SCHEDULE_ID}` },
    ];
    for (const d of defs) {
      const times: number[] = [];
      let items = 0;
      for (let i = 0; i < WARMUP + MEASURED; i++) {
        const q = d.query();
        const r = await client.get(`/api/v1/snapshots${q ? `?${q}` : ''}`);
        if (i >= WARMUP) times.push(r.ms);
        items = Math.max(items, (r.json as { items: unknown[] }).items.length);
      }
      const p = percentiles(times);
      const plan = await pagePlan(pool, d.where);
      cases.push({ name: d.name, query: d.query().replace(/\d{4,}$/, '<id>'), p50Ms: p.p50Ms, p95Ms: p.p95Ms, p99Ms: p.p99Ms, requests: MEASURED, items, plan });
      log(`  [list] ${d.name}: p50 ${p.p50Ms} ms, p95 ${p.p95Ms} ms (${items} items a page; ${plan ? `index ${plan.key ?? 'none'}, ${plan.rowsRead ?? '?'} rows read` : 'no plan'})`);
      sidecar.sample();
    }
    // The Snapshots screen as WordPress asks for it, without WordPress: the sidecar's share of
    // the wp-admin figure (signature, nonce, the page's reads, the template).
    const ctx = JSON.stringify({
      locale: 'en_US', timezone: 'UTC', perPage: 20, user: { id: 1, name: 'admin' },
      urls: { schedules: 'http://wp.test/wp-admin/admin.php?page=ss-schedules', snapshots: 'http://wp.test/wp-admin/admin.php?page=ss-snapshots', settings: 'http://wp.test/wp-admin/admin.php?page=ss-settings', adminPost: 'http://wp.test/wp-admin/admin-post.php' },
    });
    const screenTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < WARMUP + MEASURED; i++) {
      const r = await client.getText(`/ui/v1/snapshots?ctx=${encodeURIComponent(ctx)}`);
      if (i >= WARMUP) screenTimes.push(r.ms);
      bytes = r.text.length;
    }
    const sp = percentiles(screenTimes);
    screen = { p50Ms: sp.p50Ms, p95Ms: sp.p95Ms, bytes };
    log(`  [list] the Snapshots screen's render: p50 ${sp.p50Ms} ms, p95 ${sp.p95Ms} ms (${bytes} bytes)`);
    client.close();
  } finally {
    await stopSidecars(sidecars);
  }
  const p95s = cases.map((c) => c.p95Ms).filter((x): x is number => x !== null);
  return { rows: n, seedSeconds, cases, p95Ms: p95s.length ? Math.max(...p95s) : null, keysetChecked, peakRssMb: [sidecar.peakRssMb], screen };
}

/** ANALYZE of one page's statement (50 rows and one to tell whether more follow, newest first). */
async function pagePlan(pool: Pool, where: string): Promise<ListPlan | null> {
  const r = await rows<Record<string, unknown>>(pool, `ANALYZE SELECT * FROM ${PREFIX}ss_snapshots WHERE ${where} ORDER BY id DESC LIMIT 51`).catch(() => []);
  const t = r.find((x) => x.table === `${PREFIX}ss_snapshots`);
  if (!t) return null;
  const num = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v)));
  return { key: (t.key as string | null) ?? null, rows: num(t.rows), rowsRead: num(t.r_rows), extra: (t.Extra as string | null) ?? null };
}

/** Signed GETs over one keep-alive connection, timed from the request to the last byte. */
export function apiClient(sc: SidecarProcess) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(sc.url);
  const client = {
    async get(pathWithQuery: string): Promise<{ ms: number; json: unknown }> {
      const { ms, text } = await client.getText(pathWithQuery);
      return { ms, json: JSON.parse(text) };
    },
    async getText(pathWithQuery: string): Promise<{ ms: number; text: string }> {
      const headers = signedHeaders(SECRET, { method: 'GET', pathWithQuery, actor: '1' });
      const t = process.hrtime.bigint();
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request({ host: base.hostname, port: base.port, path: pathWithQuery, method: 'GET', headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (status !== 200) throw new Error(`GET ${pathWithQuery} answered ${status}: ${text.slice(0, 300)}`);
      return { ms, text };
    },
    close() { agent.destroy(); },
  };
  return client;
}
