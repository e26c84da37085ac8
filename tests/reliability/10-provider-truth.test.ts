/**
 * Scenario 10 — provider truth: behaviours of the real clouds (docs/providers.md) that the
 * engine must live with, played by a sidecar process against fake APIs in real time.
 *   do-lost-create  DigitalOcean takes our snapshot but the answer is lost; the snapshot
 *                   action then runs for 20 s (minutes, scaled down), and every retry meanwhile
 *                   is refused 422 "Droplet already has a pending event." — more refusals than
 *                   the engine's six attempts. Must end: exactly one snapshot, available, with
 *                   DigitalOcean's real snapshot id.
 *   ec2-lag         EC2 answers InvalidAMIID.NotFound for a new AMI for its first 5 s. Must
 *                   end: available with the AMI id, never `failed` on the way.
 */
import { afterAll, expect, inject, test } from 'vitest';
import { startFakeEc2, type FakeEc2 } from '../fakes/awsec2.js';
import { startFakeDigitalOcean, type FakeDigitalOcean } from '../fakes/digitalocean.js';
import { account, settled, type ProviderCopy } from './harness/ledger.js';
import { SidecarProcess, SECRET, leaks, stopAll } from './harness/processes.js';
import { markStarted, writeResult } from './harness/results.js';
import { createWorld, makeDue, providersFile, seedServers, yearlySchedule, type World } from './harness/world.js';

const SCENARIO = '10 provider truth';
const DO_CREATE = { method: 'POST', path: /^\/v2\/droplets\/\d+\/actions$/ };
let world: World | null = null;
const sidecars: SidecarProcess[] = [];
const closers: Array<() => Promise<void>> = [];
let passed = false;

afterAll(async () => {
  await stopAll(sidecars);
  for (const close of closers) await close();
  if (passed) await world?.drop();
  else if (world) console.log(`${SCENARIO}: database ${world.name} kept for inspection`);
});

const doCopies = (fake: FakeDigitalOcean): ProviderCopy[] =>
  fake.snapshots().map((s) => ({ provider: 'digital-ocean', providerSnapshotId: String(s.id), name: s.name, ours: /^ss-\d+-/.test(s.name) }));
const ec2Copies = (fake: FakeEc2): ProviderCopy[] =>
  fake.images().filter((i) => i.state !== 'deregistered').map((i) => ({ provider: 'awsec2', providerSnapshotId: i.imageId, name: i.name, ours: /^ss-\d+-/.test(i.name) }));

test('when DigitalOcean loses a create answer while the snapshot runs for long, and EC2 hides a new AMI for seconds, then each ends as exactly one available snapshot with its real id, never failed', async () => {
  const started = Date.now();
  markStarted(SCENARIO);
  world = await createWorld(inject('mysqlUrl'));
  const db = world.db;

  const digitalocean = await startFakeDigitalOcean({ actionDurationMs: 20_000 });
  closers.push(() => digitalocean.close());
  digitalocean.addDroplet(3164444, 'web-do');
  const ec2 = await startFakeEc2({ invisibleForMs: 5_000 });
  closers.push(() => ec2.close());
  ec2.addInstance('i-0123456789abcdef0');

  const [doServer, ec2Server] = await seedServers(world, [
    { provider: 'digital-ocean', instanceId: '3164444', title: 'web-do' },
    { provider: 'awsec2', instanceId: 'i-0123456789abcdef0', title: 'web-ec2' },
  ]) as [number, number];
  const ec2Secret = 'reliabilitySecretAccessKey/0123456789abcdefghij';
  const file = providersFile({
    'digital-ocean': { type: 'digitalocean', token: digitalocean.token, apiUrl: digitalocean.url, busyWaitMs: 1_000 },
    awsec2: { type: 'awsec2', accessKeyId: ec2.accessKeyId, secretAccessKey: ec2Secret, region: 'us-east-1', apiUrl: ec2.url },
  });
  const sc = new SidecarProcess({ scenario: 's9', instanceId: 'solo', databaseUrl: world.url, providersFile: file, tickMs: 200, leaseMs: 10_000 });
  sidecars.push(sc);
  await sc.start();

  digitalocean.inject(1, { kind: 'lost' }, DO_CREATE);
  const scheduleId = await yearlySchedule(db, 'Yearly (scenario 9)');
  await makeDue(db, scheduleId, [doServer, ec2Server]);

  const allSettled = await settled(db, 120_000);
  const rows = await db.selectFrom('ss_snapshots').selectAll().execute();
  const events = await db.selectFrom('ss_events').select(['snapshot_id', 'action', 'detail']).execute();
  const problems: string[] = [];

  const doRow = rows.filter((r) => Number(r.server_id) === doServer);
  const doSnaps = digitalocean.snapshots();
  const refusals = digitalocean.count(DO_CREATE) - 1; // the first was taken (its answer lost); the rest were refused as busy
  if (doRow.length !== 1) problems.push(`digitalocean: ${doRow.length} records`);
  if (doSnaps.length !== 1) problems.push(`digitalocean: ${doSnaps.length} snapshots at the provider`);
  if (digitalocean.actions().length !== 1) problems.push(`digitalocean: ${digitalocean.actions().length} snapshot actions`);
  if (doRow[0]?.status !== 'available') problems.push(`digitalocean: ended ${doRow[0]?.status} (${doRow[0]?.last_error ?? ''})`);
  if (doRow[0] && doRow[0].provider_snapshot_id !== String(doSnaps[0]?.id)) problems.push(`digitalocean: record holds ${doRow[0].provider_snapshot_id}, the snapshot is ${doSnaps[0]?.id}`);
  if (digitalocean.count(DO_CREATE) <= 7) problems.push(`digitalocean: only ${digitalocean.count(DO_CREATE)} create requests — the busy phase did not outlast the engine's six attempts`);

  const ec2Row = rows.filter((r) => Number(r.server_id) === ec2Server);
  const images = ec2.images();
  if (ec2Row.length !== 1 || images.length !== 1) problems.push(`ec2: ${ec2Row.length} records, ${images.length} images`);
  if (ec2Row[0]?.status !== 'available') problems.push(`ec2: ended ${ec2Row[0]?.status} (${ec2Row[0]?.last_error ?? ''})`);
  if (ec2Row[0] && ec2Row[0].provider_snapshot_id !== images[0]?.imageId) problems.push(`ec2: record holds ${ec2Row[0].provider_snapshot_id}, the AMI is ${images[0]?.imageId}`);
  const notFoundPolls = ec2.requests.filter((r) => r.action === 'DescribeImages').length;
  if (notFoundPolls < 2) problems.push('ec2: the lag was never seen by a poll');
  for (const r of [...doRow, ...ec2Row]) {
    if (events.some((e) => Number(e.snapshot_id) === Number(r.id) && e.action === 'failed')) problems.push(`${r.provider}: a failed event on the way`);
  }

  const ledger = await account(db, [...doCopies(digitalocean), ...ec2Copies(ec2)], { records: rows.map((r) => Number(r.id)) });
  const secretLeaks = leaks(sc.lines, [SECRET, digitalocean.token, ec2Secret]);
  const alive = sc.alive;
  passed = allSettled && alive && problems.length === 0 && ledger.lost === 0 && ledger.duplicated === 0 && ledger.orphaned === 0 && secretLeaks.length === 0;
  writeResult({
    scenario: SCENARIO, rounds: 2, roundsOf: 'servers', faults: 1 + Math.max(0, refusals) + notFoundPolls,
    lost: ledger.lost, duplicated: ledger.duplicated, orphaned: ledger.orphaned,
    notes: `DigitalOcean: ${digitalocean.count(DO_CREATE)} create requests (one lost, the rest refused as busy) → 1 snapshot; EC2: ${notFoundPolls} DescribeImages through a 5 s lag`,
    passed, ms: Date.now() - started,
  });

  expect(problems).toEqual([]);
  expect(ledger.details.slice(0, 10)).toEqual([]);
  expect(allSettled).toBe(true);
  expect(alive).toBe(true);
  expect(secretLeaks).toEqual([]);
});
