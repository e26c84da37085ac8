/**
 * Scenario 8 — a provider call that outlives its lease.
 * A sidecar sends a create, and the request is slow to reach the provider (held at a proxy);
 * meanwhile the database is away for longer than the lease, so the lease cannot be renewed
 * and expires. When the database is back, the row is claimed again, that attempt finds no
 * snapshot with our marker (the first request has not arrived yet) and creates one; then the
 * first request arrives and the provider makes a second snapshot. The first sidecar learns its
 * lease is gone when it tries to store the answer, sees that the record now points at another
 * snapshot, and deletes its own copy (work.ts `dropIfDuplicate`). Found by this scenario:
 * before that, every round left a duplicate and an orphan.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { startHoldProxy, type HoldProxy } from './harness/hold-proxy.js';
import { account, hetznerCopies, settled } from './harness/ledger.js';
import { MariadbServer } from '../../scripts/mariadb.js';
import { SidecarProcess, sleep, stopAll, waitFor } from './harness/processes.js';
import { markStarted, writeResult } from './harness/results.js';
import { SCALE } from './harness/scale.js';
import { createWorld, makeDue, providersFile, seedServers, yearlySchedule, type World } from './harness/world.js';

const SCENARIO = '8 lease outlived';
const LEASE_MS = 2000;
let mariadb: MariadbServer | null = null;
let world: World | null = null;
let fake: FakeHetzner | null = null;
let proxy: HoldProxy | null = null;
const sidecars: SidecarProcess[] = [];

afterAll(async () => {
  await stopAll(sidecars);
  await proxy?.close();
  await fake?.close();
  await world?.handle.close().catch(() => {});
  await mariadb?.destroy();
});

describe('a provider call that outlives its lease', () => {
  test('when a create is still on its way while the database is away longer than the lease, then no second provider snapshot is made', async () => {
    const started = Date.now();
    markStarted(SCENARIO);
    mariadb = await MariadbServer.start();
    world = await createWorld(mariadb.url);
    const db = world.db;
    fake = await startFakeHetzner({ rateLimitPerHour: 10_000_000 });
    proxy = await startHoldProxy(fake.url);
    const rounds = SCALE.leaseRounds;
    const instances = Array.from({ length: rounds }, (_, i) => 6_000_000 + i);
    for (const id of instances) fake.addServer(id);
    const serverIds = await seedServers(world, instances.map((id) => ({ provider: 'hetzner', instanceId: String(id) })));
    const scheduleId = await yearlySchedule(db, 'Yearly (probe)');
    const file = providersFile({ hetzner: { type: 'hetzner', token: fake.token, apiUrl: proxy.url('/v1') } });
    for (const name of ['alpha', 'bravo']) sidecars.push(new SidecarProcess({ scenario: 's8', instanceId: name, databaseUrl: world.url, providersFile: file, leaseMs: LEASE_MS }));
    await Promise.all(sidecars.map((s) => s.start()));

    const log: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const holding = proxy.hold({ method: 'POST', path: new RegExp(`^/v1/servers/${instances[r]}/actions/create_image$`), when: 'before' });
      await makeDue(db, scheduleId, [serverIds[r]!]);
      await holding;
      const first = await db.selectFrom('ss_snapshots').select(['id', 'lease_owner', 'attempts']).where('server_id', '=', serverIds[r]!).executeTakeFirstOrThrow();
      await mariadb.stop('SIGTERM');
      await sleep(LEASE_MS * 2);
      await mariadb.start();
      // Someone claims the row again (or the first holder renews in time), then the slow request arrives.
      const again = await waitFor('the row claimed again or renewed', async () => {
        const x = await db.selectFrom('ss_snapshots').select(['lease_owner', 'attempts', 'status']).where('id', '=', Number(first.id)).executeTakeFirstOrThrow();
        return x.lease_owner !== first.lease_owner || x.status !== 'requested' ? x : null;
      }, 15_000, 50).catch(() => null);
      await sleep(1500);
      await proxy.releaseHeld();
      log.push(`round ${r + 1}: ${first.lease_owner?.split(':')[0]} held the create; ${again ? `after the outage the row was taken over (${again.status})` : 'the first holder renewed its lease in time'}`);
    }
    await settled(db, 60_000);
    // The first holder learns its lease is gone only when its late answer arrives: give it time.
    await waitFor('one provider snapshot per record', async () => hetznerCopies('hetzner', fake!).length === rounds, 15_000, 100).catch(() => null);
    const ledger = await account(db, hetznerCopies('hetzner', fake), {});
    const creates = fake.count({ method: 'POST', path: /\/actions\/create_image$/ });
    const removed = await db.selectFrom('ss_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'duplicate_deleted').executeTakeFirstOrThrow();
    log.push(`${creates} creates reached the provider for ${rounds} slots; ${Number(removed.n)} second copies deleted by the sidecar whose lease had run out`);
    writeResult({
      scenario: SCENARIO, rounds, roundsOf: 'outages', faults: rounds, lost: ledger.lost, duplicated: ledger.duplicated, orphaned: ledger.orphaned,
      notes: log.join('; '), passed: ledger.duplicated === 0 && ledger.orphaned === 0 && ledger.lost === 0, ms: Date.now() - started,
    });
    console.log([...log, ...ledger.details].join('\n'));
    expect(ledger.details).toEqual([]);
  });
});
