/**
 * Reads the provider credentials an admin already entered in WPCloudDeploy: the option
 * `wpcd_settings` (a PHP-serialized array, keys `vpn_{slug}_apikey` and friends, each
 * encrypted by WPCD) and the virtual providers (`wpcd_cloud_provider` posts). Read only; the
 * decrypted values live in memory and are handed to the adapters, never logged or returned
 * over HTTP.
 */

import type { DB } from '../db.js';
import { phpUnserialize, PhpUnserializeError, type PhpArray } from './php-unserialize.js';
import { wpcdDecrypt, WpcdDecryptError } from './crypto.js';
import { unsupportedReason, wpcdSlugMapping, WPCD_SUPPORTED_SLUGS } from './slugs.js';

export type KeySource = 'SS_WPCD_ENCRYPTION_KEY' | 'wpcd_encryption_key_v2' | null;

export interface WpcdProvider {
  slug: string;
  /** Our adapter type, or null where WPCD's type has none. */
  type: string | null;
  /** The credential fields as the adapter's providers-file entry names them. */
  credentials: Record<string, string> | null;
  /** Why the credentials cannot be used (a sentence), or null. */
  problem: string | null;
}

export interface WpcdCredentials {
  /** Whether this database holds WPCD's settings at all. */
  present: boolean;
  keySource: KeySource;
  /** Every slug WPCD knows here that we can serve, or that we must explain. */
  providers: Map<string, WpcdProvider>;
  /** Why WPCD's settings could not be read at all (a privilege missing), or null. */
  problem: string | null;
}

const VIRTUAL_POST_TYPE = 'wpcd_cloud_provider';

function isMissingTable(e: unknown): boolean {
  return (e as { code?: string }).code === 'ER_NO_SUCH_TABLE';
}

function isDenied(e: unknown): boolean {
  return ['ER_TABLEACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR'].includes((e as { code?: string }).code ?? '');
}

async function option(db: DB, name: string): Promise<string | null> {
  const row = await db.selectFrom('options').select('option_value').where('option_name', '=', name).executeTakeFirst();
  return row ? String(row.option_value) : null;
}

/** Virtual providers: WPCD's `wpcd_cloud_provider` posts, slug → WPCD provider type. */
async function virtualProviders(db: DB): Promise<Map<string, string>> {
  const posts = await db.selectFrom('posts').select('ID').where('post_type', '=', VIRTUAL_POST_TYPE)
    .where('post_status', 'not in', ['trash', 'auto-draft', 'inherit']).execute();
  const out = new Map<string, string>();
  if (posts.length === 0) return out;
  const meta = await db.selectFrom('postmeta').select(['post_id', 'meta_key', 'meta_value'])
    .where('post_id', 'in', posts.map((p) => Number(p.ID)))
    .where('meta_key', 'in', ['wpcd_cloud_provider_slug', 'wpcd_cloud_provider_type', 'wpcd_cloud_provider_inactive']).execute();
  const byPost = new Map<number, Map<string, string>>();
  for (const m of meta) {
    const e = byPost.get(Number(m.post_id)) ?? new Map<string, string>();
    if (!e.has(m.meta_key) && m.meta_value !== null) e.set(m.meta_key, m.meta_value);
    byPost.set(Number(m.post_id), e);
  }
  for (const m of byPost.values()) {
    const slug = m.get('wpcd_cloud_provider_slug')?.trim();
    const type = m.get('wpcd_cloud_provider_type')?.trim();
    // WPCD ignores an inactive virtual provider; so do we.
    if (slug && type && !['1', 'true', 'on'].includes(m.get('wpcd_cloud_provider_inactive') ?? '')) out.set(slug, type);
  }
  return out;
}

export async function readWpcdCredentials(db: DB, opts: { envKey: string | null }): Promise<WpcdCredentials> {
  let settingsText: string | null;
  let optionKey: string | null;
  let virtual: Map<string, string>;
  try {
    settingsText = await option(db, 'wpcd_settings');
    optionKey = await option(db, 'wpcd_encryption_key_v2');
    virtual = await virtualProviders(db);
  } catch (e) {
    // A database without WordPress's options table holds no WPCD settings (tests, other hosts).
    if (isMissingTable(e)) return { present: false, keySource: null, providers: new Map(), problem: null };
    if (isDenied(e)) {
      return { present: false, keySource: null, providers: new Map(), problem: 'The sidecar\'s database user may not read WordPress\'s options and posts, so WPCD\'s credentials cannot be used: grant it SELECT on them (docs/install.md).' };
    }
    throw e;
  }
  const keySource: KeySource = opts.envKey ? 'SS_WPCD_ENCRYPTION_KEY' : optionKey ? 'wpcd_encryption_key_v2' : null;
  // WPCD prefers its WPCD_ENCRYPTION_KEY constant to the option; SS_WPCD_ENCRYPTION_KEY is that constant.
  const keys = { v2Key: opts.envKey || optionKey || null, v1Key: opts.envKey || null };

  let settings: PhpArray = new Map();
  let settingsProblem: string | null = null;
  if (settingsText !== null) {
    try {
      const parsed = phpUnserialize(settingsText);
      if (parsed instanceof Map) settings = parsed;
      else settingsProblem = 'WPCD\'s settings (option wpcd_settings) are not an array; save WPCloudDeploy\'s settings once to repair them.';
    } catch (e) {
      if (!(e instanceof PhpUnserializeError)) throw e;
      settingsProblem = 'WPCD\'s settings (option wpcd_settings) could not be read; save WPCloudDeploy\'s settings once to repair them.';
    }
  }

  const providers = new Map<string, WpcdProvider>();
  const slugTypes = new Map<string, string>(WPCD_SUPPORTED_SLUGS.map((s) => [s, s]));
  for (const [slug, type] of virtual) slugTypes.set(slug, type);
  for (const [slug, wpcdType] of slugTypes) {
    const mapping = wpcdSlugMapping(wpcdType);
    if (!mapping) {
      const why = unsupportedReason(wpcdType) ?? `WPCD provider type "${wpcdType}" has no adapter in Scheduled Snapshots.`;
      providers.set(slug, { slug, type: null, credentials: null, problem: `Virtual provider "${slug}": ${why}` });
      continue;
    }
    const stored = settings.get(`vpn_${slug}_apikey`);
    if (typeof stored !== 'string' || stored === '') {
      // Core slugs without a key are simply not set up in WPCD; a virtual provider without one is worth saying.
      if (virtual.has(slug)) providers.set(slug, { slug, type: mapping.type, credentials: null, problem: settingsProblem ?? `WPCD's settings hold no API key for provider "${slug}".` });
      continue;
    }
    try {
      const credentials: Record<string, string> = {};
      for (const [field, wpcdField] of Object.entries(mapping.fields)) {
        const value = settings.get(`vpn_${slug}_${wpcdField}`);
        if (typeof value === 'string' && value !== '') credentials[field] = wpcdDecrypt(value, keys);
      }
      providers.set(slug, { slug, type: mapping.type, credentials, problem: null });
    } catch (e) {
      if (!(e instanceof WpcdDecryptError)) throw e;
      providers.set(slug, { slug, type: mapping.type, credentials: null, problem: `The credentials of provider "${slug}" in WPCD's settings cannot be used: ${e.message}` });
    }
  }
  return { present: settingsText !== null, keySource, providers, problem: null };
}
