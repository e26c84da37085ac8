/**
 * The one interface every cloud provider adapter implements.
 *
 * The engine never talks HTTP itself: it asks an adapter to create, follow, find and delete
 * snapshots, and turns the adapter's answers (or its ProviderError) into states and audit
 * events. One adapter per file in this folder.
 */

/** What the engine knows about the server it wants snapshotted (read from the host's tables). */
export interface ServerRef {
  /** WordPress post id of the `wpcd_app_server` post. */
  serverId: number;
  /** The provider's own id of the instance (droplet id, Linode id, EC2 instance id, …). */
  instanceId: string;
  region: string | null;
  name: string | null;
}

/** How we mark a snapshot as ours, so that we can find it again after a crash. */
export interface SnapshotMarker {
  /** Our snapshot id (row id in `ss_snapshots`). */
  snapshotId: number;
  /**
   * Unique name containing our snapshot id, e.g. `ss-42-web1-20261127T0300Z`.
   * Adapters use it as name / description / label as the provider allows.
   */
  name: string;
  /** Per-schedule options an adapter may honour (AWS: noReboot, default true). */
  options?: { noReboot?: boolean };
}

export type ProviderSnapshotState = 'creating' | 'available' | 'failed' | 'gone';

export interface ProviderSnapshot {
  /** The provider's own id of the snapshot / image / backup, as a string. */
  providerSnapshotId: string;
  state: ProviderSnapshotState;
  /** Size in bytes where the provider tells it. */
  sizeBytes?: number | null;
  /** Plain sentence when state is `failed`. */
  reason?: string | null;
}

export interface CreateResult {
  /**
   * The provider's id of the new snapshot when the provider gives it at once.
   * DigitalOcean gives only an action id: the adapter then returns `pendingRef` and
   * resolves the real id in `status()`.
   */
  providerSnapshotId: string | null;
  /** Opaque reference the adapter needs to follow the creation (e.g. DO action id). */
  pendingRef?: string | null;
  state: ProviderSnapshotState;
  sizeBytes?: number | null;
  /**
   * Linode: the provider dropped the previous snapshot of this server when this one was
   * created (single slot). The engine marks our older record `superseded`.
   */
  supersedesPrevious?: boolean;
}

export interface ProviderCapabilities {
  create: boolean;
  /** Can a single snapshot be deleted through the API? (Linode: no.) */
  delete: boolean;
  /** Does the provider keep labels/tags/metadata on the snapshot? */
  labels: boolean;
  /** Number of snapshot slots per server the provider keeps (Linode: 1), or null for no limit. */
  slotsPerServer: number | null;
  /** Sentence for the screens, e.g. "Linode keeps only the latest snapshot of each server." */
  notes: string[];
}

export interface Provider {
  /** The provider slug this adapter serves (key in the providers file). */
  readonly slug: string;
  /** `sandbox`, `vultr`, `awsec2`, `hetzner`, `digitalocean`, `linode`, `openstack`. */
  readonly type: string;
  /** Display name, e.g. "Hetzner Cloud". */
  readonly displayName: string;
  readonly capabilities: ProviderCapabilities;

  /** Ask the provider to snapshot the server. Must send marker.name (and labels where possible). */
  create(server: ServerRef, marker: SnapshotMarker): Promise<CreateResult>;

  /**
   * Current state of a snapshot we know. `providerSnapshotId` may be null when creation
   * returned only `pendingRef` (DigitalOcean action id); the adapter resolves the real id and
   * returns it.
   */
  status(
    server: ServerRef,
    ref: { providerSnapshotId: string | null; pendingRef?: string | null; marker: SnapshotMarker },
  ): Promise<ProviderSnapshot>;

  /** Find a snapshot we created by its marker (after a crash between create and storing the id). */
  findByMarker(server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null>;

  /**
   * Delete a snapshot at the provider. Resolves when deleted or already gone.
   * Throws ProviderError with code `unsupported` where the provider cannot delete.
   */
  delete(server: ServerRef, providerSnapshotId: string): Promise<{ alreadyGone: boolean }>;

  /**
   * Resolve what the host's backup tab recorded (`$result['snapshot-id']`) to a snapshot id.
   * Only DigitalOcean needs this (the host stores an action id); others return the input.
   */
  resolvePanelSnapshotId?(server: ServerRef, hostId: string): Promise<ProviderSnapshot>;
}

/**
 * Error classes the engine understands. `retryable` errors are tried again later with
 * capped exponential backoff; others become a visible `failed` / `delete_failed` state.
 */
export type ProviderErrorCode =
  | 'auth' // credentials refused
  | 'permission' // credentials lack a permission
  | 'not_found' // the server (instance) does not exist at the provider
  | 'rate_limited' // 429 or equivalent; retryAfterMs says when
  | 'busy' // server busy / conflicting request; try later
  | 'transient' // 5xx, timeout, connection reset
  | 'invalid' // the provider refused the request as invalid
  | 'unsupported' // the provider cannot do this (e.g. Linode single delete)
  | 'not_enabled' // a provider feature must be enabled first (Linode Backup service)
  | 'bad_response' // the provider answered something we cannot understand
  | 'failed'; // anything else, final

export class ProviderError extends Error {
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  /** HTTP status where there was one (never shown to users on its own). */
  readonly status: number | null;

  /** `message` is a plain sentence for `lastError`: never a raw body, never a secret. */
  constructor(
    code: ProviderErrorCode,
    message: string,
    opts: { retryAfterMs?: number | null; status?: number | null; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProviderError';
    this.code = code;
    this.retryable = code === 'rate_limited' || code === 'busy' || code === 'transient';
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.status = opts.status ?? null;
  }
}

/** Configuration entry from the providers file (already validated). */
export interface ProviderConfig {
  type: string;
  apiUrl?: string;
  [key: string]: unknown;
}
