import { sql, type Kysely } from 'kysely';

/**
 * The sandbox provider's simulated cloud. It lives in the database so that several sidecars
 * (and a restarted one) see the same "provider" — needed to prove crash recovery — but only a
 * sidecar with a sandbox provider configured needs it: the sidecar creates it at start then
 * (migration 0011 removes the empty one every install used to get).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function ensureSandboxTable(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE IF NOT EXISTS ${sql.table('ss_sandbox_snapshots')} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      provider VARCHAR(64) NOT NULL,
      instance_id VARCHAR(190) NOT NULL,
      name VARCHAR(190) NOT NULL,
      state VARCHAR(16) NOT NULL,
      ready_at DATETIME(3) NOT NULL,
      size_bytes BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      KEY name_idx (provider, name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`.execute(db);
}
