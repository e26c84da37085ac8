/**
 * Brings our tables up to date. Safe when several sidecars start at once: kysely's MySQL
 * adapter takes GET_LOCK for the whole run, so one migrates and the others find nothing to do.
 * The bookkeeping tables are ours too (`{prefix}ss_migrations…`); WordPress's are never touched.
 */

import { Migrator, type MigrationProvider, type Migration } from 'kysely';
import type { DB } from './db.js';
import { migrations } from '../migrations/index.js';

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> { return migrations; }
}

export async function migrateToLatest(db: DB, prefix: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new StaticMigrationProvider(),
    migrationTableName: `${prefix}ss_migrations`,
    migrationLockTableName: `${prefix}ss_migrations_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    // No migration ran (e.g. the database is unreachable): keep the driver's error and its code.
    if (!failed) throw error instanceof Error ? error : new Error(String(error));
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
