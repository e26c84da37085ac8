/**
 * Linode (Akamai) adapter: a server snapshot is the Backup service's single manual snapshot.
 *
 * Linode keeps one manual snapshot per Linode: taking a new one deletes the previous one, and
 * there is no call that deletes a single snapshot (`POST …/backups/cancel` turns the whole
 * Backup service off and drops every backup, automatic ones included). So:
 *   - create() always says `supersedesPrevious: true`: the engine keeps our older record as
 *     `superseded` history instead of losing it (the module this project replaces lost Linode history);
 *   - delete() refuses with `unsupported` and sends nothing — this file never calls cancel.
 *
 * The Backup service must be enabled on the Linode first; its absence gets its own error
 * code (`not_enabled`) and a sentence that says where to switch it on.
 *
 * No batched status reads (no `describeMany`): a snapshot lives under its Linode's own
 * `/linode/instances/{id}/backups`, and the API has no account-wide list of backups or
 * snapshots to read many from. The instance list's `backups.last_successful` is one time
 * for every kind of backup, not this snapshot's state, so it cannot stand in for one. Each
 * snapshot is followed with `GET …/backups/{backupId}` per poll round, and there is no delete.
 */
import { z } from 'zod';
import type { ProviderContext } from './context.js';
import { budgetLimits } from './http/budget.js';
import { createHttpClient, type HttpClient } from './http/client.js';
import { restTuningShape } from './http/config.js';
import { type HttpFailure, parseBody, providerMessage } from './http/failures.js';
import {
  ProviderError,
  type CreateResult,
  type Provider,
  type ProviderCapabilities,
  type ProviderSnapshot,
  type ServerRef,
  type SnapshotMarker,
} from './types.js';

export const LINODE_API_URL = 'https://api.linode.com/v4';

export const linodeConfigSchema = z.object({
  type: z.literal('linode'),
  token: z.string().min(1, 'token is required'),
  /** `apiUrl` replaces `https://api.linode.com/v4`; `budget`, `timeoutMs`, `maxRateLimitWaitMs` as in http/config.ts. */
  ...restTuningShape,
}).strict();

export type LinodeConfig = z.input<typeof linodeConfigSchema>;

export const LINODE_NOT_ENABLED_MESSAGE =
  "Linode's Backup service is not enabled on this Linode: enable it in Cloud Manager (Backups tab) and try again.";

export const LINODE_CANNOT_DELETE_MESSAGE =
  'Linode cannot delete a single snapshot; it stays at Linode until the next snapshot of this server replaces it, so only our record can be removed.';

const CAPABILITIES: ProviderCapabilities = {
  create: true,
  delete: false,
  labels: false,
  slotsPerServer: 1,
  notes: [
    'Linode keeps only the latest snapshot of each server: taking a snapshot replaces the previous one, which stays in this list as history.',
    'Linode cannot delete a single snapshot: Trash removes only our record, and the snapshot stays at Linode until the next one replaces it.',
    "Snapshots need Linode's Backup service (a paid add-on) enabled on each Linode.",
  ],
};

/** A backup as Linode returns it (the fields we read). */
const backupSchema = z.object({
  id: z.union([z.number(), z.string()]),
  label: z.string().nullable().optional(),
  type: z.string().optional(),
  status: z.string(),
});
type LinodeBackup = z.infer<typeof backupSchema>;

const backupsListSchema = z.object({
  automatic: z.array(backupSchema).optional(),
  snapshot: z
    .object({ current: backupSchema.nullable().optional(), in_progress: backupSchema.nullable().optional() })
    .optional(),
});

/** Linode labels for backups: kept short and printable; the marker name already is. */
export function linodeLabel(marker: SnapshotMarker): string {
  return marker.name.slice(0, 255);
}

function linodeId(server: ServerRef): string {
  const id = server.instanceId.trim();
  if (!/^\d{1,18}$/.test(id)) {
    throw new ProviderError('not_found', `"${server.instanceId}" is not a Linode id (Linode ids are numbers): check the server's instance id.`);
  }
  return id;
}

function reasonOf(body: unknown): string {
  return providerMessage(body) ?? '';
}

export function createLinodeProvider(slug: string, input: LinodeConfig, ctx: ProviderContext): Provider {
  const config = linodeConfigSchema.parse(input);
  const log = ctx.log.child({ provider: slug, type: 'linode' });
  const baseURL = (config.apiUrl ?? LINODE_API_URL).replace(/\/+$/, '');
  const budget = ctx.budgets.forAccount(
    { type: 'linode', baseURL, credential: config.token },
    budgetLimits('linode', config.budget),
  );

  function describeFailure(f: HttpFailure): ProviderError | undefined {
    const reason = reasonOf(f.body);
    if (f.status === 401) {
      return new ProviderError('auth', `Linode refused the API token for provider "${slug}": check "token" in the providers file (it may have expired or been revoked).`, { status: 401 });
    }
    if (f.status === 403) {
      return new ProviderError('permission', `The Linode API token for provider "${slug}" may not do this: give it read/write access to Linodes.`, { status: 403 });
    }
    if (f.status === 404) {
      return new ProviderError('not_found', 'Linode does not know this Linode (or this backup): check the server\'s instance id.', { status: 404 });
    }
    if (f.status === 400 && /busy/i.test(reason)) {
      return new ProviderError('busy', `Linode says this Linode is busy (${reason}).`, {
        status: 400, retry: { kind: 'tried again', subject: 'the snapshot' }, params: { provider: 'Linode', attempts: f.attempts },
      });
    }
    if (f.status === 400 || f.status === 422) {
      return new ProviderError('invalid', reason ? `Linode refused the request: ${reason}.` : `Linode refused the request as invalid (HTTP ${f.status}).`, { status: f.status });
    }
    return undefined;
  }

  const http: HttpClient = createHttpClient({
    baseURL,
    headers: { Authorization: `Bearer ${config.token}` },
    providerName: 'Linode',
    log,
    budget,
    ...(config.maxRateLimitWaitMs !== undefined ? { retry: { maxRateLimitWaitMs: config.maxRateLimitWaitMs } } : {}),
    ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
    ...(ctx.now ? { now: ctx.now } : {}),
    describeFailure,
  });

  function toSnapshot(b: LinodeBackup): ProviderSnapshot {
    const id = String(b.id);
    switch (b.status) {
      case 'successful':
        return { providerSnapshotId: id, state: 'available', sizeBytes: null };
      case 'failed':
        return { providerSnapshotId: id, state: 'failed', reason: 'Linode reports that the snapshot failed.' };
      case 'userAborted':
        return { providerSnapshotId: id, state: 'failed', reason: 'The snapshot was cancelled at Linode before it finished.' };
      case 'paused':
      case 'pending':
      case 'running':
      case 'needsPostProcessing':
        return { providerSnapshotId: id, state: 'creating', sizeBytes: null };
      default:
        log.warn({ backupId: id, status: b.status }, 'unknown Linode backup status, treating as still creating');
        return { providerSnapshotId: id, state: 'creating', sizeBytes: null };
    }
  }

  /** Is the Backup service off on this Linode? null when we could not tell. */
  async function backupsDisabled(id: string): Promise<boolean | null> {
    try {
      const res = await http.request<{ backups?: { enabled?: unknown } } | null>({ method: 'GET', url: `/linode/instances/${id}` });
      const enabled = res.data?.backups?.enabled;
      return typeof enabled === 'boolean' ? !enabled : null;
    } catch {
      return null;
    }
  }

  async function create(server: ServerRef, marker: SnapshotMarker): Promise<CreateResult> {
    const id = linodeId(server);
    let res;
    try {
      res = await http.request({
        method: 'POST',
        url: `/linode/instances/${id}/backups`,
        data: { label: linodeLabel(marker) },
        describeFailure: (f) => (/backup/i.test(reasonOf(f.body)) && /not (been )?enabled|disabled|enable/i.test(reasonOf(f.body))
          ? new ProviderError('not_enabled', LINODE_NOT_ENABLED_MESSAGE, { status: f.status })
          : undefined),
      });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      // A 5xx, timeout or reset after the POST left: Linode may have taken the snapshot.
      // Look for our label before anyone tries again (the HTTP client never resends a POST blindly).
      // "Busy" may be our own snapshot still running (create repeated after a crash): same look.
      if (err.code === 'transient' || err.code === 'busy') {
        const found = await findByMarker(server, marker).catch(() => null);
        if (found) {
          log.info({ backupId: found.providerSnapshotId, code: err.code }, 'snapshot request failed, but Linode has our snapshot: adopted');
          return { providerSnapshotId: found.providerSnapshotId, state: found.state, sizeBytes: null, supersedesPrevious: true };
        }
      }
      // Linode's exact wording for "Backup service off" is not documented: when a refusal is not
      // already recognised, ask the Linode itself (`backups.enabled`) before calling it invalid.
      if ((err.code === 'invalid' || err.code === 'permission') && (await backupsDisabled(id)) === true) {
        throw new ProviderError('not_enabled', LINODE_NOT_ENABLED_MESSAGE, { status: err.status });
      }
      throw err;
    }
    const snap = toSnapshot(parseBody(backupSchema, res.data, 'Linode', 'the new snapshot'));
    log.info({ backupId: snap.providerSnapshotId }, 'Linode snapshot requested; it replaces the previous one');
    return { providerSnapshotId: snap.providerSnapshotId, state: snap.state, sizeBytes: null, supersedesPrevious: true };
  }

  async function listBackups(id: string): Promise<z.infer<typeof backupsListSchema>> {
    const res = await http.request({ method: 'GET', url: `/linode/instances/${id}/backups` });
    return parseBody(backupsListSchema, res.data, 'Linode', 'the list of backups');
  }

  async function findByMarker(server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null> {
    const id = linodeId(server);
    const list = await listBackups(id);
    const label = linodeLabel(marker);
    // The one in progress first: right after a crash, that is where our new snapshot is.
    for (const b of [list.snapshot?.in_progress, list.snapshot?.current]) {
      if (b && b.label === label) return toSnapshot(b);
    }
    return null;
  }

  async function status(
    server: ServerRef,
    ref: { providerSnapshotId: string | null; pendingRef?: string | null; marker: SnapshotMarker },
  ): Promise<ProviderSnapshot> {
    const id = linodeId(server);
    if (!ref.providerSnapshotId) {
      const found = await findByMarker(server, ref.marker);
      if (!found) throw new ProviderError('failed', `Linode has no snapshot labelled "${linodeLabel(ref.marker)}" on this Linode: it was never taken, or a newer snapshot replaced it.`);
      return found;
    }
    if (!/^\d{1,18}$/.test(ref.providerSnapshotId)) {
      throw new ProviderError('invalid', `"${ref.providerSnapshotId}" is not a Linode backup id.`);
    }
    try {
      const res = await http.request({ method: 'GET', url: `/linode/instances/${id}/backups/${ref.providerSnapshotId}` });
      return toSnapshot(parseBody(backupSchema, res.data, 'Linode', 'the snapshot'));
    } catch (err) {
      // The backup is gone: a newer snapshot replaced it (or the Backup service was cancelled).
      if (err instanceof ProviderError && err.status === 404) return { providerSnapshotId: ref.providerSnapshotId, state: 'gone' };
      throw err;
    }
  }

  async function deleteSnapshot(_server: ServerRef, providerSnapshotId: string): Promise<{ alreadyGone: boolean }> {
    // Deliberately no request: the only Linode call that removes a snapshot is
    // `POST …/backups/cancel`, which also turns off the Backup service and drops every backup.
    log.info({ backupId: providerSnapshotId }, 'Linode cannot delete a single snapshot; nothing sent');
    throw new ProviderError('unsupported', LINODE_CANNOT_DELETE_MESSAGE);
  }

  return {
    slug,
    type: 'linode',
    displayName: 'Linode (Akamai)',
    capabilities: CAPABILITIES,
    create,
    status,
    findByMarker,
    delete: deleteSnapshot,
  };
}
