/**
 * DigitalOcean runs one action per droplet at a time (docs/providers.md): while a snapshot
 * action runs, another is refused with 422 "Droplet already has a pending event.". After a
 * lost create answer every retry meets that refusal until our own action ends — minutes. The
 * adapter lists the droplet's actions and makes that a wait (not a failed attempt), and adopts
 * our snapshot by its name once it exists. Adapter first, then through the engine.
 */
import { afterEach, describe, expect, it, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { silentLogger } from '../../sidecar/log.js';
import { createDigitaloceanProvider } from '../../sidecar/providers/digitalocean.js';
import { ProviderError, type ServerRef } from '../../sidecar/providers/types.js';
import { startFakeDigitalOcean, type FakeDigitalOcean } from '../fakes/digitalocean.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { adapterContext } from '../helpers/provider-context.js';
import { driverSpec, engineTestbed, eventsOf, oneRound, settle, snapshotOf, takeNow } from '../helpers/providers.js';
import { advance, sidecarFor } from '../helpers/sidecar.js';

const SERVER: ServerRef = { serverId: 1, instanceId: '3164444', region: 'fra1', name: 'web1' };
const marker = (id: number) => ({ snapshotId: id, name: `ss-${id}-web1-20261127T0300Z` });

describe('the DigitalOcean adapter on a busy droplet', () => {
  let fake: FakeDigitalOcean;
  let nowMs = Date.parse('2026-11-27T03:00:00Z');
  afterEach(async () => { await fake.close(); });

  async function setup() {
    nowMs = Date.parse('2026-11-27T03:00:00Z');
    fake = await startFakeDigitalOcean({ now: () => nowMs, actionDurationMs: 5 * 60_000 });
    fake.addDroplet(3164444, 'web1');
    return createDigitaloceanProvider('do', { type: 'digitalocean', token: fake.token, apiUrl: fake.url }, adapterContext({ log: silentLogger, now: () => nowMs, sleep: async () => {} }));
  }

  it('when the droplet runs someone else\'s action, then create is a wait (busy, params.wait) that names it, and makes no second action', async () => {
    const provider = await setup();
    fake.startSnapshotAction(3164444, 'taken-in-the-panel');
    const err = await provider.create(SERVER, marker(1)).then(() => null, (e: unknown) => e as ProviderError);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'busy', retryable: true, retryAfterMs: 60_000 });
    expect(err!.params.wait).toBe(true);
    expect(err!.message).toBe('DigitalOcean droplet 3164444 is still busy with a snapshot started 2026-11-27T03:00:00Z; the snapshot will be tried again in 60 s.');
    expect(fake.count({ method: 'GET', path: /^\/v2\/droplets\/3164444\/actions$/ })).toBe(1);
    expect(fake.actions()).toHaveLength(1);
  });

  it('when our own lost create has finished meanwhile, then the busy answer adopts our snapshot by its name', async () => {
    const provider = await setup();
    fake.inject(1, { kind: 'lost' }, { method: 'POST', path: /\/actions$/ });
    await expect(provider.create(SERVER, marker(2))).rejects.toBeInstanceOf(ProviderError);
    // Ours is done (5 minutes); a foreign action started just now keeps the droplet busy.
    nowMs += 5 * 60_000;
    fake.addSnapshot({ dropletId: 3164444, name: 'someone-elses' });
    fake.startSnapshotAction(3164444, 'taken-in-the-panel');
    const adopted = await provider.create(SERVER, marker(2));
    const ours = fake.snapshots().find((s) => s.name === marker(2).name)!;
    expect(adopted).toMatchObject({ providerSnapshotId: String(ours.id), state: 'available' });
    expect(fake.snapshots().filter((s) => s.name === marker(2).name)).toHaveLength(1);
  });
});

describe('DigitalOcean busy through the engine', () => {
  let t: TestDatabase;
  const bed = engineTestbed((db) => { t = db; });

  test('when the create answer is lost and the snapshot takes 12 minutes, then the busy retries do not use up the attempts and exactly one snapshot ends available with its real id', async () => {
    const spec = driverSpec('digitalocean');
    const d = await spec.start();
    bed.defer(() => d.close());
    const clock = databaseClock();
    d.fake.actionDurationMs = 12 * 60_000;
    // The fake's time follows the engine's clock: the action ends 12 engine minutes later.
    d.fake.setNow(() => Date.now() + clock.__test__offsetMs);
    const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });

    d.fake.inject(1, { kind: 'lost' }, { method: 'POST', path: /^\/v2\/droplets\/\d+\/actions$/ });
    const id = await takeNow(sc, serverId);
    await oneRound(sc);
    expect(d.fake.actions()).toHaveLength(1); // DigitalOcean took it; we never heard

    let sawWait = false;
    for (let minute = 0; minute < 20; minute++) {
      advance(clock, 61_000);
      await oneRound(sc);
      const s = await snapshotOf(sc, id);
      if (s?.status === 'requested' && /still busy with a snapshot/.test(s.lastError ?? '')) sawWait = true;
      if (s && s.status !== 'requested') break;
    }
    const { snap } = await settle(sc, clock, id);
    expect(sawWait).toBe(true);
    expect(snap?.status).toBe('available');
    const made = d.fake.snapshots();
    expect(made).toHaveLength(1);
    expect(snap!.providerSnapshotId).toBe(String(made[0]!.id));
    expect(d.fake.actions()).toHaveLength(1);
    // More busy refusals than the engine's six attempts, none of which failed the snapshot.
    expect(d.fake.count({ method: 'POST', path: /^\/v2\/droplets\/\d+\/actions$/ })).toBeGreaterThan(6);
    expect((await eventsOf(sc, id)).map((e) => e.action)).toContain('adopted');
  });

  test('when a droplet stays busy past the create timeout, then the waits end and the snapshot fails with the busy sentence instead of waiting for ever', async () => {
    const spec = driverSpec('digitalocean');
    const d = await spec.start();
    bed.defer(() => d.close());
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, providers: { [spec.slug]: d.config() }, sleep: async () => {} });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: spec.slug, instanceId: d.instanceId });
    d.fake.pendingPolls = 1_000_000; // someone else's action that never ends
    d.fake.startSnapshotAction(Number(d.instanceId), 'stuck-in-the-panel');

    const id = await takeNow(sc, serverId);
    await oneRound(sc);
    expect(await snapshotOf(sc, id)).toMatchObject({ status: 'requested', attempts: 0 }); // the wait used no attempt
    // Seven hours later (the create timeout is six), the wait counts as a failed attempt again.
    const db = t.handle.db;
    const now = await clock.now(db);
    await db.updateTable('ss_snapshots').set({ created_at: new Date(now.getTime() - 7 * 3600_000) }).where('id', '=', id).execute();
    const { snap } = await settle(sc, clock, id, { stepMs: 15 * 60_000 });
    expect(snap?.status).toBe('failed');
    expect(snap?.lastError).toMatch(/^DigitalOcean droplet 3164444 is still busy with a snapshot started \S+/);
    expect(snap?.lastError).not.toMatch(/tried again/);
    expect(d.fake.actions()).toHaveLength(1);
  });
});
