/**
 * Scenario 2 — crashes.
 * Three sidecar processes on one database, lease 2 s. Round after round one of them is
 * killed with SIGKILL at a chosen moment of a snapshot's life:
 *   before    the create request is on its way but the provider has not acted;
 *   accepted  the provider created the snapshot, the sidecar has not stored its id;
 *   polling   while it follows a creating snapshot (the poll held before or after the provider);
 *   deleting  while it deletes at the provider (held before or after the provider deleted);
 *   random    at a random millisecond while a handful of slots are being worked on.
 * The moment is observed (a request held at a proxy in front of the fake Hetzner API and the
 * row's lease owner), not guessed with sleeps. Then, with the victim still dead, the others
 * must finish the work after the lease expires: no duplicate provider snapshot, no lost
 * record, no orphan. The victim is restarted before the next round.
 */
import { afterAll, expect, inject, test } from 'vitest';
import { latestSlotAtOrBefore } from '../../sidecar/slots.js';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { startHoldProxy, type HoldProxy } from './harness/hold-proxy.js';
import { account, hetznerCopies, settled } from './harness/ledger.js';
import { SidecarProcess, sleep, stopAll, waitFor } from './harness/processes.js';
import { runSeed, seededRandom } from './harness/random.js';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';
import { createWorld, dbNow, makeDue, providersFile, seedServers, yearlySchedule, type World } from './harness/world.js';

const SCENARIO = '2 crashes';
const LEASE_MS = 2000;
type Moment = 'before' | 'accepted' | 'polling' | 'deleting' | 'random';
const MOMENTS: Moment[] = ['before', 'accepted', 'polling', 'deleting', 'random'];

let world: World | null = null;
let fake: FakeHetzner | null = null;
let proxy: HoldProxy | null = null;
const sidecars: SidecarProcess[] = [];
let passed = false;

afterAll(async () => {
  await stopAll(sidecars);
  await proxy?.close();
  await fake?.close();
  if (passed) await world?.drop();
  else if (world) console.log(`${SCENARIO}: database ${world.name} kept for inspection`);
});

test(`when a sidecar is SIGKILLed at chosen moments for ${SCALE.crashRounds} rounds, then the others finish its work after the lease: no duplicate, no loss, no orphan`, async () => {
  const started = Date.now();
  markStarted(SCENARIO);
  const seed = runSeed();
  const random = seededRandom(seed);
  const rounds = SCALE.crashRounds;
  world = await createWorld(inject('mysqlUrl'));
  const db = world.db;
  fake = await startFakeHetzner({ rateLimitPerHour: 10_000_000, pendingPolls: 1 });
  proxy = await startHoldProxy(fake.url);
  const perRound = 6;
  const instances = Array.from({ length: rounds * perRound }, (_, i) => 8_000_000 + i);
  for (const id of instances) fake.addServer(id);
  const serverIds = await seedServers(world, instances.map((id) => ({ provider: 'hetzner', instanceId: String(id), title: `crash-${id}` })));
  const scheduleId = await yearlySchedule(db, 'Yearly (scenario 2)');
  const file = providersFile({ hetzner: { type: 'hetzner', token: fake.token, apiUrl: proxy.url('/v1'), timeoutMs: 20_000 } });
  for (const name of ['alpha', 'bravo', 'charlie']) {
    sidecars.push(new SidecarProcess({ scenario: 's2', instanceId: name, databaseUrl: world.url, providersFile: file, tickMs: 200, leaseMs: LEASE_MS }));
  }
  await Promise.all(sidecars.map((s) => s.start()));
  const slotAt = latestSlotAtOrBefore({ intervalMinutes: null, cron: '0 0 1 1 *', timezone: 'UTC' }, await dbNow(db));

  // Every moment at least once (when rounds >= 5), then at random; the order is shuffled.
  const plan: Moment[] = Array.from({ length: rounds }, (_, i) => (i < MOMENTS.length ? MOMENTS[i]! : MOMENTS[Math.floor(random() * MOMENTS.length)]!));
  for (let i = plan.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [plan[i], plan[j]] = [plan[j]!, plan[i]!]; }

  const instanceOf = (s: SidecarProcess) => s.spec.instanceId;
  const rowOf = async (serverId: number) => await db.selectFrom('ss_snapshots').selectAll().where('server_id', '=', serverId).orderBy('id', 'desc').executeTakeFirst();
  const holderOf = async (rowId: number) => {
    const row = await db.selectFrom('ss_snapshots').select(['lease_owner']).where('id', '=', rowId).executeTakeFirst();
    const owner = row?.lease_owner?.split(':')[0];
    return sidecars.find((s) => instanceOf(s) === owner && s.alive) ?? null;
  };
  const availableSoon = (serverId: number, ms: number) => waitFor(`server ${serverId} available`, async () => (await rowOf(serverId))?.status === 'available', ms, 50);

  const expectedSlots: number[] = [];
  const trashed: number[] = [];
  const log: string[] = [];
  let kills = 0;
  const recoveries: number[] = [];

  for (let r = 0; r < rounds; r++) {
    const moment = plan[r]!;
    const servers = serverIds.slice(r * perRound, (r + 1) * perRound);
    const inst = instances.slice(r * perRound, (r + 1) * perRound);
    let victim: SidecarProcess | null = null;
    let detail = '';
    let recovered: () => Promise<unknown>;

    if (moment === 'before' || moment === 'accepted') {
      const when = moment === 'before' ? 'before' : 'after';
      const holding = proxy.hold({ method: 'POST', path: new RegExp(`^/v1/servers/${inst[0]}/actions/create_image$`), when });
      await makeDue(db, scheduleId, [servers[0]!]);
      expectedSlots.push(servers[0]!);
      const held = await holding;
      const row = (await rowOf(servers[0]!))!;
      victim = await holderOf(Number(row.id));
      detail = `create held ${held.when} the provider (status ${held.status ?? '-'}), images at provider ${fake.images().length}`;
      recovered = () => availableSoon(servers[0]!, LEASE_MS + 30_000);
    } else if (moment === 'polling') {
      await makeDue(db, scheduleId, [servers[0]!]);
      expectedSlots.push(servers[0]!);
      const row = await waitFor('creating with a provider id', async () => {
        const x = await rowOf(servers[0]!);
        return x?.status === 'creating' && x.provider_snapshot_id ? x : null;
      }, 20_000, 20);
      const when = random() < 0.5 ? 'before' : 'after';
      const held = await proxy.hold({ method: 'GET', path: new RegExp(`^/v1/images/${row.provider_snapshot_id}$`), when });
      victim = await holderOf(Number(row.id));
      detail = `poll of image ${row.provider_snapshot_id} held ${held.when} the provider`;
      recovered = () => availableSoon(servers[0]!, LEASE_MS + 30_000);
    } else if (moment === 'deleting') {
      await makeDue(db, scheduleId, [servers[0]!]);
      await availableSoon(servers[0]!, 30_000);
      const row = (await rowOf(servers[0]!))!;
      trashed.push(Number(row.id));
      const when = random() < 0.5 ? 'before' : 'after';
      const holding = proxy.hold({ method: 'DELETE', path: new RegExp(`^/v1/images/${row.provider_snapshot_id}$`), when });
      const asked = sidecars[Math.floor(random() * sidecars.length)]!;
      const trash = asked.api('DELETE', `/api/v1/snapshots/${Number(row.id)}`, undefined, { timeoutMs: 30_000 }).catch((e: Error) => ({ status: 0, body: null, text: e.message }));
      const held = await holding;
      victim = await holderOf(Number(row.id));
      detail = `delete of image ${row.provider_snapshot_id} held ${held.when} the provider`;
      recovered = () => waitFor(`record ${Number(row.id)} gone`, async () => !(await db.selectFrom('ss_snapshots').select('id').where('id', '=', Number(row.id)).executeTakeFirst()), LEASE_MS + 30_000, 50);
      void trash;
    } else {
      await makeDue(db, scheduleId, servers);
      expectedSlots.push(...servers);
      const delay = Math.floor(random() * 1200);
      await sleep(delay);
      // Prefer a sidecar that holds a lease right now (the interesting case); any if none does.
      const leased = await db.selectFrom('ss_snapshots').select(['lease_owner']).where('server_id', 'in', servers).where('lease_owner', 'is not', null).execute();
      const holders = sidecars.filter((s) => leased.some((l) => l.lease_owner?.startsWith(`${instanceOf(s)}:`)));
      victim = holders.length > 0 ? holders[Math.floor(random() * holders.length)]! : sidecars[Math.floor(random() * sidecars.length)]!;
      detail = `${servers.length} slots due, killed after ${delay} ms ${holders.length > 0 ? 'holding leases' : 'holding no lease'}`;
      recovered = () => waitFor('round settled', () => Promise.all(servers.map(async (s) => (await rowOf(s))?.status === 'available')).then((a) => a.every(Boolean)), LEASE_MS + 40_000, 100);
    }

    if (!victim) throw new Error(`round ${r} (${moment}): no live sidecar held the lease (${detail})`);
    await victim.kill('SIGKILL');
    kills++;
    const killedAt = Date.now();
    await recovered();
    recoveries.push(Date.now() - killedAt);
    log.push(`round ${r + 1} ${moment}: killed ${victim.spec.instanceId}; ${detail}; the others finished in ${Date.now() - killedAt} ms`);
    await victim.start();
  }

  const allSettled = await settled(db, 30_000);
  const ledger = await account(db, hetznerCopies('hetzner', fake), {
    slots: expectedSlots.map((serverId) => ({ serverId, scheduleId, slotAt })), trashed,
  });
  const alive = sidecars.every((s) => s.alive);
  passed = allSettled && alive && ledger.lost === 0 && ledger.duplicated === 0 && ledger.orphaned === 0;
  const adopted = await db.selectFrom('ss_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'adopted').executeTakeFirstOrThrow();
  const byMoment = MOMENTS.map((m) => `${m} ${plan.filter((p) => p === m).length}`).join(', ');
  writeResult({
    scenario: SCENARIO, rounds, roundsOf: 'kills', faults: kills,
    lost: ledger.lost, duplicated: ledger.duplicated, orphaned: ledger.orphaned,
    notes: `${byMoment}; ${Number(adopted.n)} adopted; lease ${LEASE_MS} ms; recovery max ${Math.max(...recoveries)} ms; seed ${seed}`,
    passed, ms: Date.now() - started,
  });
  console.log(log.join('\n'));

  expect(ledger.details.slice(0, 10)).toEqual([]);
  expect(allSettled).toBe(true);
  expect(alive).toBe(true);
});
