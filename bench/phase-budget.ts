/**
 * Phase 5 — the provider's request budget. 10,000 servers on one Hetzner account, all due,
 * one sidecar talking to the local fake of Hetzner's API (tests/fakes/hetzner.ts: requests
 * counted, a 3,600/h bucket refilled one a second, 429 when empty). We report what the fake
 * saw: peak requests in any second and any minute, and whether the account's budget was
 * exceeded (a request Hetzner's bucket — 3,600, one back a second — would have refused).
 */

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Pool } from 'mysql2/promise';
import { dbNow } from './database.js';
import { loadFakeHetzner } from './fake-hetzner.js';
import { sleep } from './processes.js';
import { FIRST_SERVER_ID, HOURLY_SCHEDULE_ID, PREFIX, SERVERS, resetEngineTables, setServersProvider } from './seed.js';
import { startSidecars, stopSidecars, type SidecarOptions } from './sidecars.js';
import { peakInWindow } from './stats.js';

export interface BudgetResult {
  exceeded: boolean | null;
  reason?: string;
  budgetPerHour?: number;
  seconds?: number;
  requests?: number;
  peakPerSecond?: number;
  peakPerMinute?: number;
  refusedByProvider?: number;
  snapshotsCreated?: number;
  /** Status polls sent (GET) while creates were still waiting for budget. */
  statusRequests?: number;
  /** Hours of this budget that the creates alone of one round of 10,000 snapshots use up. */
  hoursPerRoundCreatesOnly?: number;
  peakRssMb?: Array<number | null>;
}


const BUDGET_PER_HOUR = 3600;

export async function budgetPhase(root: string, work: string, pool: Pool, sc: Omit<SidecarOptions, 'providers' | 'label'>, seconds: number, log: (s: string) => void): Promise<BudgetResult> {
  for (const f of ['sidecar/providers/hetzner.ts', 'sidecar/providers/http/budget.ts', 'tests/fakes/hetzner.ts']) {
    if (!fs.existsSync(path.join(root, f))) return { exceeded: null, reason: `${f} does not exist yet` };
  }
  // Is the adapter registered in the build the sidecar runs?
  const mainJs = process.env.SS_BENCH_SIDECAR_JS ?? path.join(root, 'dist/sidecar/main.js');
  const registry = await import(pathToFileURL(path.join(path.dirname(mainJs), 'providers/index.js')).href) as { providerConfigSchemaFor(type: string): { safeParse(v: unknown): { success: boolean } } };
  let schema;
  try {
    schema = registry.providerConfigSchemaFor('hetzner');
  } catch (e) {
    return { exceeded: null, reason: `sidecar/providers/hetzner.ts exists but is not registered in sidecar/providers/index.ts (${(e as Error).message})` };
  }

  const { startFakeHetzner } = await loadFakeHetzner(root, work);
  const token = 'bench-hetzner-token';
  const fake = await startFakeHetzner({ token, rateLimitPerHour: BUDGET_PER_HOUR, pendingPolls: 1 });
  const started = Date.now();
  for (let i = 0; i < SERVERS; i++) fake.addServer(FIRST_SERVER_ID + i, `web-${FIRST_SERVER_ID + i}`);

  const entry: Record<string, unknown> = { type: 'hetzner', token, apiUrl: fake.url, budget: { perHour: BUDGET_PER_HOUR } };
  if (!schema.safeParse(entry).success) delete entry.budget; // older adapter without the override: its default applies

  await resetEngineTables(pool);
  await setServersProvider(pool, 'hetzner');
  let result: BudgetResult;
  try {
    const sidecars = await startSidecars(1, { ...sc, label: 'budget', providers: { hetzner: entry } });
    try {
      const due = new Date((await dbNow(pool)).getTime() + 3000);
      await pool.query(`UPDATE ${PREFIX}ss_assignments SET next_slot_at = ? WHERE schedule_id = ?`, [due, HOURLY_SCHEDULE_ID]);
      const until = due.getTime() + seconds * 1000;
      while (Date.now() < until) {
        await sleep(Math.min(10_000, until - Date.now()));
        const recent = fake.requests.filter((r) => r.at > Date.now() - 10_000).length;
        log(`  [budget] ${Math.round((Date.now() - due.getTime()) / 1000)}/${seconds} s: ${fake.requests.length.toLocaleString('en-US')} requests so far, ${(recent / 10).toFixed(1)}/s over the last 10 s`);
        sidecars[0]!.sample();
      }
    } finally {
      await stopSidecars(sidecars);
    }
    const times = fake.requests.map((r) => r.at);
    const creates = fake.requests.filter((r) => r.method === 'POST').length;
    const refused = refusedByBucket(times, started, BUDGET_PER_HOUR);
    result = {
      // Hetzner's limit is a bucket of 3,600 refilled one a second (not "3,600 in any hour"):
      // the account's budget is exceeded exactly when its bucket would have refused a request.
      exceeded: refused > 0,
      budgetPerHour: BUDGET_PER_HOUR, seconds, requests: times.length,
      peakPerSecond: peakInWindow(times, 1000), peakPerMinute: peakInWindow(times, 60_000),
      refusedByProvider: refused, snapshotsCreated: creates,
      statusRequests: fake.requests.filter((r) => r.method === 'GET').length,
      hoursPerRoundCreatesOnly: Math.round((SERVERS / BUDGET_PER_HOUR) * 10) / 10,
      peakRssMb: sidecars.map((s) => s.peakRssMb),
    };
  } finally {
    await fake.close();
    await setServersProvider(pool, 'sandbox');
    await resetEngineTables(pool);
  }
  return result;
}

/** Replays the requests through Hetzner's bucket (as the fake keeps it): how many found it empty. */
function refusedByBucket(times: number[], start: number, limit: number): number {
  const refillMs = 3_600_000 / limit;
  let tokens = limit;
  let lastRefill = start;
  let refused = 0;
  for (const t of [...times].sort((a, b) => a - b)) {
    const back = Math.floor((t - lastRefill) / refillMs);
    if (back > 0) {
      tokens = Math.min(limit, tokens + back);
      lastRefill = tokens === limit ? t : lastRefill + back * refillMs;
    }
    if (tokens <= 0) refused++;
    else tokens--;
  }
  return refused;
}
