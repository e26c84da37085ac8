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
  /** The provider's own name of the snapshot, where its answer tells it (a panel snapshot's row takes it). */
  name?: string | null;
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
   * Used when the host marks its id `intermediate` (WPCD's `snapshot-id-type`; DigitalOcean's
   * action id), or, when the host says nothing, for every adapter that has it.
   */
  resolvePanelSnapshotId?(server: ServerRef, hostId: string): Promise<ProviderSnapshot>;

  /**
   * What the provider says about one snapshot, for the ownership check before every delete
   * (engine/ownership.ts); null when the provider no longer has it. `server` is the record's
   * server (EC2 looks in its region).
   */
  describe?(server: ServerRef, providerSnapshotId: string): Promise<SnapshotFacts | null>;

  /**
   * Every snapshot of this account that carries our marker, through the provider's own list
   * filter where it has one (label selector, tag, description). Reconciliation
   * (engine/reconcile.ts) records the ones without a record as `found`. `regions`: the
   * regions the account's servers and records use; EC2 lists each of them (and the entry's
   * own), the others have one listing per account and ignore it.
   */
  listOurs?(regions?: readonly string[]): AsyncIterable<SnapshotFacts>;

  /**
   * Many of our snapshots in as few list requests as the API allows (Hetzner: one label
   * selector per page of 50; EC2: DescribeImages by `image-id` filter; OpenStack: Glance
   * `id=in:…`; Vultr, DigitalOcean: the account's list, where it is cheaper than a GET each),
   * keyed by `batchReadKey(ref)`. The engine reads the snapshots it follows (`creating`) and is
   * about to delete this way, one call per account per round, instead of one GET each. A
   * snapshot missing from the answer is not proof it is gone: the engine asks about it on its
   * own (status / describe).
   */
  describeMany?(refs: ReadonlyArray<BatchReadRef>): Promise<Map<string, SnapshotFacts>>;

  /** How describeMany wants its refs (engine/batch-reads.ts); without it: pages of 50, one group, ids only. */
  readonly batchReads?: BatchReadOptions;
}

/** One snapshot the engine asks about through describeMany. */
export interface BatchReadRef {
  /** Our snapshot id. */
  snapshotId: number;
  /** The provider's id; null only where the adapter follows `pendingRef` (batchReads.pending). */
  providerSnapshotId: string | null;
  /** What create() returned besides the id (DigitalOcean: the action id; EC2: when it was made). */
  pendingRef?: string | null;
  /** Our marker name of the snapshot (the record's name). */
  name?: string;
  /** The record's server: the provider's instance id and region. */
  instanceId?: string | null;
  region?: string | null;
  /** `creating`: followed to available; `deleting`: its ownership is checked before the delete. */
  purpose?: 'follow' | 'delete';
}

export interface BatchReadOptions {
  /** Refs per describeMany call (a page of the provider's list, or what one call answers well). */
  size: number;
  /** Refs with different groups never share a call (EC2: one call per region). */
  groupOf?(ref: BatchReadRef): string;
  /** Refs without a provider id yet (DigitalOcean's pending actions) are read in batches too. */
  pending?: boolean;
}

/** The key describeMany answers a ref under: its provider id, or its pending reference. */
export function batchReadKey(ref: Pick<BatchReadRef, 'providerSnapshotId' | 'pendingRef'>): string {
  return ref.providerSnapshotId ?? `pending:${ref.pendingRef ?? ''}`;
}

/** A snapshot as the provider describes it: whose it is and where it was made from. */
export interface SnapshotFacts extends ProviderSnapshot {
  /** The name / description / label the object carries (our marker name when it is ours). */
  name: string | null;
  /** Our snapshot id from the object's marker (label, tag or name), or null when it has none. */
  markerSnapshotId: number | null;
  /** The provider's id of the server it was made from, where the API tells; null otherwise. */
  sourceInstanceId: string | null;
  /** The region it was listed in, where the account spans regions (EC2); a found record keeps it. */
  region?: string | null;
  /**
   * True where the provider's API never says which server a snapshot was made from (Vultr):
   * a panel record cannot be checked then, and is trusted as the host recorded it.
   */
  sourceNeverReported?: boolean;
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

/** The codes the engine tries again later (with backoff, or after `retryAfterMs`). */
export const RETRYABLE_CODES: ReadonlySet<ProviderErrorCode> = new Set(['rate_limited', 'busy', 'transient']);

/**
 * How the sentence of a retryable error promises another try. The promise is never written
 * into an adapter's sentence: `ProviderError` appends it to `what`, so whatever must say
 * something else once the retries are over (see `gaveUpSentence`) builds it from `what`.
 */
export type RetryPromise =
  /** "…; it will be tried again later." / "…; they will be tried again in 30 s." */
  | { kind: 'tried again'; subject?: 'it' | 'they' | 'the request' | 'the snapshot'; inMs?: number }
  /** "…; the request will be sent in about 12 s." (our own request budget: nothing was sent) */
  | { kind: 'sent'; inMs: number }
  /** "…; we will try again shortly." */
  | { kind: 'shortly' }
  /** "…; we will keep trying." */
  | { kind: 'keep trying' };

/** The promise as the end of a sentence: "it will be tried again later." */
export function retryPromiseText(p: RetryPromise): string {
  const seconds = (ms: number): number => Math.ceil(ms / 1000);
  switch (p.kind) {
    case 'tried again':
      return `${p.subject ?? 'it'} will be tried again ${p.inMs === undefined ? 'later' : `in ${seconds(p.inMs)} s`}.`;
    case 'sent':
      return `the request will be sent in about ${seconds(p.inMs)} s.`;
    case 'shortly':
      return 'we will try again shortly.';
    case 'keep trying':
      return 'we will keep trying.';
  }
}

/** What a ProviderError is about, for code that needs more than its sentence. */
export interface ProviderErrorParams {
  /** The provider's name as the sentence gives it, e.g. "Hetzner". */
  provider?: string;
  /** HTTP status where there was one. */
  status: number | null;
  /** Requests made before giving up, where the adapter retried itself. */
  attempts?: number;
  retryAfterMs: number | null;
  /** The provider's own error code (AWS `RequestLimitExceeded`, Hetzner `locked`, `ECONNRESET`, …). */
  providerCode?: string;
  /**
   * The provider is busy with work that is not a failure of ours (DigitalOcean: another action
   * runs on the droplet, which may be our own create whose answer was lost). The engine waits
   * `retryAfterMs` without counting a failed attempt, as for its own request budget.
   */
  wait?: boolean;
}

export class ProviderError extends Error {
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  /** HTTP status where there was one (never shown to users on its own). */
  readonly status: number | null;
  /** The sentence of what happened, without any promise to try again. */
  readonly what: string;
  /** The promise `message` ends with (retryable codes only), or null. */
  readonly promise: RetryPromise | null;
  readonly params: Readonly<ProviderErrorParams>;

  /**
   * `what` is a plain sentence for `lastError`: never a raw body, never a secret. For a
   * retryable code, `message` is `what` with the retry promise appended ("Hetzner is busy
   * with this server; it will be tried again later."); otherwise `message` is `what`.
   */
  constructor(
    code: ProviderErrorCode,
    what: string,
    opts: {
      retryAfterMs?: number | null;
      status?: number | null;
      cause?: unknown;
      /** How to promise the retry; default "it will be tried again later". Ignored for codes that are not retried. */
      retry?: RetryPromise;
      params?: Partial<Omit<ProviderErrorParams, 'status' | 'retryAfterMs'>>;
    } = {},
  ) {
    const retryable = RETRYABLE_CODES.has(code);
    const promise = retryable ? (opts.retry ?? { kind: 'tried again' }) : null;
    super(promise ? withPromise(what, promise) : what, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProviderError';
    this.code = code;
    this.retryable = retryable;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.status = opts.status ?? null;
    this.what = what;
    this.promise = promise;
    this.params = Object.freeze({ ...opts.params, status: this.status, retryAfterMs: this.retryAfterMs });
  }
}

/** "X is busy." + "it will be tried again later." → "X is busy; it will be tried again later." */
function withPromise(what: string, promise: RetryPromise): string {
  return `${what.replace(/\.$/, '')}; ${retryPromiseText(promise)}`;
}

/** Configuration entry from the providers file (already validated). */
export interface ProviderConfig {
  type: string;
  apiUrl?: string;
  [key: string]: unknown;
}
