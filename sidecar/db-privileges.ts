/**
 * The least-privilege check at start (docs/install.md "A database user of its own"): the
 * sidecar reads SHOW GRANTS for its own user and says, in one structured log line, which of
 * the privileges it needs are missing. It never asks for more: WordPress's tables are only
 * read, our `{prefix}ss_*` tables are read and written, and DDL is needed only while a
 * migration runs.
 */

import { sql } from 'kysely';
import type { DB } from './db.js';
import type { Logger } from './log.js';

interface Grant {
  privileges: Set<string>;
  /** Database name pattern (LIKE wildcards allowed, as MariaDB does) or '*'. */
  db: string;
  /** Table name or '*'. */
  table: string;
}

const unquote = (s: string): string => (s === '*' ? s : s.slice(1, -1).replace(/``/g, '`'));

/** Splits "SELECT, INSERT (a, b), UPDATE" at the commas outside parentheses. */
function splitPrivileges(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export function parseGrant(line: string): Grant | null {
  const m = /^GRANT (.+?) ON (?:TABLE )?(\*|`(?:[^`]|``)+`)\.(\*|`(?:[^`]|``)+`) TO /i.exec(line);
  if (!m) return null; // role grants, procedure grants, proxies
  const privileges = new Set<string>();
  for (const p of splitPrivileges(m[1]!)) {
    if (p.includes('(')) continue; // column-level: not enough for a whole table
    const name = p.toUpperCase().replace(/\s+/g, ' ');
    privileges.add(name === 'ALL' ? 'ALL PRIVILEGES' : name);
  }
  return { privileges, db: unquote(m[2]!), table: unquote(m[3]!) };
}

/** MariaDB matches database-level grants as LIKE patterns (`_`, `%`, `\` escapes). */
function likeMatch(pattern: string, name: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) { re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); continue; }
    re += ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(name);
}

function has(grants: Grant[], privilege: string, database: string, table: string | '*'): boolean {
  return grants.some((g) => (g.privileges.has(privilege) || g.privileges.has('ALL PRIVILEGES'))
    && (g.db === '*' || (g.table === '*' ? likeMatch(g.db, database) : g.db === database))
    && (g.table === '*' || g.table === table));
}

export interface PrivilegeReport {
  /** Needed to run: "SELECT on wp_options", "INSERT on wp_ss_events", … */
  lacking: string[];
  /** Needed only while a migration runs (first start, upgrades). */
  lackingForMigrations: string[];
}

export const OUR_TABLES = ['ss_schedules', 'ss_assignments', 'ss_snapshots', 'ss_events', 'ss_nonces', 'ss_migrations', 'ss_migrations_lock'];
const WORDPRESS_TABLES = ['posts', 'postmeta', 'options'];
const DML = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
const DDL = ['CREATE', 'ALTER', 'INDEX', 'DROP'];

export function privilegeReport(grantLines: string[], database: string, prefix: string): PrivilegeReport {
  const grants = grantLines.map(parseGrant).filter((g): g is Grant => g !== null);
  const lacking: string[] = [];
  for (const t of WORDPRESS_TABLES) if (!has(grants, 'SELECT', database, prefix + t)) lacking.push(`SELECT on ${prefix}${t}`);
  for (const t of OUR_TABLES) {
    const missing = DML.filter((p) => !has(grants, p, database, prefix + t));
    if (missing.length > 0) lacking.push(`${missing.join(', ')} on ${prefix}${t}`);
  }
  const lackingForMigrations = DDL.filter((p) => !has(grants, p, database, '*')).map((p) => `${p} on ${database}.*`);
  return { lacking, lackingForMigrations };
}

/** Reads the grants and logs one line; never throws (a check must not stop the sidecar). */
export async function checkPrivileges(db: DB, prefix: string, log: Logger): Promise<PrivilegeReport | null> {
  try {
    const dbName = (await sql<{ d: string | null }>`SELECT DATABASE() AS d`.execute(db)).rows[0]?.d ?? '';
    const rows = (await sql<Record<string, string>>`SHOW GRANTS`.execute(db)).rows;
    const report = privilegeReport(rows.map((r) => String(Object.values(r)[0] ?? '')), dbName, prefix);
    if (report.lacking.length > 0) {
      log.warn({ privileges: report }, `database user lacks ${report.lacking.join('; ')} (docs/install.md "A database user of its own")`);
    } else {
      log.info({ privileges: report }, report.lackingForMigrations.length > 0
        ? `database privileges: all it needs to run; lacks ${report.lackingForMigrations.join(', ')}, needed only while migrations run (first start, upgrades)`
        : 'database privileges: all it needs, including those for migrations');
    }
    return report;
  } catch (e) {
    log.warn({ code: (e as { code?: string }).code }, 'database privileges could not be checked (SHOW GRANTS failed)');
    return null;
  }
}
