/**
 * Reconciliation: once per period (SS_RECONCILE_MINUTES) per provider, list what carries our
 * marker at the provider and record each object no record accounts for as origin `found`
 * ("Found at the provider, not in this list") — the database was restored from an older
 * backup, or a create outlived every attempt. A found snapshot is never deleted
 * automatically: retention only ever deletes `scheduled` ones; Trash deletes it at the
 * provider (after the ownership check), Delete Record forgets it for good.
 *
 * The period is claimed in the database (store/reconcile.ts), so several sidecars reconcile
 * each provider once; the listing spends the account's shared request budget like any call.
 */
import type { Clock, DB } from '../db.js';
import { serverDisplayName, type Host } from '../host.js';
import type { Logger } from '../log.js';
import type { Provider } from '../providers/types.js';
import { recordEvent } from '../store/events.js';
import { claimReconcile, insertFound, isAccounted, noteMissing, recordedRegions, recordReconcileResult } from '../store/reconcile.js';

export interface ReconcileDeps {
  db: DB;
  clock: Clock;
  log: Logger;
  host: Host;
  providers: ReadonlyMap<string, Provider>;
  instanceId: string;
  everyMs: number;
}

/** Reconcile every provider whose period is due; returns how many snapshots were found. */
export async function reconcileDue(deps: ReconcileDeps): Promise<number> {
  let total = 0;
  for (const [slug, provider] of deps.providers) {
    if (!provider.listOurs) continue;
    const now = await deps.clock.now(deps.db);
    if (!(await claimReconcile(deps.db, slug, now, deps.everyMs, deps.instanceId))) continue;
    try {
      const found = await reconcileProvider(deps, slug, provider);
      await recordReconcileResult(deps.db, slug, found);
      if (found > 0) deps.log.warn({ provider: slug, found }, 'snapshots with our marker but no record were found at the provider; they are listed as found');
      total += found;
    } catch (e) {
      // The next period tries again; nothing was deleted or changed at the provider.
      deps.log.warn({ provider: slug, err: (e as Error).message }, 'reconciliation with the provider failed; it runs again next period');
    }
  }
  return total;
}

/**
 * How long an available snapshot of ours may be absent from the provider's listing before its
 * record says so: a listing can lag behind a create, and a day is far beyond any such lag.
 */
export const MISSING_GRACE_MS = 24 * 3_600_000;

async function reconcileProvider(deps: ReconcileDeps, slug: string, provider: Provider): Promise<number> {
  let found = 0;
  const listed = new Set<string>();
  const slugs = [...deps.providers].filter(([, p]) => p.type === provider.type).map(([s]) => s);
  // An account spanning regions (EC2) is listed in every region our servers or records use.
  const regions = [...new Set([...await recordedRegions(deps.db, slugs), ...(await deps.host.regionsOf?.(slug) ?? [])])];
  for await (const o of provider.listOurs!(regions)) {
    if (o.state === 'gone' || o.markerSnapshotId === null) continue;
    listed.add(o.providerSnapshotId);
    if (await isAccounted(deps.db, slugs, { providerSnapshotId: o.providerSnapshotId, markerSnapshotId: o.markerSnapshotId, name: o.name })) continue;
    const server = o.sourceInstanceId ? await deps.host.serverByInstance?.(slug, o.sourceInstanceId) : undefined;
    const now = await deps.clock.now(deps.db);
    const id = await insertFound(deps.db, {
      slugs, serverId: server?.id ?? 0,
      serverName: server ? serverDisplayName(server, server.id) : `unknown server${o.sourceInstanceId ? ` (instance ${o.sourceInstanceId})` : ''}`,
      instanceId: o.sourceInstanceId, region: o.region ?? server?.region ?? null, provider: slug, providerType: provider.type, providerSnapshotId: o.providerSnapshotId,
      name: o.name ?? `found-${o.providerSnapshotId}`, sizeBytes: o.sizeBytes ?? null, now,
    });
    if (id === null) continue;
    found += 1;
    await recordEvent(deps.db, {
      snapshotId: id, serverId: server?.id ?? null, actor: 'reconcile', action: 'found',
      detail: `Found at ${provider.displayName}, not in this list: ${o.providerSnapshotId} (${o.name ?? 'no name'}) carries our marker but had no record. It is never deleted automatically; Trash deletes it at the provider, Delete Record forgets it.`,
      at: now,
    });
  }
  // The listing was complete (it would have thrown otherwise): what it lacked is gone.
  const now = await deps.clock.now(deps.db);
  const gone = await noteMissing(deps.db, slug, listed, now, MISSING_GRACE_MS, (since) =>
    `${provider.displayName} no longer lists this snapshot (missing since ${since.toISOString().slice(0, 16).replace('T', ' ')} UTC): it was probably deleted outside the panel. Check the provider's dashboard; Delete Record removes it from this list.`);
  if (gone > 0) deps.log.warn({ provider: slug, gone }, 'snapshots in our list are no longer at the provider');
  return found;
}
