/** Table types as our code names them (the prefix plugin in db.ts adds the WordPress prefix). */

import type { ColumnType, Generated } from 'kysely';

type Id = Generated<number>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface SchedulesTable {
  id: Id;
  name: string;
  interval_minutes: number | null;
  cron: string | null;
  timezone: string;
  /** Minutes after each slot the servers are spread over; null = the timing's default. */
  spread_minutes: number | null;
  keep_last: number | null;
  keep_hourly: number | null;
  keep_daily: number | null;
  keep_weekly: number | null;
  keep_monthly: number | null;
  keep_yearly: number | null;
  max_age_days: number | null;
  min_keep: number;
  enabled: number;
  no_reboot: number;
  /** Health limits in minutes; null = the default (health/freshness.ts). */
  warn_after_minutes: number | null;
  critical_after_minutes: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AssignmentsTable {
  id: Id;
  server_id: number;
  schedule_id: number;
  /** The next slot this assignment owes a snapshot for. The dispatch claim reads this index. */
  next_slot_at: Timestamp;
  /** A sentence when the server cannot be snapshotted (gone from the panel, no provider). */
  problem: string | null;
  created_at: Timestamp;
}

export type SnapshotStatus =
  | 'requested' | 'creating' | 'available' | 'failed'
  | 'deleting' | 'delete_failed' | 'superseded';
/** `found`: carries our marker at the provider but had no record (reconciliation, engine/reconcile.ts). */
export type SnapshotOrigin = 'scheduled' | 'manual' | 'panel' | 'found';

export interface SnapshotsTable {
  id: Id;
  server_id: number;
  schedule_id: number | null;
  /** The schedule slot this snapshot belongs to; unique with (server_id, schedule_id). */
  slot_at: Timestamp | null;
  origin: SnapshotOrigin;
  status: SnapshotStatus;
  provider: string | null;
  provider_type: string | null;
  provider_snapshot_id: string | null;
  /** Provider-side reference needed to follow a creation (DigitalOcean action id). */
  pending_ref: string | null;
  name: string;
  server_name: string | null;
  instance_id: string | null;
  /** The server's region at request time (migration 0012), for adapters that work per region. */
  region: string | null;
  /** The schedule's "no reboot" wish, copied at dispatch; null for manual and panel snapshots. */
  no_reboot: number | null;
  size_bytes: number | null;
  keep_forever: number;
  delete_not_before: Timestamp | null;
  note: string | null;
  last_error: string | null;
  attempts: number;
  /** When the engine owes this row work (create, poll, delete); null when at rest. Also the lease expiry. */
  next_attempt_at: Timestamp | null;
  /** Claim token of the sidecar holding the lease; only it may finish the work. */
  lease_owner: string | null;
  requested_by: string;
  created_at: Timestamp;
  available_at: Timestamp | null;
  /** Since when reconciliation no longer finds this available snapshot at the provider; null while it does. */
  missing_since: Timestamp | null;
  updated_at: Timestamp;
}

export interface EventsTable {
  id: Id;
  snapshot_id: number | null;
  schedule_id: number | null;
  server_id: number | null;
  actor: string;
  action: string;
  detail: string | null;
  at: Timestamp;
}

export interface NoncesTable {
  nonce: string;
  expires_at: Timestamp;
}

export interface SandboxSnapshotsTable {
  id: Id;
  provider: string;
  instance_id: string;
  name: string;
  state: 'pending' | 'available' | 'failed';
  ready_at: Timestamp;
  size_bytes: number;
  created_at: Timestamp;
}

export type HealthState = 'ok' | 'warning' | 'failing' | 'critical';

export interface IncidentsTable {
  id: Id;
  server_id: number;
  /** The server id while the incident is open, NULL once resolved (unique: one open per server). */
  open_server_id: number | null;
  schedule_id: number | null;
  state: Exclude<HealthState, 'ok'>;
  server_name: string | null;
  schedule_name: string | null;
  reason: string | null;
  started_at: Timestamp;
  resolved_at: Timestamp | null;
}

export interface AlertDeliveriesTable {
  id: Id;
  dedupe_key: string;
  incident_id: number | null;
  channel: 'email' | 'webhook';
  kind: 'open' | 'recovery' | 'digest';
  /** The message as JSON, fixed when enqueued: a re-send after a crash is the same message. */
  payload: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: Timestamp | null;
  lease_owner: string | null;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
}

export interface AlertRunsTable {
  name: string;
  lease_owner: string | null;
  lease_until: Timestamp;
  last_run_at: Timestamp | null;
}

/** A token bucket of one provider account's request budget (one row per window). */
export interface RequestBudgetsTable {
  account_key: string;
  window_ms: number;
  capacity: number;
  refill_per_ms: number;
  tokens: number;
  refilled_at: Timestamp;
}

export interface ReconcileRunsTable {
  provider: string;
  next_run_at: Timestamp;
  last_owner: string | null;
  last_run_at: Timestamp | null;
  last_found: number;
}

export interface ForgottenSnapshotsTable {
  provider: string;
  provider_snapshot_id: string;
  forgotten_at: Timestamp;
}

export interface PostsTable {
  ID: number;
  post_type: string;
  post_status: string;
  post_title: string;
}

export interface PostmetaTable {
  meta_id: number;
  post_id: number;
  meta_key: string;
  meta_value: string | null;
}

/** WordPress's options table: read only, for WPCloudDeploy's settings (sidecar/wpcd/). */
export interface OptionsTable {
  option_id: number;
  option_name: string;
  option_value: string;
  autoload: string;
}

export interface Database {
  ss_schedules: SchedulesTable;
  ss_assignments: AssignmentsTable;
  ss_snapshots: SnapshotsTable;
  ss_events: EventsTable;
  ss_nonces: NoncesTable;
  ss_sandbox_snapshots: SandboxSnapshotsTable;
  ss_incidents: IncidentsTable;
  ss_alert_deliveries: AlertDeliveriesTable;
  ss_alert_runs: AlertRunsTable;
  ss_request_budgets: RequestBudgetsTable;
  ss_reconcile_runs: ReconcileRunsTable;
  ss_forgotten_snapshots: ForgottenSnapshotsTable;
  posts: PostsTable;
  postmeta: PostmetaTable;
  options: OptionsTable;
}
