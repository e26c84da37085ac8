/**
 * Scenario 1 — several sidecars on one database.
 * When three sidecar processes share one database and N servers have a due slot, then every
 * slot causes exactly one create at the provider (counted by the fake Hetzner API itself),
 * every snapshot ends available, and each of the three sidecars did part of the work.
 */
import { afterAll, expect, inject, test } from 'vitest';
import { latestSlotAtOrBefore } from '../../sidecar/slots.js';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { account, hetznerCopies, settled } from './harness/ledger.js';
import { SidecarProcess, leaks, SECRET, stopAll } from './harness/processes.js';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';
import { createWorld, dbNow, makeDue, providersFile, seedServers, yearlySchedule, type World } from './harness/world.js';

const SCENARIO = '1 several sidecars';
let world: World | null = null;
let fake: FakeHetzner | null = null;
const sidecars: SidecarProcess[] = [];
let passed = false;

afterAll(async () => {
  await stopAll(sidecars);
  await fake?.close();
  if (passed) await world?.drop();
  else if (world) console.log(`${SCENARIO}: database ${world.name} kept for inspection`);
});

test(`when 3 sidecars share one database and ${SCALE.servers} slots come due, then each slot causes exactly one provider create and all three do work`, async () => {
  const started = Date.now();
  markStarted(SCENARIO);
  const n = SCALE.servers;
  world = await createWorld(inject('mysqlUrl'));
  // A real Hetzner project allows 3600 requests/hour; here the fake's bucket is not the subject.
  fake = await startFakeHetzner({ rateLimitPerHour: 10_000_000, pendingPolls: 1 });
  const instances = Array.from({ length: n }, (_, i) => 7_000_000 + i);
  for (const id of instances) fake.addServer(id, `web-${id}`);
  const serverIds = await seedServers(world, instances.map((id) => ({ provider: 'hetzner', instanceId: String(id), title: `web-${id}` })));
  const scheduleId = await yearlySchedule(world.db, 'Yearly (scenario 1)');
  const file = providersFile({ hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url } });

  for (const name of ['alpha', 'bravo', 'charlie']) {
    sidecars.push(new SidecarProcess({ scenario: 's1', instanceId: name, databaseUrl: world.url, providersFile: file, tickMs: 200, leaseMs: 5000 }));
  }
  await Promise.all(sidecars.map((s) => s.start()));

  const now = await dbNow(world.db);
  const slotAt = latestSlotAtOrBefore({ intervalMinutes: null, cron: '0 0 1 1 *', timezone: 'UTC' }, now);
  await makeDue(world.db, scheduleId, serverIds);
  const done = await settled(world.db, 60_000 + n * 150);

  const ledger = await account(world.db, hetznerCopies('hetzner', fake), { slots: serverIds.map((serverId) => ({ serverId, scheduleId, slotAt })) });
  const creates = fake.count({ method: 'POST', path: /\/actions\/create_image$/ });
  const createsPerServer = new Map<string, number>();
  for (const r of fake.requests) {
    const m = /^\/v1\/servers\/(\d+)\/actions\/create_image$/.exec(r.path);
    if (r.method === 'POST' && m) createsPerServer.set(m[1]!, (createsPerServer.get(m[1]!) ?? 0) + 1);
  }
  const serversWithOneCreate = instances.filter((id) => createsPerServer.get(String(id)) === 1).length;
  const createdBy = await Promise.all(sidecars.map((s) => s.metric('ss_snapshot_outcomes_total', 'kind="created"')));
  const dispatchedBy = await Promise.all(sidecars.map((s) => s.metric('ss_engine_dispatched_total')));
  const secretLeaks = leaks(sidecars.flatMap((s) => s.lines), [SECRET, fake.token]);
  const alive = sidecars.every((s) => s.alive);

  passed = done && alive && ledger.lost === 0 && ledger.duplicated === 0 && ledger.orphaned === 0 && creates === n
    && serversWithOneCreate === n && createdBy.every((c) => c > 0) && secretLeaks.length === 0
    // Each row worked on once: the creates the sidecars report add up to the slots.
    && createdBy.reduce((x, y) => x + y, 0) === n && dispatchedBy.reduce((x, y) => x + y, 0) === n;
  writeResult({
    scenario: SCENARIO, rounds: n, roundsOf: 'slots', faults: 0,
    lost: ledger.lost, duplicated: ledger.duplicated, orphaned: ledger.orphaned,
    notes: `provider creates ${creates}/${n}; creates by sidecar ${createdBy.join('/')} (sum ${createdBy.reduce((x, y) => x + y, 0)}); dispatched by sidecar ${dispatchedBy.join('/')}`,
    passed, ms: Date.now() - started,
  });

  expect(ledger.details.slice(0, 10)).toEqual([]);
  expect(done).toBe(true);
  expect(alive).toBe(true);
  expect(creates).toBe(n);
  expect(serversWithOneCreate).toBe(n);
  expect(createdBy.every((c) => c > 0), `creates by sidecar: ${createdBy.join('/')}`).toBe(true);
  expect(createdBy.reduce((a, b) => a + b, 0)).toBe(n);
  expect(dispatchedBy.reduce((a, b) => a + b, 0)).toBe(n);
  expect(secretLeaks).toEqual([]);
});
