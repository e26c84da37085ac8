/**
 * Names our code uses for tables, mapped to the real names inside WordPress's database.
 * Code writes `ss_snapshots` or `posts`; the plugin below makes it `wp_ss_snapshots` /
 * `wp_posts` for the configured prefix. Only these names are rewritten, so aliases
 * (`ss_snapshots as s` → `s.id`) are left alone.
 */

import { Kysely, MysqlDialect, OperationNodeTransformer, sql, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow, type TableNode } from 'kysely';
import { createPool, type Pool } from 'mysql2';
import type { Database } from './schema.js';

export const LOGICAL_TABLES = [
  'ss_schedules', 'ss_assignments', 'ss_snapshots', 'ss_events', 'ss_nonces', 'ss_sandbox_snapshots',
  'ss_incidents', 'ss_alert_deliveries', 'ss_alert_runs',
  'ss_request_budgets', 'ss_reconcile_runs', 'ss_forgotten_snapshots',
  'posts', 'postmeta', 'options',
] as const;

class TablePrefixTransformer extends OperationNodeTransformer {
  constructor(private readonly prefix: string) { super(); }
  protected override transformTable(node: TableNode): TableNode {
    const t = super.transformTable(node);
    const name = t.table.identifier.name;
    if (!(LOGICAL_TABLES as readonly string[]).includes(name)) return t;
    return { ...t, table: { ...t.table, identifier: { ...t.table.identifier, name: this.prefix + name } } };
  }
}

export class TablePrefixPlugin implements KyselyPlugin {
  readonly #transformer: TablePrefixTransformer;
  constructor(prefix: string) { this.#transformer = new TablePrefixTransformer(prefix); }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

export type DB = Kysely<Database>;

export interface DbHandle {
  db: DB;
  pool: Pool;
  prefix: string;
  close(): Promise<void>;
}

/**
 * One pool per process. Times are DATETIME(3) in UTC: `timezone: 'Z'` makes mysql2 read and
 * write them as UTC, and SQL only ever uses UTC_TIMESTAMP(3), never NOW(), so the session's
 * time_zone cannot shift anything.
 */
export function openDatabase(url: string, prefix: string, opts: { connectionLimit?: number } = {}): DbHandle {
  const pool = createPool({
    uri: url,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    connectionLimit: opts.connectionLimit ?? 10,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    enableKeepAlive: true,
    connectTimeout: 5_000,
  });
  // A pool emits 'error' for dropped idle connections when the server restarts; the next query
  // opens a fresh connection, so the event only needs to be absorbed here.
  pool.on('connection', (conn) => { conn.on('error', () => {}); });
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({ pool }),
    plugins: [new TablePrefixPlugin(prefix)],
  });
  return {
    db, pool, prefix,
    close: async () => { await db.destroy(); },
  };
}

/** The database clock, the only clock the engine trusts (docs/architecture.md). */
export interface Clock {
  /** Current time by the database, plus the test offset. */
  now(db: DB): Promise<Date>;
  /** Test-only: shift what the engine believes is "now" (pg-boss style switch, never set in production). */
  __test__offsetMs: number;
}

export function databaseClock(): Clock {
  return {
    __test__offsetMs: 0,
    async now(db: DB) {
      const r = await sql<{ now: Date }>`SELECT UTC_TIMESTAMP(3) AS now`.execute(db);
      const now = r.rows[0]?.now;
      if (!(now instanceof Date)) throw new Error('The database did not return its clock.');
      return new Date(now.getTime() + this.__test__offsetMs);
    },
  };
}
