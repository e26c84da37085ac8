/**
 * Scenario 11 — provider truth, per account: orphans, foreign ids, one budget per account.
 * - The database is restored from an older backup: the snapshots it no longer lists are
 *   listed as found by the next reconciliation, and none is deleted.
 * - A panel record carries another server's image id: it is never deleted at the provider.
 * - Three sidecars on one Hetzner account: the provider never answers 429 because of us.
 * Everything is counted at the fake Hetzner API, with sidecar processes on one database.
 */
import { afterAll, expect, inject, test } from 'vitest';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { account, hetznerCopies, settled } from './harness/ledger.js';
import { SidecarProcess, leaks, SECRET, stopAll, waitFor } from './harness/processes.js';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';
import { createWorld, makeDue, providersFile, seedServers, yearlySchedule, type World } from './harness/world.js';

const worlds: World[] = [];
const fakes: FakeHetzner[] = [];
const sidecars: SidecarProcess[] = [];
let failed = false;

afterAll(async () => {
  await stopAll(sidecars);
  for (const f of fakes) await f.close();
  for (const w of worlds) {
    if (!failed) await w.drop();
    else console.log(`scenario 11: database ${w.name} kept for inspection`);
  }
});

async function setUp(label: string, fakeOpts: Parameters<typeof startFakeHetzner>[0], n: number, sidecarCount: number, budget?: Record<string, number>) {
  const world = await createWorld(inject('mysqlUrl'));
  worlds.push(world);
  const fake = await startFakeHetzner(fakeOpts);
  fakes.push(fake);
  const instances = Array.from({ length: n }, (_, i) => 9_000_000 + i);
  for (const id of instances) fake.addServer(id, `web-${id}`);
  const serverIds = await seedServers(world, instances.map((id) => ({ provider: 'hetzner', instanceId: String(id), title: `web-${id}` })));
  const file = providersFile({ hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url, ...(budget ? { budget } : {}) } });
  const mine: SidecarProcess[] = [];
  for (let i = 0; i < sidecarCount; i++) {
    mine.push(new SidecarProcess({ scenario: `s11-${label}`, instanceId: `${label}-${i}`, databaseUrl: world.url, providersFile: file, tickMs: 200, leaseMs: 5000 }));
  }
  sidecars.push(...mine);
  await Promise.all(mine.map((s) => s.start()));
  return { world, fake, instances, serverIds, mine };
}

test('when the database is restored from an older backup, then the snapshots it no longer lists are listed as found and none is deleted', async () => {
  const scenario = '11a restored backup';
  const started = Date.now();
  markStarted(scenario);
  const n = Math.max(10, Math.min(60, Math.floor(SCALE.servers / 10)));
  const { world, fake, serverIds, mine } = await setUp('restore', { rateLimitPerHour: 10_000_000 }, n, 2);
  const scheduleId = await yearlySchedule(world.db, 'Yearly (scenario 11a)');
  await makeDue(world.db, scheduleId, serverIds);
  const done = await settled(world.db, 60_000 + n * 200);

  // The restore: the backup was taken before the second half of the snapshots existed. A
  // restored database comes back with its sidecars restarted.
  await stopAll(mine);
  const rows = await world.db.selectFrom('ss_snapshots').select(['id', 'provider_snapshot_id']).orderBy('id').execute();
  const lostRows = rows.slice(Math.floor(rows.length / 2));
  await world.db.deleteFrom('ss_snapshots').where('id', 'in', lostRows.map((r) => Number(r.id))).execute();
  await world.db.deleteFrom('ss_reconcile_runs').execute();
  const deletesBefore = fake.count({ method: 'DELETE' });
  await Promise.all(mine.map((s) => s.start()));

  const missing = new Set(lostRows.map((r) => r.provider_snapshot_id!));
  const found = await waitFor('found snapshots', async () => {
    const list = await mine[0]!.api('GET', '/api/v1/snapshots?origin=found&limit=200');
    const items = (list.body?.items ?? []) as Array<{ providerSnapshotId: string; status: string }>;
    return items.length >= missing.size ? items : null;
  }, 60_000, 250).catch(() => [] as Array<{ providerSnapshotId: string; status: string }>);
  await new Promise((r) => setTimeout(r, 1000)); // a second reconciliation would add duplicates now
  const again = (await mine[1]!.api('GET', '/api/v1/snapshots?origin=found&limit=200')).body.items as unknown[];

  const ledger = await account(world.db, hetznerCopies('hetzner', fake), {});
  const deletes = fake.count({ method: 'DELETE' }) - deletesBefore;
  const foundIds = new Set(found.map((f) => f.providerSnapshotId));
  const allFound = [...missing].every((id) => foundIds.has(id)) && found.every((f) => f.status === 'available');
  const secretLeaks = leaks(mine.flatMap((s) => s.lines), [SECRET, fake.token]);
  const passed = done && allFound && again.length === missing.size && deletes === 0 && ledger.orphaned === 0 && ledger.lost === 0 && secretLeaks.length === 0;
  failed ||= !passed;
  writeResult({
    scenario, rounds: missing.size, roundsOf: 'snapshots missing from the restored database', faults: 1,
    lost: ledger.lost, duplicated: ledger.duplicated, orphaned: ledger.orphaned,
    notes: `found ${found.length}/${missing.size} (listed by either sidecar: ${again.length}); provider deletes ${deletes}`,
    passed, ms: Date.now() - started,
  });
  expect(done).toBe(true);
  expect([...missing].filter((id) => !foundIds.has(id))).toEqual([]);
  expect(again.length).toBe(missing.size);
  expect(deletes).toBe(0);
  expect(ledger.details.filter((d) => !d.startsWith('duplicated')).slice(0, 10)).toEqual([]);
  expect(secretLeaks).toEqual([]);
});

test('when a panel record carries another server\'s image id, then it is never deleted at the provider', async () => {
  const scenario = '11b foreign panel id';
  const started = Date.now();
  markStarted(scenario);
  const { world, fake, instances, serverIds, mine } = await setUp('foreign', { rateLimitPerHour: 10_000_000 }, 4, 2);
  // The images of servers 1-3, and four backup-tab images of server 0.
  const foreign = instances.slice(1).map((id) => fake.addImage({ description: `backup of ${id}`, created_from: { id, name: `web-${id}` } }));
  const mineImages = [0, 1, 2, 3].map((k) => fake.addImage({ description: `backup tab ${k}`, created_from: { id: instances[0]!, name: `web-${instances[0]!}` } }));
  const own = mineImages[3]!;
  // The hook fired with another server's image (a host bug, another plugin): refused, nothing recorded.
  const refusedAtApi = (await Promise.all(foreign.map((imageId) => mine[0]!.api('POST', '/api/v1/panel-snapshots', { serverId: serverIds[0], providerSnapshotId: String(imageId) }))))
    .filter((r) => r.status === 409).length;
  const ids: number[] = [];
  for (const imageId of mineImages) {
    const r = await mine[0]!.api('POST', '/api/v1/panel-snapshots', { serverId: serverIds[0], providerSnapshotId: String(imageId) });
    ids.push(r.body.snapshot.id as number);
  }
  await settled(world.db, 30_000);
  // A write to the shared database points three of server 0's records at the other servers' images.
  for (const [k, imageId] of foreign.entries()) {
    await world.db.updateTable('ss_snapshots').set({ provider_snapshot_id: String(imageId), pending_ref: null }).where('id', '=', ids[k]!).execute();
  }
  for (const id of ids) await mine[1]!.api('DELETE', `/api/v1/snapshots/${id}`);
  const states = await waitFor('trash outcomes', async () => {
    const s = await Promise.all(ids.map(async (id) => (await mine[0]!.api('GET', `/api/v1/snapshots/${id}`)).body?.snapshot as { status: string; lastError: string | null } | undefined));
    return s.every((x) => x === undefined || x.status === 'delete_failed') ? s : null;
  }, 30_000, 200);

  const stored = new Set(fake.images().map((i) => i.id));
  const foreignKept = foreign.every((id) => stored.has(id));
  const foreignDeletes = foreign.reduce((sum, id) => sum + fake.count({ method: 'DELETE', path: new RegExp(`/images/${id}$`) }), 0);
  const refusals = states.slice(0, foreign.length).filter((s) => s?.status === 'delete_failed' && /belongs to another server/.test(s.lastError ?? '')).length;
  const ownGone = states[foreign.length] === undefined && !stored.has(own);
  const passed = foreignKept && foreignDeletes === 0 && refusals === foreign.length && ownGone && refusedAtApi === foreign.length;
  failed ||= !passed;
  writeResult({
    scenario, rounds: foreign.length + 1, roundsOf: 'panel records trashed', faults: foreign.length,
    lost: foreignDeletes, duplicated: 0, orphaned: 0,
    notes: `hook with a foreign id refused ${refusedAtApi}/${foreign.length}; foreign images kept ${foreign.filter((id) => stored.has(id)).length}/${foreign.length}; refused with a sentence ${refusals}; own panel image deleted: ${ownGone}`,
    passed, ms: Date.now() - started,
  });
  expect(refusedAtApi).toBe(foreign.length);
  expect(foreignDeletes).toBe(0);
  expect(foreignKept).toBe(true);
  expect(refusals).toBe(foreign.length);
  expect(ownGone).toBe(true);
});

test('when three sidecars share one Hetzner account, then the provider never answers 429 because of us', async () => {
  const scenario = '11c one budget, three sidecars';
  const started = Date.now();
  markStarted(scenario);
  // A small account (60 an hour = one back every minute) so that the bucket runs dry within
  // the scenario: three sidecars with a budget each would send up to three times as much.
  const perHour = 60;
  // More creates than the bucket holds: status reads go in lists now, so creates must run it dry.
  const n = 80;
  const { world, fake, serverIds, mine } = await setUp('budget', { rateLimitPerHour: perHour, pendingPolls: 1 }, n, 3, { perHour });
  const scheduleId = await yearlySchedule(world.db, 'Yearly (scenario 11c)');
  await makeDue(world.db, scheduleId, serverIds);
  // Long enough for the bucket to run dry and the sidecars to keep asking.
  // Our bucket keeps one token in reserve, so 59 of the 60 go at once.
  await waitFor('the budget to be spent', () => fake.requests.length >= perHour - 1, 60_000, 200).catch(() => null);
  await new Promise((r) => setTimeout(r, 8000));

  const sent = fake.requests.length;
  const refused = fake.rateLimited();
  const elapsedS = (Date.now() - started) / 1000;
  // Snapshots still waiting: held back by our budget (in the call, or rescheduled), not refused by Hetzner.
  const deferred = await world.db.selectFrom('ss_snapshots').select('id').where('status', '<>', 'available').execute();
  const passed = refused === 0 && sent <= perHour + Math.ceil(elapsedS / 60) + 1 && deferred.length > 0 && mine.every((s) => s.alive);
  failed ||= !passed;
  writeResult({
    scenario, rounds: n, roundsOf: 'slots on one account', faults: 0, lost: 0, duplicated: 0, orphaned: 0,
    notes: `requests at the fake ${sent} (bucket ${perHour}, +1/min); 429s ${refused}; waiting for budget ${deferred.length}`,
    passed, ms: Date.now() - started,
  });
  expect(refused).toBe(0);
  expect(sent).toBeLessThanOrEqual(perHour + Math.ceil(elapsedS / 60) + 1);
  expect(deferred.length).toBeGreaterThan(0); // the budget, not the provider, held them back
  expect(mine.every((s) => s.alive)).toBe(true);
});
