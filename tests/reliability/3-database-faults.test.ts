/**
 * Scenario 3 — the database goes away under load.
 * Two sidecar processes on a private MariaDB; the fake Hetzner API stays up. While slots are
 * being snapshotted and manual snapshots keep arriving through the API, MariaDB is stopped
 * (cleanly with SIGTERM, or crashed with SIGKILL, alternately), kept away for longer than a
 * lease, and started again on the same port. Then:
 *   - /healthz says 503 `degraded` (database down) while it is away and 200 `ok` after;
 *   - the API answers 503 (never 500) while it is away;
 *   - the sidecar processes survive and reconnect on their own;
 *   - nothing is lost: every due slot and every manual snapshot the API accepted (202) ends
 *     available with exactly one provider snapshot, and no provider snapshot is orphaned.
 */
import { afterAll, expect, test } from 'vitest';
import { latestSlotAtOrBefore } from '../../sidecar/slots.js';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { account, hetznerCopies, settled } from './harness/ledger.js';
import { MariadbServer } from '../../scripts/mariadb.js';
import { SidecarProcess, SECRET, leaks, sleep, stopAll, waitFor } from './harness/processes.js';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';
import { createWorld, dbNow, makeDue, providersFile, seedServers, yearlySchedule, type World } from './harness/world.js';

const SCENARIO = '3 database faults';
const LEASE_MS = 2000;
const OUTAGE_MS = 4000;

let mariadb: MariadbServer | null = null;
let world: World | null = null;
let fake: FakeHetzner | null = null;
const sidecars: SidecarProcess[] = [];
let passed = false;

afterAll(async () => {
  await stopAll(sidecars);
  await fake?.close();
  if (passed) { await world?.drop().catch(() => {}); await mariadb?.destroy(); }
  else {
    await world?.handle.close().catch(() => {});
    await mariadb?.stop('SIGTERM');
    if (mariadb) console.log(`${SCENARIO}: MariaDB data kept in ${mariadb.dir} (database ${world?.name})`);
  }
});

test(`when MariaDB restarts ${SCALE.dbRestarts} times under load, then the sidecars report degraded, reconnect and lose nothing`, async () => {
  const started = Date.now();
  markStarted(SCENARIO);
  mariadb = await MariadbServer.start();
  world = await createWorld(mariadb.url);
  const db = world.db;
  fake = await startFakeHetzner({ rateLimitPerHour: 10_000_000, pendingPolls: 3 });
  const n = SCALE.dbServers;
  const instances = Array.from({ length: n }, (_, i) => 9_000_000 + i);
  for (const id of instances) fake.addServer(id);
  const serverIds = await seedServers(world, instances.map((id) => ({ provider: 'hetzner', instanceId: String(id), title: `db-${id}` })));
  const scheduleId = await yearlySchedule(db, 'Yearly (scenario 3)');
  const file = providersFile({ hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url } });
  for (const name of ['alpha', 'bravo']) {
    sidecars.push(new SidecarProcess({ scenario: 's3', instanceId: name, databaseUrl: world.url, providersFile: file, tickMs: 200, leaseMs: LEASE_MS }));
  }
  await Promise.all(sidecars.map((s) => s.start()));
  const slotAt = latestSlotAtOrBefore({ intervalMinutes: null, cron: '0 0 1 1 *', timezone: 'UTC' }, await dbNow(db));

  // Manual snapshots keep arriving through the API, outage or not.
  const accepted: number[] = [];
  const answers = new Map<number, number>();
  let loadOn = true;
  let k = 0;
  const load = (async () => {
    while (loadOn) {
      const sc = sidecars[k % sidecars.length]!;
      const server = serverIds[k % serverIds.length]!;
      k++;
      const r = await sc.api('POST', `/api/v1/servers/${server}/snapshots`, {}, { timeoutMs: 15_000 }).catch(() => ({ status: -1, body: null, text: '' }));
      answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
      if (r.status === 202) accepted.push(r.body.snapshot.id);
      await sleep(150);
    }
  })();

  const rounds = SCALE.dbRestarts;
  const wave = Math.floor(n / rounds);
  const log: string[] = [];
  let degradedSeen = 0;
  let okAfter = 0;
  for (let r = 0; r < rounds; r++) {
    const servers = serverIds.slice(r * wave, r === rounds - 1 ? n : (r + 1) * wave);
    await makeDue(db, scheduleId, servers);
    // Under load: wait until work is in flight at the provider before pulling the plug.
    if (r === 0) await sleep(2000); // manual snapshots are accepted before the first outage too
    await waitFor('snapshots in flight', async () => {
      const x = await db.selectFrom('ss_snapshots').select(['status']).select((eb) => eb.fn.countAll<number>().as('n'))
        .where('server_id', 'in', servers).where('next_attempt_at', 'is not', null).groupBy('status').execute();
      const of = (st: string) => Number(x.find((y) => y.status === st)?.n ?? 0);
      // Some followed at the provider, some still to be created: both kinds lose their database.
      return of('creating') >= Math.min(5, servers.length) && of('requested') > 0;
    }, 30_000, 20);
    const signal = r % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
    const inFlight = await db.selectFrom('ss_snapshots').select(['status']).where('server_id', 'in', servers).where('next_attempt_at', 'is not', null).execute();
    const downAt = Date.now();
    await mariadb.stop(signal);
    const degraded = await Promise.all(sidecars.map((s) => waitFor(`${s.spec.instanceId} degraded`, async () => {
      const h = await s.healthz();
      return h.status === 503 && h.body.status === 'degraded' && h.body.database === 'down' ? h : null;
    }, 20_000, 200).then(() => true, () => false)));
    degradedSeen += degraded.filter(Boolean).length;
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    await mariadb.start();
    const back = await Promise.all(sidecars.map((s) => waitFor(`${s.spec.instanceId} ok`, async () => {
      const h = await s.healthz();
      return h.status === 200 && h.body.status === 'ok' ? h : null;
    }, 60_000, 200).then(() => true, () => false)));
    okAfter += back.filter(Boolean).length;
    log.push(`restart ${r + 1}: ${signal} with ${inFlight.length} snapshot(s) owed work (${inFlight.filter((x) => x.status === 'creating').length} creating), down ${Date.now() - downAt} ms; degraded seen ${degraded.filter(Boolean).length}/2, ok after ${back.filter(Boolean).length}/2`);
  }
  await sleep(3000); // and after the last one
  loadOn = false;
  await load;

  const allSettled = await settled(db, 90_000);
  const ledger = await account(db, hetznerCopies('hetzner', fake), {
    slots: serverIds.map((serverId) => ({ serverId, scheduleId, slotAt })), records: accepted,
  });
  const alive = sidecars.every((s) => s.alive);
  const fiveHundreds = [...answers].filter(([s]) => s >= 500 && s !== 503).reduce((a, [, c]) => a + c, 0);
  const secretLeaks = leaks(sidecars.flatMap((s) => s.lines), [SECRET, fake.token]);
  passed = allSettled && alive && ledger.lost === 0 && ledger.duplicated === 0 && ledger.orphaned === 0
    && degradedSeen === 2 * rounds && okAfter === 2 * rounds && fiveHundreds === 0 && secretLeaks.length === 0;
  const adopted = await db.selectFrom('ss_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'adopted').executeTakeFirstOrThrow();
  const answerText = [...answers].sort(([a], [b]) => a - b).map(([s, c]) => `${s === -1 ? 'no answer' : s}×${c}`).join(' ');
  writeResult({
    scenario: SCENARIO, rounds, roundsOf: 'restarts', faults: rounds,
    lost: ledger.lost, duplicated: ledger.duplicated, orphaned: ledger.orphaned,
    notes: `${n} slots + ${accepted.length} manual accepted; ${Number(adopted.n)} adopted after the outage; API answers ${answerText}; degraded ${degradedSeen}/${2 * rounds}, ok after ${okAfter}/${2 * rounds}`,
    passed, ms: Date.now() - started,
  });
  console.log(log.join('\n'));

  expect(ledger.details.slice(0, 10)).toEqual([]);
  expect(allSettled).toBe(true);
  expect(alive, sidecars.map((s) => `${s.spec.instanceId}: ${JSON.stringify(s.exit)} ${s.lines.slice(-2).join(' ')}`).join('\n')).toBe(true);
  expect(degradedSeen).toBe(2 * rounds);
  expect(okAfter).toBe(2 * rounds);
  expect(fiveHundreds).toBe(0);
  expect(secretLeaks).toEqual([]);
});
