/**
 * Ownership and orphans, through the engine against the fake Hetzner API:
 * - a record carrying another server's image id is never deleted at the provider;
 * - a marked snapshot without a record (a restored database) is listed as found, once,
 *   however many sidecars reconcile, and is never deleted automatically;
 * - a found snapshot forgotten with Delete Record is not brought back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import type { Sidecar } from '../../sidecar/sidecar.js';
import { startFakeHetzner, type FakeHetzner } from '../fakes/hetzner.js';
import { addServer, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { eventsOf, expectPlainSentence, quietDatabase, settle, snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
let fake: FakeHetzner;
const running: Sidecar[] = [];
const clock = databaseClock();

beforeAll(async () => {
  t = await createTestDatabase();
  fake = await startFakeHetzner();
});
afterEach(async () => {
  while (running.length > 0) await running.pop()!.stop(0);
  await quietDatabase(t);
  // Each test starts with no reconciliation done and no record, so runs do not mix.
  await t.handle.db.deleteFrom('ss_reconcile_runs').execute();
  await t.handle.db.deleteFrom('ss_snapshots').execute();
  for (const image of fake.images()) await fetch(`${fake.url}/images/${image.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${fake.token}` } });
});
afterAll(async () => {
  await fake.close();
  await t.drop();
});

async function sidecar(env: Record<string, string> = {}): Promise<Sidecar> {
  const sc = await sidecarFor(t, { clock, sleep: async () => {}, env, providers: { hetzner: { type: 'hetzner', token: fake.token, apiUrl: fake.url } } });
  running.push(sc);
  return sc;
}

const deletesAt = (id: number | string) => fake.count({ method: 'DELETE', path: new RegExp(`/images/${id}$`) });

describe('ownership before a provider delete', () => {
  test('when the backup-tab hook names something that is not a Hetzner image id, then it is refused with a sentence, nothing is recorded and Hetzner is not asked', async () => {
    fake.addServer(8103, 'web-c');
    const sc = await sidecar();
    const serverC = await addServer(t, { title: 'web-c', provider: 'hetzner', instanceId: '8103' });
    const before = fake.count({ method: 'GET', path: /\/images\// });
    for (const bad of ['ami-0123456789abcdef0', '../images/1', '12 OR 1=1', '0']) {
      const res = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId: serverC, providerSnapshotId: bad });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/is not a Hetzner( Cloud)? snapshot id \(they look like 123456789\); nothing was recorded\./);
      expectPlainSentence(res.body.error.message, [fake.token]);
    }
    expect(fake.count({ method: 'GET', path: /\/images\// })).toBe(before);
    const rows = await t.handle.db.selectFrom('ss_snapshots').select('id').where('server_id', '=', serverC).execute();
    expect(rows).toHaveLength(0);
  });

  test('when a panel record carries the id of another server\'s image, then Trash never deletes it at Hetzner and says so; Delete Record removes only our record', async () => {
    fake.addServer(8101, 'web-a');
    fake.addServer(8102, 'web-b');
    const sc = await sidecar();
    const serverA = await addServer(t, { title: 'web-a', provider: 'hetzner', instanceId: '8101' });
    // Someone else's image: made from server 8102, no marker of ours.
    const foreign = fake.addImage({ description: 'nightly of web-b', created_from: { id: 8102, name: 'web-b' } });
    // The backup-tab hook fired with it: refused at once, nothing recorded.
    const refused = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId: serverA, providerSnapshotId: String(foreign) });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/was made from server 8102, not from this server \(8101\); it was not recorded\./);
    // A write to the shared database points a panel record of server A at it anyway.
    const own = fake.addImage({ description: 'backup tab of web-a', created_from: { id: 8101, name: 'web-a' } });
    const rec = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId: serverA, providerSnapshotId: String(own) });
    expect(rec.status).toBe(201);
    const id = rec.body.snapshot.id as number;
    await runUntilIdle(sc);
    await t.handle.db.updateTable('ss_snapshots').set({ provider_snapshot_id: String(foreign), pending_ref: null }).where('id', '=', id).execute();

    const trash = await api(sc, 'delete', `/api/v1/snapshots/${id}`);
    expect([200, 202]).toContain(trash.status);
    await runUntilIdle(sc);
    const snap = await snapshotOf(sc, id);
    expect(snap?.status).toBe('delete_failed');
    expect(snap?.lastError).toMatch(/belongs to another server: it was made from server 8102 .* so it was not deleted\. Remove it from this list with Delete Record/);
    expectPlainSentence(snap?.lastError, [fake.token]);
    expect(deletesAt(foreign)).toBe(0);
    expect(fake.images().some((i) => i.id === foreign)).toBe(true);
    expect((await eventsOf(sc, id)).map((e) => e.action)).toContain('delete_refused');

    // Trash again: refused again, still nothing deleted.
    await api(sc, 'delete', `/api/v1/snapshots/${id}`);
    await runUntilIdle(sc);
    expect(deletesAt(foreign)).toBe(0);

    const forget = await api(sc, 'delete', `/api/v1/snapshots/${id}/record`);
    expect(forget.status).toBe(200);
    expect(await snapshotOf(sc, id)).toBeNull();
    expect(fake.images().some((i) => i.id === foreign)).toBe(true);
  });

  test('when a panel record carries an image made from its own server, then Trash deletes it at Hetzner', async () => {
    fake.addServer(8103, 'web-c');
    const sc = await sidecar();
    const server = await addServer(t, { title: 'web-c', provider: 'hetzner', instanceId: '8103' });
    const own = fake.addImage({ description: 'backup tab of web-c', created_from: { id: 8103, name: 'web-c' } });
    const rec = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId: server, providerSnapshotId: String(own) });
    const id = rec.body.snapshot.id as number;
    await runUntilIdle(sc);
    await api(sc, 'delete', `/api/v1/snapshots/${id}`);
    await runUntilIdle(sc);
    expect(await snapshotOf(sc, id)).toBeNull();
    expect(deletesAt(own)).toBe(1);
  });

  test('when a scheduled or manual snapshot carries our marker, then Trash deletes it after re-reading it', async () => {
    fake.addServer(8104, 'web-d');
    const sc = await sidecar();
    const server = await addServer(t, { title: 'web-d', provider: 'hetzner', instanceId: '8104' });
    const id = await takeNow(sc, server);
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    await api(sc, 'delete', `/api/v1/snapshots/${id}`);
    await runUntilIdle(sc);
    expect(await snapshotOf(sc, id)).toBeNull();
    expect(deletesAt(snap!.providerSnapshotId!)).toBe(1);
  });
});

describe('reconciliation', () => {
  test('when the database lost the records of marked snapshots, then the next reconciliation lists them as found, once across two sidecars, and deletes none', async () => {
    fake.addServer(8201, 'web-e');
    const a = await sidecar();
    const server = await addServer(t, { title: 'web-e', provider: 'hetzner', instanceId: '8201' });
    const ids = [await takeNow(a, server), await takeNow(a, server)];
    for (const id of ids) expect((await settle(a, clock, id)).snap?.status).toBe('available');
    const providerIds = await Promise.all(ids.map(async (id) => (await snapshotOf(a, id))!.providerSnapshotId!));
    // The database is restored from a backup taken before these two existed.
    await t.handle.db.deleteFrom('ss_snapshots').where('id', 'in', ids).execute();

    const b = await sidecar();
    advance(clock, 61 * 60_000); // the next period (the first ran when sidecar a started)
    const listings = () => fake.count({ method: 'GET', path: /\/images$/ });
    const before = listings();
    const deletes = () => fake.count({ method: 'DELETE' });
    const deletesBefore = deletes();
    await Promise.all([runUntilIdle(a), runUntilIdle(b)]);
    expect(listings() - before).toBe(1); // one sidecar reconciled, the other saw the period taken

    const list = await api(a, 'get', '/api/v1/snapshots?origin=found');
    expect(list.status).toBe(200);
    const found = list.body.items as Array<{ id: number; status: string; origin: string; providerSnapshotId: string; serverId: number }>;
    expect(found.map((f) => f.providerSnapshotId).sort()).toEqual([...providerIds].sort());
    for (const f of found) {
      expect(f.status).toBe('available');
      expect(f.serverId).toBe(server); // the source server named by Hetzner's created_from
    }
    expect(deletes()).toBe(deletesBefore);

    // The next period finds nothing new: no duplicates.
    advance(clock, 61 * 60_000);
    await Promise.all([runUntilIdle(a), runUntilIdle(b)]);
    expect(((await api(a, 'get', '/api/v1/snapshots?origin=found')).body.items as unknown[]).length).toBe(2);
    expect(deletes()).toBe(deletesBefore);

    // Delete Record forgets one for good; Trash deletes the other at Hetzner.
    expect((await api(a, 'delete', `/api/v1/snapshots/${found[0]!.id}/record`)).status).toBe(200);
    await api(a, 'delete', `/api/v1/snapshots/${found[1]!.id}`);
    await runUntilIdle(a);
    expect(deletesAt(found[1]!.providerSnapshotId)).toBe(1);
    advance(clock, 61 * 60_000);
    await Promise.all([runUntilIdle(a), runUntilIdle(b)]);
    expect(((await api(a, 'get', '/api/v1/snapshots?origin=found')).body.items as unknown[]).length).toBe(0);
    expect(deletesAt(found[0]!.providerSnapshotId)).toBe(0);
  });

  test('when an available snapshot is deleted outside the panel, then after a day of reconciliations its record says so, and not before', async () => {
    fake.addServer(8203, 'web-g');
    const sc = await sidecar();
    const server = await addServer(t, { title: 'web-g', provider: 'hetzner', instanceId: '8203' });
    const id = await takeNow(sc, server);
    const { snap } = await settle(sc, clock, id);
    // Someone deletes it in the Hetzner console.
    await fetch(`${fake.url}/images/${snap!.providerSnapshotId!}`, { method: 'DELETE', headers: { Authorization: `Bearer ${fake.token}` } });
    advance(clock, 61 * 60_000);
    await runUntilIdle(sc);
    expect((await snapshotOf(sc, id))?.lastError).toBeNull(); // a listing may lag: not yet
    advance(clock, 24 * 3_600_000);
    await runUntilIdle(sc);
    const after = await snapshotOf(sc, id);
    expect(after?.status).toBe('available'); // never changed or deleted automatically
    expect(after?.lastError).toMatch(/^Hetzner Cloud no longer lists this snapshot \(missing since \d{4}-\d\d-\d\d \d\d:\d\d UTC\): it was probably deleted outside the panel\./);
  });

  test('when two slugs name one Hetzner account, then neither lists the other\'s snapshots as found', async () => {
    fake.addServer(8204, 'web-h');
    const entry = { type: 'hetzner', token: fake.token, apiUrl: fake.url };
    const sc = await sidecarFor(t, { clock, sleep: async () => {}, providers: { hetzner: entry, 'hetzner-eu': entry } });
    running.push(sc);
    const server = await addServer(t, { title: 'web-h', provider: 'hetzner-eu', instanceId: '8204' });
    const id = await takeNow(sc, server);
    expect((await settle(sc, clock, id)).snap?.status).toBe('available');
    advance(clock, 61 * 60_000);
    await runUntilIdle(sc);
    expect(((await api(sc, 'get', '/api/v1/snapshots?origin=found')).body.items as unknown[]).length).toBe(0);
  });

  test('when an image carries no marker of ours, then reconciliation leaves it alone', async () => {
    fake.addServer(8202, 'web-f');
    const sc = await sidecar();
    fake.addImage({ description: 'somebody else', created_from: { id: 8202, name: 'web-f' }, labels: { team: 'ops' } });
    await runUntilIdle(sc);
    expect(((await api(sc, 'get', '/api/v1/snapshots?origin=found')).body.items as unknown[]).length).toBe(0);
  });

  test('when SS_RECONCILE_MINUTES is 0 or not a number, then the sidecar refuses to start with a sentence', async () => {
    await expect(sidecar({ SS_RECONCILE_MINUTES: '0' })).rejects.toThrow(/SS_RECONCILE_MINUTES.*between 1 and 10080/);
    await expect(sidecar({ SS_RECONCILE_MINUTES: 'hourly' })).rejects.toThrow(/SS_RECONCILE_MINUTES.*whole number/);
  });
});
