/**
 * DigitalOcean through the engine. A droplet snapshot is an *action*: the answer has an
 * action id and no snapshot id, and the host's backup tab stores that action id too. The
 * seed's module stopped at the action id and so could never delete; here the engine follows
 * the action to the real snapshot id, never stores an empty one, and TRASH deletes it.
 */
import { describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { driverSpec, engineTestbed, eventsOf, expectPlainSentence, oneRound, settle, snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, api, runUntilIdle, sidecarFor } from '../helpers/sidecar.js';

let t: TestDatabase;
const bed = engineTestbed((db) => { t = db; });

const spec = driverSpec('digitalocean');
const DROPLET = 3164444;

async function bringUp() {
  const d = await spec.start();
  bed.defer(() => d.close());
  const clock = databaseClock();
  const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
  bed.defer(() => sc.stop(0));
  const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });
  return { d, fake: d.fake, sc, clock, serverId };
}

/** Our row as stored, to see NULL apart from ''. */
async function stored(id: number) {
  return await t.handle.db.selectFrom('ss_snapshots').select(['status', 'provider_snapshot_id', 'pending_ref']).where('id', '=', id).executeTakeFirstOrThrow();
}

describe('DigitalOcean through the engine', () => {
  test('when the host\'s backup tab records a snapshot by its ACTION id, then it ends available with the REAL snapshot id, and TRASH deletes that one', async () => {
    const { fake, sc, clock, serverId } = await bringUp();
    fake.pendingPolls = 2;
    const actionId = fake.startSnapshotAction(DROPLET, 'web1-backup-tab'); // the host's own name, not ours

    const recorded = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: String(actionId) });
    expect(recorded.status).toBe(201);
    const id = recorded.body.snapshot.id as number;
    expect(recorded.body.snapshot).toMatchObject({ origin: 'panel', status: 'creating', providerSnapshotId: null });
    // The host fires its hook twice: still one record.
    const again = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: String(actionId) });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ alreadyRecorded: true, snapshot: { id } });

    await oneRound(sc); // the action is still running
    expect(await stored(id)).toEqual({ status: 'creating', provider_snapshot_id: null, pending_ref: String(actionId) });

    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    const real = fake.snapshots();
    expect(real).toHaveLength(1);
    expect(snap!.providerSnapshotId).toBe(String(real[0]!.id));
    expect(snap!.providerSnapshotId).not.toBe(String(actionId));
    expect(snap!.sizeBytes).toBe(2_360_000_000);

    expect((await api(sc, 'delete', `/api/v1/snapshots/${id}`)).status).toBe(202);
    await runUntilIdle(sc);
    expect(await snapshotOf(sc, id)).toBeNull();
    expect(fake.snapshots()).toEqual([]);
    expect(fake.count({ method: 'DELETE', path: new RegExp(`^/v2/snapshots/${real[0]!.id}$`) })).toBe(1);
  });

  test('when WPCD says its id is intermediate (an action) or final (a snapshot), then each is followed as it says and the row bears the provider\'s name, as in its dashboard', async () => {
    const { fake, sc, clock, serverId } = await bringUp();
    const hostName = `WPCD_${DROPLET}_2026-11-29-2055`;
    const actionId = fake.startSnapshotAction(DROPLET, hostName);
    const viaAction = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: actionId, idType: 'intermediate', action: 'take_a_snapshot' });
    expect(viaAction.status).toBe(201);
    expect(viaAction.body.snapshot).toMatchObject({ providerSnapshotId: null, status: 'creating' });
    const first = await settle(sc, clock, viaAction.body.snapshot.id as number);
    expect(first.snap).toMatchObject({ status: 'available', name: hostName, providerSnapshotId: String(fake.snapshots()[0]!.id) });

    // A final id is the snapshot itself: kept as the provider id at once, never followed as an action.
    const finalId = fake.addSnapshot({ dropletId: DROPLET, name: `WPCD_${DROPLET}_2026-11-30-0100` });
    const direct = await api(sc, 'post', '/api/v1/panel-snapshots', { serverId, providerSnapshotId: String(finalId), idType: 'final' });
    expect(direct.status).toBe(201);
    expect(direct.body.snapshot).toMatchObject({ providerSnapshotId: String(finalId) });
    const second = await settle(sc, clock, direct.body.snapshot.id as number);
    expect(second.snap).toMatchObject({ status: 'available', name: `WPCD_${DROPLET}_2026-11-30-0100`, providerSnapshotId: String(finalId) });
    expect(fake.count({ method: 'GET', path: new RegExp(`^/v2/actions/${finalId}$`) })).toBe(0);
  });

  test('when our own snapshot action runs, then the record keeps no provider id (NULL, never \'\') until DigitalOcean names the snapshot, which is then tagged', async () => {
    const { fake, sc, clock, serverId } = await bringUp();
    fake.pendingPolls = 3;
    const id = await takeNow(sc, serverId);
    await oneRound(sc);
    const action = fake.actions()[0]!;
    expect(await stored(id)).toEqual({ status: 'creating', provider_snapshot_id: null, pending_ref: String(action.id) });
    for (let poll = 0; poll < 2; poll++) {
      advance(clock, 60_000);
      await oneRound(sc);
      const row = await stored(id);
      if (row.status !== 'creating') break;
      expect(row.provider_snapshot_id).toBeNull();
    }
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    const made = fake.snapshots();
    expect(made).toHaveLength(1);
    expect(snap!.providerSnapshotId).toBe(String(made[0]!.id));
    expect(made[0]!.name).toMatch(new RegExp(`^ss-${id}-`)); // our marker name
    expect(made[0]!.tags).toEqual(['scheduled-snapshots']);
    const creating = (await eventsOf(sc, id)).find((e) => e.action === 'creating');
    expect(creating?.detail).toBe('Accepted by the provider');
  });

  test('when a sidecar died while its snapshot action was still running, then the retry is refused as busy and the snapshot is adopted once the action completes', async () => {
    const { fake, sc, clock, serverId } = await bringUp();
    const db = t.handle.db;
    const id = await takeNow(sc, serverId);
    const now = await clock.now(db);
    const row = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await db.updateTable('ss_snapshots').set({ lease_owner: 'dead:1', attempts: 1, next_attempt_at: new Date(now.getTime() + 30_000) }).where('id', '=', id).execute();
    const created = await sc.ctx.providers.get(spec.slug)!.create({ serverId, instanceId: row.instance_id!, region: null, name: row.server_name }, { snapshotId: id, name: row.name });
    expect(created).toMatchObject({ providerSnapshotId: null, state: 'creating' });

    advance(clock, 31_000);
    await oneRound(sc);
    const waiting = await snapshotOf(sc, id);
    expect(waiting?.status).toBe('requested');
    expect(waiting!.lastError).toMatch(/^DigitalOcean droplet 3164444 is still busy with a snapshot started \S+; the snapshot will be tried again in 60 s\.$/);
    expect(waiting!.attempts).toBe(1); // a wait, not a failed attempt
    expectPlainSentence(waiting!.lastError, [fake.token]);
    expect(fake.actions()).toHaveLength(1); // the refused retries made no second action

    fake.finishAction(Number(created.pendingRef));
    const { snap } = await settle(sc, clock, id);
    expect(snap?.status).toBe('available');
    expect(fake.snapshots()).toHaveLength(1);
    expect(snap!.providerSnapshotId).toBe(String(fake.snapshots()[0]!.id));
    expect((await eventsOf(sc, id)).map((e) => e.action)).toContain('adopted');
  });
});
