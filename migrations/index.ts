/**
 * Our schema, one DDL statement per migration: MySQL/MariaDB DDL is not transactional, so a
 * step that holds a single statement either happened or did not — there is no half-applied
 * migration to repair. Table names are logical (`ss_…`); the prefix plugin adds `{prefix}`.
 * Every statement is valid on MariaDB 10.6+ and MySQL 8.
 */

import { sql, type Kysely, type Migration } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;
const T = (name: string) => sql.table(name);
const OPTIONS = sql.raw('ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci');

function ddl(up: (db: AnyDb) => Promise<unknown>): Migration {
  return { up: async (db) => { await up(db); } };
}

export const migrations: Record<string, Migration> = {
  '0001_create_schedules': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_schedules')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(190) NOT NULL,
      interval_minutes INT UNSIGNED NULL,
      cron VARCHAR(190) NULL,
      timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
      keep_last INT UNSIGNED NULL,
      keep_hourly INT UNSIGNED NULL,
      keep_daily INT UNSIGNED NULL,
      keep_weekly INT UNSIGNED NULL,
      keep_monthly INT UNSIGNED NULL,
      keep_yearly INT UNSIGNED NULL,
      max_age_days INT UNSIGNED NULL,
      min_keep INT UNSIGNED NOT NULL DEFAULT 1,
      enabled TINYINT(1) NOT NULL DEFAULT 1,
      no_reboot TINYINT(1) NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      KEY name_idx (name)
    ) ${OPTIONS}`.execute(db)),

  // The engine's dispatch claim reads (next_slot_at) with FOR UPDATE SKIP LOCKED.
  '0002_create_assignments': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_assignments')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      server_id BIGINT UNSIGNED NOT NULL,
      schedule_id BIGINT UNSIGNED NOT NULL,
      next_slot_at DATETIME(3) NOT NULL,
      problem VARCHAR(500) NULL,
      created_at DATETIME(3) NOT NULL,
      UNIQUE KEY server_schedule_uq (server_id, schedule_id),
      KEY due_idx (next_slot_at),
      KEY schedule_idx (schedule_id)
    ) ${OPTIONS}`.execute(db)),

  // One snapshot per (server, schedule, slot): the unique key makes a second dispatch of the
  // same slot impossible, whatever the sidecars do. Manual/panel rows have NULL slot_at, and
  // NULLs never collide in a unique key. The (x, id) keys serve the list's keyset pages.
  '0003_create_snapshots': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_snapshots')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      server_id BIGINT UNSIGNED NOT NULL,
      schedule_id BIGINT UNSIGNED NULL,
      slot_at DATETIME(3) NULL,
      origin VARCHAR(16) NOT NULL,
      status VARCHAR(16) NOT NULL,
      provider VARCHAR(64) NULL,
      provider_type VARCHAR(32) NULL,
      provider_snapshot_id VARCHAR(190) NULL,
      pending_ref VARCHAR(190) NULL,
      name VARCHAR(190) NOT NULL,
      server_name VARCHAR(190) NULL,
      instance_id VARCHAR(190) NULL,
      size_bytes BIGINT UNSIGNED NULL,
      keep_forever TINYINT(1) NOT NULL DEFAULT 0,
      delete_not_before DATETIME(3) NULL,
      note TEXT NULL,
      last_error VARCHAR(1000) NULL,
      attempts INT UNSIGNED NOT NULL DEFAULT 0,
      next_attempt_at DATETIME(3) NULL,
      lease_owner VARCHAR(80) NULL,
      requested_by VARCHAR(64) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      available_at DATETIME(3) NULL,
      updated_at DATETIME(3) NOT NULL,
      UNIQUE KEY slot_uq (server_id, schedule_id, slot_at),
      KEY work_idx (next_attempt_at),
      KEY server_list_idx (server_id, id),
      KEY status_list_idx (status, id),
      KEY origin_list_idx (origin, id),
      KEY schedule_list_idx (schedule_id, id),
      KEY retention_idx (server_id, schedule_id, status),
      KEY provider_ref_idx (provider, provider_snapshot_id)
    ) ${OPTIONS}`.execute(db)),

  '0004_create_events': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_events')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      snapshot_id BIGINT UNSIGNED NULL,
      schedule_id BIGINT UNSIGNED NULL,
      server_id BIGINT UNSIGNED NULL,
      actor VARCHAR(64) NOT NULL,
      action VARCHAR(64) NOT NULL,
      detail VARCHAR(2000) NULL,
      at DATETIME(3) NOT NULL,
      KEY snapshot_idx (snapshot_id, id),
      KEY at_idx (at)
    ) ${OPTIONS}`.execute(db)),

  // Seen request nonces, shared by every sidecar so a replay to another sidecar fails too.
  '0005_create_nonces': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_nonces')} (
      nonce VARCHAR(128) NOT NULL PRIMARY KEY,
      expires_at DATETIME(3) NOT NULL,
      KEY expires_idx (expires_at)
    ) ${OPTIONS}`.execute(db)),

  // The sandbox provider's simulated cloud lives in the database so that several sidecars
  // (and a restarted one) see the same "provider" — needed to prove crash recovery.
  '0006_create_sandbox_snapshots': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_sandbox_snapshots')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      provider VARCHAR(64) NOT NULL,
      instance_id VARCHAR(190) NOT NULL,
      name VARCHAR(190) NOT NULL,
      state VARCHAR(16) NOT NULL,
      ready_at DATETIME(3) NOT NULL,
      size_bytes BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      KEY name_idx (provider, name)
    ) ${OPTIONS}`.execute(db)),

  // First install: the four schedules users of the snapshot module this
  // project replaces know. A migration runs once per
  // database, so an admin who deletes them does not see them come back.
  '0007_seed_default_schedules': {
    up: async (db: AnyDb) => {
      const now = sql`UTC_TIMESTAMP(3)`;
      const rows = [
        { name: 'Every 60 Min', interval: 60, cron: null, keepLast: 24, keepDaily: null, keepWeekly: null },
        { name: 'Every 12 Hours', interval: 720, cron: null, keepLast: 14, keepDaily: null, keepWeekly: null },
        { name: 'Daily', interval: null, cron: '0 0 * * *', keepLast: null, keepDaily: 7, keepWeekly: null },
        { name: 'Every Week', interval: null, cron: '0 0 * * 6', keepLast: null, keepDaily: null, keepWeekly: 4 },
      ];
      for (const r of rows) {
        await sql`INSERT INTO ${T('ss_schedules')}
          (name, interval_minutes, cron, timezone, keep_last, keep_daily, keep_weekly, min_keep, enabled, no_reboot, created_at, updated_at)
          VALUES (${r.name}, ${r.interval}, ${r.cron}, 'UTC', ${r.keepLast}, ${r.keepDaily}, ${r.keepWeekly}, 1, 1, 1, ${now}, ${now})`.execute(db);
      }
    },
  },

  // Dispatch copies the schedule's "no reboot" wish onto the row it makes, so the engine never
  // reads the schedule again for it. NULL for manual and panel snapshots (no schedule).
  '0008_snapshot_no_reboot': ddl((db) => sql`
    ALTER TABLE ${T('ss_snapshots')} ADD COLUMN no_reboot TINYINT(1) NULL AFTER instance_id`.execute(db)),

  // Rows dispatched before 0008 still owe their provider call: give them their schedule's wish.
  '0009_backfill_snapshot_no_reboot': ddl((db) => sql`
    UPDATE ${T('ss_snapshots')} s JOIN ${T('ss_schedules')} sc ON sc.id = s.schedule_id
    SET s.no_reboot = sc.no_reboot WHERE s.no_reboot IS NULL`.execute(db)),

  // The statuses of the lifecycle (sidecar/engine/lifecycle.ts), and only those: `deleted`
  // was never written (a deleted snapshot's record leaves the table) and is no status.
  '0010_snapshot_status_check': ddl((db) => sql`
    ALTER TABLE ${T('ss_snapshots')} ADD CONSTRAINT status_ck
    CHECK (status IN ('requested', 'creating', 'available', 'failed', 'deleting', 'delete_failed', 'superseded'))`.execute(db)),

  // The sandbox's table belongs only where a sandbox provider is configured (the sidecar
  // creates it then, migrations/sandbox.ts). An empty one from 0006 goes; one holding a demo's
  // simulated snapshots stays, because those snapshots are still followed by their records.
  '0011_sandbox_snapshots_only_where_configured': {
    up: async (db: AnyDb) => {
      const held = await sql<{ one: number }>`SELECT 1 AS one FROM ${T('ss_sandbox_snapshots')} LIMIT 1`.execute(db);
      if (held.rows.length === 0) await sql`DROP TABLE IF EXISTS ${T('ss_sandbox_snapshots')}`.execute(db);
    },
  },

  // Health (docs/alerts.md): per-schedule freshness limits; NULL means the default
  // (warn after twice the interval or longest cron gap, critical after four times).
  '0012_schedules_add_warn_after': ddl((db) => sql`
    ALTER TABLE ${T('ss_schedules')} ADD COLUMN warn_after_minutes INT UNSIGNED NULL`.execute(db)),

  '0013_schedules_add_critical_after': ddl((db) => sql`
    ALTER TABLE ${T('ss_schedules')} ADD COLUMN critical_after_minutes INT UNSIGNED NULL`.execute(db)),

  // Health reads, per assignment, the newest good slot and the newest non-failed slot: with
  // this key both are a short covering-index lookup, so 10,000 servers stay one cheap pass.
  '0014_snapshots_add_health_index': ddl((db) => sql`
    CREATE INDEX health_idx ON ${T('ss_snapshots')} (server_id, schedule_id, status, slot_at)`.execute(db)),

  // An incident: one server in one bad state, from when it entered it until it left it.
  // open_server_id is the server id while open and NULL once resolved: the unique key allows
  // one open incident per server, so two sidecars evaluating at once cannot open two.
  '0015_create_incidents': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_incidents')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      server_id BIGINT UNSIGNED NOT NULL,
      open_server_id BIGINT UNSIGNED NULL,
      schedule_id BIGINT UNSIGNED NULL,
      state VARCHAR(16) NOT NULL,
      server_name VARCHAR(190) NULL,
      schedule_name VARCHAR(190) NULL,
      reason VARCHAR(1000) NULL,
      started_at DATETIME(3) NOT NULL,
      resolved_at DATETIME(3) NULL,
      UNIQUE KEY open_uq (open_server_id),
      KEY server_idx (server_id, id),
      KEY resolved_idx (resolved_at)
    ) ${OPTIONS}`.execute(db)),

  // Alert messages owed to a channel, claimed like snapshot work (next_attempt_at is also
  // the lease expiry). dedupe_key makes "one message per incident change per channel" a
  // database fact, whichever sidecar enqueues it first.
  '0016_create_alert_deliveries': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_alert_deliveries')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      dedupe_key VARCHAR(190) NOT NULL,
      incident_id BIGINT UNSIGNED NULL,
      channel VARCHAR(16) NOT NULL,
      kind VARCHAR(16) NOT NULL,
      payload TEXT NOT NULL,
      status VARCHAR(16) NOT NULL,
      attempts INT UNSIGNED NOT NULL DEFAULT 0,
      next_attempt_at DATETIME(3) NULL,
      lease_owner VARCHAR(80) NULL,
      last_error VARCHAR(1000) NULL,
      created_at DATETIME(3) NOT NULL,
      sent_at DATETIME(3) NULL,
      UNIQUE KEY dedupe_uq (dedupe_key),
      KEY work_idx (next_attempt_at),
      KEY incident_idx (incident_id)
    ) ${OPTIONS}`.execute(db)),

  // Named leases for work only one sidecar should do at a time (the health evaluation).
  '0017_create_alert_runs': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_alert_runs')} (
      name VARCHAR(64) NOT NULL PRIMARY KEY,
      lease_owner VARCHAR(80) NULL,
      lease_until DATETIME(3) NOT NULL,
      last_run_at DATETIME(3) NULL
    ) ${OPTIONS}`.execute(db)),

  // The timeline picture reads one server's audit events of the last 30/90 days.
  '0018_events_add_server_index': ddl((db) => sql`
    CREATE INDEX server_at_idx ON ${T('ss_events')} (server_id, at)`.execute(db)),

  // The server's region when the snapshot was asked for: an EC2 image lives in that region,
  // and WPCloudDeploy keeps all EC2 servers under one slug, so the region travels with the row
  // (also after the server is gone). NULL: the provider entry's region applies.
  '0019_snapshot_region': ddl((db) => sql`
    ALTER TABLE ${T('ss_snapshots')} ADD COLUMN region VARCHAR(64) NULL AFTER instance_id`.execute(db)),

  // One request budget per provider account, shared by every sidecar: a token bucket per
  // (account, window), taken under FOR UPDATE so N sidecars together keep the account's limit
  // (sidecar/store/budgets.ts). `account_key` is a hash; the credential is never stored.
  '0020_create_request_budgets': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_request_budgets')} (
      account_key CHAR(64) NOT NULL,
      window_ms INT UNSIGNED NOT NULL,
      capacity DOUBLE NOT NULL,
      refill_per_ms DOUBLE NOT NULL,
      tokens DOUBLE NOT NULL,
      refilled_at DATETIME(3) NOT NULL,
      PRIMARY KEY (account_key, window_ms)
    ) ${OPTIONS}`.execute(db)),

  // Reconciliation: when each provider's listing of our marked objects is next due. One
  // UPDATE claims a run, so several sidecars reconcile an account once per period.
  '0021_create_reconcile_runs': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_reconcile_runs')} (
      provider VARCHAR(64) NOT NULL PRIMARY KEY,
      next_run_at DATETIME(3) NOT NULL,
      last_owner VARCHAR(80) NULL,
      last_run_at DATETIME(3) NULL,
      last_found INT UNSIGNED NOT NULL DEFAULT 0
    ) ${OPTIONS}`.execute(db)),

  // Provider objects whose record left our list (deleted, or forgotten with Delete Record):
  // reconciliation never brings them back as `found`.
  '0022_create_forgotten_snapshots': ddl((db) => sql`
    CREATE TABLE IF NOT EXISTS ${T('ss_forgotten_snapshots')} (
      provider VARCHAR(64) NOT NULL,
      provider_snapshot_id VARCHAR(190) NOT NULL,
      forgotten_at DATETIME(3) NOT NULL,
      PRIMARY KEY (provider, provider_snapshot_id)
    ) ${OPTIONS}`.execute(db)),

  // Reconciliation notes when an available snapshot of ours stops being listed at the
  // provider; after a grace period its record says so (engine/reconcile.ts).
  '0023_snapshot_missing_since': ddl((db) => sql`
    ALTER TABLE ${T('ss_snapshots')} ADD COLUMN missing_since DATETIME(3) NULL AFTER available_at`.execute(db)),

  // A schedule's spread window (minutes after each slot its servers are spread over);
  // NULL = the default for its timing (sidecar/slots.ts spreadWindowMinutes).
  '0024_schedule_spread_minutes': ddl((db) => sql`
    ALTER TABLE ${T('ss_schedules')} ADD COLUMN spread_minutes SMALLINT UNSIGNED NULL AFTER timezone`.execute(db)),

  // Every screen asks for the open critical incidents (the notice): the open ones of a state,
  // in server order, straight from the index — not a scan of every open incident and a sort.
  '0025_incidents_open_state_index': ddl((db) => sql`
    ALTER TABLE ${T('ss_incidents')} ADD KEY open_state_idx (state, open_server_id)`.execute(db)),
};
