/**
 * A simulated cloud for the demo and the tests: no network. Its "cloud" is a table in our
 * database, so several sidecars (and a restarted one) see the same provider — that is what
 * lets the tests prove crash recovery without a second snapshot. Time comes from the
 * database clock, like everything in the engine.
 *
 * Knobs (providers file): latencyMs — how long a snapshot stays pending; failCreate /
 * failDelete — instance ids whose creates / deletes fail (or "*" for all); failCreateRate /
 * failDeleteRate — a fraction failing at random; rateLimitEvery — every Nth call answers
 * "429"; slowMs — every call takes this long; neverCompletes — instance ids whose snapshots
 * stay pending for ever; sizeBytes.
 */

import { z } from 'zod';
import type { Clock, DB } from '../db.js';
import type { ProviderContext } from './context.js';
import { markerIdOfName } from './marker.js';
import { ProviderError, type CreateResult, type Provider, type ProviderSnapshot, type ServerRef, type SnapshotFacts, type SnapshotMarker } from './types.js';

export const sandboxConfigSchema = z.object({
  type: z.literal('sandbox'),
  latencyMs: z.number().int().min(0).max(86_400_000).default(3000),
  slowMs: z.number().int().min(0).max(600_000).default(0),
  failCreate: z.array(z.string().max(190)).max(1000).default([]),
  failDelete: z.array(z.string().max(190)).max(1000).default([]),
  failCreateRate: z.number().min(0).max(1).default(0),
  failDeleteRate: z.number().min(0).max(1).default(0),
  rateLimitEvery: z.number().int().min(0).max(1_000_000).default(0),
  neverCompletes: z.array(z.string().max(190)).max(1000).default([]),
  sizeBytes: z.number().int().min(0).default(2_147_483_648),
  apiUrl: z.string().optional(),
}).strict();

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;

export interface SandboxContext extends ProviderContext {
  db: DB;
  clock: Clock;
}

const matches = (list: string[], instanceId: string) => list.includes('*') || list.includes(instanceId);

export function createSandboxProvider(slug: string, config: SandboxConfig, ctx: SandboxContext): Provider {
  const { db, clock } = ctx;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let calls = 0;

  async function callPreamble(): Promise<void> {
    calls += 1;
    if (config.slowMs > 0) await sleep(config.slowMs);
    if (config.rateLimitEvery > 0 && calls % config.rateLimitEvery === 0) {
      throw new ProviderError('rate_limited', 'The sandbox provider is rate-limiting requests.', { retryAfterMs: 1000, status: 429, retry: { kind: 'shortly' } });
    }
  }

  function toSnapshot(row: { id: number; state: string; size_bytes: number; ready_at: Date }, now: Date): ProviderSnapshot {
    const id = `sbx-${row.id}`;
    if (row.state === 'failed') return { providerSnapshotId: id, state: 'failed', reason: 'The sandbox provider reported the snapshot as failed.' };
    if (row.state === 'pending' && row.ready_at.getTime() > now.getTime()) return { providerSnapshotId: id, state: 'creating' };
    return { providerSnapshotId: id, state: 'available', sizeBytes: Number(row.size_bytes) };
  }

  function parseId(providerSnapshotId: string): number | null {
    const m = /^sbx-(\d{1,18})$/.exec(providerSnapshotId);
    return m ? Number(m[1]) : null;
  }

  async function insert(server: ServerRef, name: string): Promise<{ id: number; now: Date }> {
    const now = await clock.now(db);
    const never = matches(config.neverCompletes, server.instanceId);
    const readyAt = new Date(now.getTime() + (never ? 100 * 365 * 86_400_000 : config.latencyMs));
    const res = await db.insertInto('ss_sandbox_snapshots').values({
      provider: slug, instance_id: server.instanceId, name, state: 'pending',
      ready_at: readyAt, size_bytes: config.sizeBytes, created_at: now,
    }).executeTakeFirstOrThrow();
    return { id: Number(res.insertId), now };
  }

  return {
    slug,
    type: 'sandbox',
    displayName: 'Sandbox (simulated cloud)',
    capabilities: {
      create: true, delete: true, labels: true, slotsPerServer: null,
      notes: ['The sandbox is a simulated cloud for demos and tests: nothing leaves this machine.'],
    },

    async create(server: ServerRef, marker: SnapshotMarker): Promise<CreateResult> {
      await callPreamble();
      if (!server.instanceId) throw new ProviderError('not_found', 'The sandbox has no instance id for this server: set it in the server’s provider fields.');
      if (matches(config.failCreate, server.instanceId) || (config.failCreateRate > 0 && Math.random() < config.failCreateRate)) {
        throw new ProviderError('failed', `The sandbox provider refused to snapshot instance ${server.instanceId} (an injected failure).`);
      }
      const { id, now } = await insert(server, marker.name);
      const snap = toSnapshot({ id, state: 'pending', size_bytes: config.sizeBytes, ready_at: new Date(now.getTime() + config.latencyMs) }, now);
      return { providerSnapshotId: snap.providerSnapshotId, state: snap.state, sizeBytes: snap.sizeBytes ?? null };
    },

    async status(_server, ref): Promise<ProviderSnapshot> {
      await callPreamble();
      const id = ref.providerSnapshotId ? parseId(ref.providerSnapshotId) : null;
      if (id === null) throw new ProviderError('bad_response', 'The sandbox does not know this snapshot id.');
      const row = await db.selectFrom('ss_sandbox_snapshots').select(['id', 'state', 'size_bytes', 'ready_at'])
        .where('id', '=', id).where('provider', '=', slug).executeTakeFirst();
      const now = await clock.now(db);
      if (!row) return { providerSnapshotId: ref.providerSnapshotId!, state: 'gone' };
      return toSnapshot(row, now);
    },

    async findByMarker(_server, marker): Promise<ProviderSnapshot | null> {
      await callPreamble();
      const row = await db.selectFrom('ss_sandbox_snapshots').select(['id', 'state', 'size_bytes', 'ready_at'])
        .where('provider', '=', slug).where('name', '=', marker.name).orderBy('id').executeTakeFirst();
      if (!row) return null;
      return toSnapshot(row, await clock.now(db));
    },

    async delete(server, providerSnapshotId): Promise<{ alreadyGone: boolean }> {
      await callPreamble();
      if (matches(config.failDelete, server.instanceId) || (config.failDeleteRate > 0 && Math.random() < config.failDeleteRate)) {
        throw new ProviderError('failed', `The sandbox provider refused to delete snapshot ${providerSnapshotId} (an injected failure).`);
      }
      const id = parseId(providerSnapshotId);
      if (id === null) return { alreadyGone: true };
      const res = await db.deleteFrom('ss_sandbox_snapshots').where('id', '=', id).where('provider', '=', slug).executeTakeFirst();
      return { alreadyGone: Number(res.numDeletedRows) === 0 };
    },

    async describe(_server, providerSnapshotId): Promise<SnapshotFacts | null> {
      await callPreamble();
      const id = parseId(providerSnapshotId);
      if (id === null) return null;
      const row = await db.selectFrom('ss_sandbox_snapshots').select(['id', 'state', 'size_bytes', 'ready_at', 'name', 'instance_id'])
        .where('id', '=', id).where('provider', '=', slug).executeTakeFirst();
      return row ? factsOf(row, await clock.now(db)) : null;
    },

    /** The simulated cloud's "filter": names that are our marker names. */
    async *listOurs(): AsyncIterable<SnapshotFacts> {
      let after = 0;
      for (;;) {
        await callPreamble();
        const rows = await db.selectFrom('ss_sandbox_snapshots').select(['id', 'state', 'size_bytes', 'ready_at', 'name', 'instance_id'])
          .where('provider', '=', slug).where('name', 'like', 'ss-%').where('id', '>', after).orderBy('id').limit(500).execute();
        const now = await clock.now(db);
        for (const row of rows) yield factsOf(row, now);
        if (rows.length < 500) return;
        after = Number(rows[rows.length - 1]!.id);
      }
    },
  };

  function factsOf(row: { id: number; state: string; size_bytes: number; ready_at: Date; name: string; instance_id: string }, now: Date): SnapshotFacts {
    return { ...toSnapshot(row, now), name: row.name, markerSnapshotId: markerIdOfName(row.name), sourceInstanceId: row.instance_id };
  }
}

/** Test and demo helper: what the simulated cloud holds right now. */
export async function sandboxContents(db: DB, slug?: string) {
  let q = db.selectFrom('ss_sandbox_snapshots').selectAll();
  if (slug) q = q.where('provider', '=', slug);
  return await q.orderBy('id').execute();
}

/** The host's backup tab in the demo: take a snapshot "by hand" at the sandbox. */
export async function sandboxHostSnapshot(db: DB, clock: Clock, slug: string, instanceId: string, config: SandboxConfig) {
  const now = await clock.now(db);
  const res = await db.insertInto('ss_sandbox_snapshots').values({
    provider: slug, instance_id: instanceId, name: `panel-${instanceId}-${now.getTime()}`, state: 'pending',
    ready_at: new Date(now.getTime() + config.latencyMs), size_bytes: config.sizeBytes, created_at: now,
  }).executeTakeFirstOrThrow();
  return `sbx-${Number(res.insertId)}`;
}
