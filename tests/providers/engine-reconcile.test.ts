/**
 * Reconciliation and the ownership check with every provider that can delete one snapshot,
 * through the engine against each provider's fake and its own list filter. (Linode keeps one
 * snapshot per Linode and never deletes at the provider: nothing to reconcile or to refuse.)
 */
import { describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { type Driver, DRIVERS, type DriverSpec, engineTestbed, settle, takeNow } from '../helpers/providers.js';
import { advance, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
const bed = engineTestbed((db) => { t = db; }, async () => {
  await t.handle.db.deleteFrom('ss_reconcile_runs').execute();
});

async function bringUp(spec: DriverSpec) {
  const d: Driver = await spec.start();
  bed.defer(() => d.close());
  const clock = databaseClock();
  const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
  bed.defer(() => sc.stop(0));
  const serverId = await addServer(t, { title: `web-${spec.type}`, provider: spec.slug, instanceId: d.instanceId });
  return { d, sc, clock, serverId };
}

describe.each(DRIVERS.filter((s) => s.canDelete).map((spec) => [spec.type, spec] as const))('%s: orphans and ownership', (_type, spec) => {
  test('when the database is restored from a backup older than a snapshot, then the next reconciliation lists it as found, deletes nothing, and Trash then deletes it at the provider', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    const id = await takeNow(sc, serverId);
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    const providerId = snap!.providerSnapshotId!;
    await t.handle.db.deleteFrom('ss_snapshots').where('id', '=', id).execute(); // the restore

    const deletesBefore = d.deleteCalls();
    advance(clock, 61 * 60_000);
    await runUntilIdle(sc);
    const found = ((await api(sc, 'get', '/api/v1/snapshots?origin=found')).body.items as Array<{ id: number; status: string; providerSnapshotId: string; serverId: number }>)
      .filter((f) => f.providerSnapshotId === providerId);
    expect(found.map((f) => f.status)).toEqual(['available']);
    // The server it was made from, where the provider names it (Vultr does not: server unknown).
    expect(found[0]!.serverId).toBe(spec.type === 'vultr' ? 0 : serverId);
    expect(d.deleteCalls()).toBe(deletesBefore);
    expect(d.stored()).toContain(providerId);

    await api(sc, 'delete', `/api/v1/snapshots/${found[0]!.id}`);
    await runUntilIdle(sc);
    expect(d.stored()).not.toContain(providerId);
    expect((await api(sc, 'get', `/api/v1/snapshots/${found[0]!.id}`)).status).toBe(404);
  });

  test('when a record holds the id of a snapshot that is not ours for this server, then Trash leaves it at the provider and says so', async () => {
    const { d, sc, clock, serverId } = await bringUp(spec);
    // Another server in the panel, on the same account, with its own snapshot.
    const otherServer = await addServer(t, { title: 'someone-else', provider: spec.slug, instanceId: `${d.instanceId}` });
    const otherId = await takeNow(sc, otherServer);
    const { snap } = await settle(sc, clock, otherId);
    const theirs = snap!.providerSnapshotId!;
    // A write to the shared database points our server's record at their snapshot.
    const mineId = await takeNow(sc, serverId);
    await settle(sc, clock, mineId);
    await t.handle.db.updateTable('ss_snapshots').set({ provider_snapshot_id: theirs, instance_id: 'elsewhere-0000' }).where('id', '=', mineId).execute();

    const deletesBefore = d.deleteCalls();
    await api(sc, 'delete', `/api/v1/snapshots/${mineId}`);
    await runUntilIdle(sc);
    const after = (await api(sc, 'get', `/api/v1/snapshots/${mineId}`)).body.snapshot as { status: string; lastError: string };
    expect(after.status).toBe('delete_failed');
    expect(after.lastError).toMatch(/belongs to another server.*was not deleted/);
    expect(d.deleteCalls()).toBe(deletesBefore);
    expect(d.stored()).toContain(theirs);
  });
});
