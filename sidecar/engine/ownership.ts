/**
 * Ownership: the sidecar deletes at the provider only what is ours. A record's provider id
 * could name another server's image (a host bug, another plugin firing the backup-tab hook,
 * a write to the shared database), and a delete would destroy it — on AWS the AMI and its EBS
 * snapshots. So before every provider delete the engine re-reads the object and requires
 * either our marker with this record's name, or that it was made from this record's server
 * (the binding a panel snapshot has: Hetzner `created_from`, the sandbox's instance, …).
 */
import type { Provider, ServerRef, SnapshotFacts } from '../providers/types.js';
import type { SnapshotRow } from '../store/snapshots.js';

export type Ownership =
  | { kind: 'ours' }
  | { kind: 'gone' }
  /** The adapter cannot tell (no `describe`): the record's id is trusted as before. */
  | { kind: 'unknown' }
  | { kind: 'foreign'; sentence: string };

export async function checkOwnership(provider: Provider, server: ServerRef, row: Pick<SnapshotRow, 'provider_snapshot_id' | 'name' | 'instance_id' | 'server_name' | 'origin'>, listed?: SnapshotFacts): Promise<Ownership> {
  if (!provider.describe || !row.provider_snapshot_id) return { kind: 'unknown' };
  // Facts from this round's batched list serve as well as a describe of its own.
  const facts = listed ?? await provider.describe(server, row.provider_snapshot_id);
  if (!facts) return { kind: 'gone' };
  if (carriesOurMarker(facts, row.name) || madeFrom(facts, row.instance_id)) return { kind: 'ours' };
  // Where the API never names the source server, a panel record cannot be checked (docs/providers.md).
  if (row.origin === 'panel' && facts.sourceNeverReported) return { kind: 'unknown' };
  return { kind: 'foreign', sentence: foreignSentence(provider, row.provider_snapshot_id, facts, row.server_name) };
}

/** Our marker, and the name this record gave it (a restored database may reuse our ids). */
function carriesOurMarker(facts: SnapshotFacts, name: string): boolean {
  return facts.markerSnapshotId !== null && name !== '' && facts.name === name;
}

function madeFrom(facts: SnapshotFacts, instanceId: string | null): boolean {
  return facts.sourceInstanceId !== null && instanceId !== null && facts.sourceInstanceId === instanceId;
}

export function foreignSentence(provider: Provider, id: string, facts: SnapshotFacts, serverName: string | null): string {
  const from = facts.sourceInstanceId ? `was made from server ${facts.sourceInstanceId}` : 'does not say which server it was made from';
  return `${provider.displayName} snapshot ${id} belongs to another server: it ${from} and does not carry our marker for ${serverName ?? 'this server'}, so it was not deleted. Remove it from this list with Delete Record; delete it in the provider's dashboard only if you are sure it is not needed.`;
}
