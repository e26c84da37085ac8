/**
 * Linode through the engine: one manual snapshot slot per Linode, no call that deletes a
 * single snapshot, and the Backup service that must be enabled first (docs/providers.md).
 * The seed's module lost Linode history; here a replaced snapshot stays in the list as
 * `superseded`, and TRASH never sends the one call that would drop every backup.
 */
import { describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { LINODE_NOT_ENABLED_MESSAGE } from '../../sidecar/providers/linode.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { driverSpec, engineTestbed, eventsOf, expectPlainSentence, settle, snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, advanceToNextSlot, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
const bed = engineTestbed((db) => { t = db; });

const spec = driverSpec('linode');
const LINODE_ID = 123;

async function bringUp() {
  const d = await spec.start();
  bed.defer(() => d.close());
  const clock = databaseClock();
  const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
  bed.defer(() => sc.stop(0));
  const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });
  /** Nothing may ever ask Linode to drop backups or delete anything. */
  const destructiveCalls = () => d.fake.count({ path: /\/backups\/cancel$/ }) + d.fake.count({ method: 'DELETE' });
  return { d, fake: d.fake, sc, clock, serverId, destructiveCalls };
}

describe('Linode through the engine', () => {
  test('when a second snapshot is taken, then the first stays in the list as superseded, and TRASH removes only our records', async () => {
    const { fake, sc, clock, serverId, destructiveCalls } = await bringUp();
    const first = await takeNow(sc, serverId);
    expect((await settle(sc, clock, first)).snap?.status).toBe('available');
    const firstBackupId = fake.backups(LINODE_ID).current!.id;

    const second = await takeNow(sc, serverId);
    await runUntilIdle(sc);
    // Linode replaces the previous snapshot as soon as it accepts the new one.
    expect((await snapshotOf(sc, first))?.status).toBe('superseded');
    expect((await settle(sc, clock, second)).snap?.status).toBe('available');

    const list = await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}`);
    expect(list.body.items.map((s: { id: number; status: string }) => [s.id, s.status])).toEqual([[second, 'available'], [first, 'superseded']]);
    expect(list.body.items.every((s: { canDelete: boolean }) => s.canDelete === false)).toBe(true);
    const supersededEvent = (await eventsOf(sc, first)).find((e) => e.action === 'superseded');
    expect(supersededEvent?.detail).toMatch(/keeps only the latest snapshot; replaced by snapshot/);
    const backups = fake.backups(LINODE_ID);
    expect(backups.current!.id).not.toBe(firstBackupId);
    expect(String(backups.current!.id)).toBe((await snapshotOf(sc, second))!.providerSnapshotId);

    // TRASH of the current one: the copy at Linode stays, and the answer says so.
    const trashCurrent = await api(sc, 'delete', `/api/v1/snapshots/${second}`);
    expect(trashCurrent.status).toBe(200);
    expect(trashCurrent.body).toMatchObject({ deleted: true, providerCopyKept: true });
    expect(trashCurrent.body.message).toMatch(/cannot delete a single snapshot through its API; the provider copy stays/);
    // TRASH of the superseded one: Linode already dropped it.
    const trashOld = await api(sc, 'delete', `/api/v1/snapshots/${first}`);
    expect(trashOld.status).toBe(200);
    expect(trashOld.body).toMatchObject({ deleted: true, providerCopyKept: false });
    expect(trashOld.body.message).toMatch(/already replaced it/);

    await runUntilIdle(sc);
    expect((await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}`)).body.items).toEqual([]);
    expect(fake.backups(LINODE_ID).current!.id).toBe(backups.current!.id); // still at Linode
    expect(destructiveCalls()).toBe(0);
  });

  test('when a Linode scheduled snapshot replaces the previous one, then retention never tries to delete at Linode', async () => {
    const { sc, clock, serverId, destructiveCalls } = await bringUp();
    const s = await api(sc, 'post', '/api/v1/schedules', { name: 'Hourly Linode', intervalMinutes: 60, spreadMinutes: 0, retention: { keepLast: 1, minKeep: 1 } });
    await api(sc, 'put', `/api/v1/servers/${serverId}/schedules`, { scheduleIds: [s.body.schedule.id] });
    for (let hour = 0; hour < 3; hour++) {
      await advanceToNextSlot(clock, t.handle.db, 3600_000);
      await runUntilIdle(sc);
      const newest = (await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}&limit=1`)).body.items[0];
      expect((await settle(sc, clock, newest.id)).snap?.status).toBe('available');
    }
    const items = (await api(sc, 'get', `/api/v1/snapshots?serverId=${serverId}`)).body.items as Array<{ status: string }>;
    expect(items.map((i) => i.status)).toEqual(['available', 'superseded', 'superseded']);
    expect(destructiveCalls()).toBe(0);
  });

  test('when the Backup service is not enabled on the Linode, then the snapshot fails with the sentence that says where to enable it', async () => {
    const { fake, sc, clock, serverId } = await bringUp();
    fake.setBackupsEnabled(LINODE_ID, false);
    const id = await takeNow(sc, serverId);
    const { snap, rounds } = await settle(sc, clock, id);
    expect(rounds).toBe(1); // not retried: nothing changes until someone enables it
    expect(snap?.status).toBe('failed');
    expect(snap!.lastError).toBe(LINODE_NOT_ENABLED_MESSAGE);
    expectPlainSentence(snap!.lastError, [fake.token]);
    expect(fake.count({ path: /\/backups\/enable$/ })).toBe(0); // a paid add-on: the admin decides
  });

  test('when a sidecar died after Linode accepted a second snapshot, then adopting it also marks the first superseded', async () => {
    const { fake, sc, clock, serverId } = await bringUp();
    const db = t.handle.db;
    const first = await takeNow(sc, serverId);
    expect((await settle(sc, clock, first)).snap?.status).toBe('available');

    const second = await takeNow(sc, serverId);
    const now = await clock.now(db);
    const row = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', second).executeTakeFirstOrThrow();
    await db.updateTable('ss_snapshots').set({ lease_owner: 'dead:1', attempts: 1, next_attempt_at: new Date(now.getTime() + 30_000) }).where('id', '=', second).execute();
    await sc.ctx.providers.get(spec.slug)!.create({ serverId, instanceId: row.instance_id!, region: null, name: row.server_name }, { snapshotId: second, name: row.name });
    advance(clock, 31_000);
    const { snap } = await settle(sc, clock, second);

    expect(snap?.status).toBe('available');
    expect((await eventsOf(sc, second)).map((e) => e.action)).toContain('adopted');
    expect(fake.count({ method: 'POST', path: /\/backups$/ })).toBe(2); // one per snapshot, none repeated
    // Linode dropped the first when it accepted the second: our list must say so.
    expect((await snapshotOf(sc, first))?.status).toBe('superseded');
  });
});
