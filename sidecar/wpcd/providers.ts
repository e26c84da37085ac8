/**
 * Where each provider's credentials come from: the providers file, WPCloudDeploy's settings,
 * or nowhere. Run once at start, after the database is open; the result feeds the adapters
 * (complete configs) and the screens (sources and the sentences of what is missing).
 */

import type { Config } from '../config.js';
import type { DB } from '../db.js';
import type { Logger } from '../log.js';
import { providerConfigSchemaFor } from '../providers/index.js';
import type { ProviderConfig } from '../providers/types.js';
import { readWpcdCredentials, type KeySource } from './credentials.js';

export type CredentialSource = 'wpcd' | 'providers file' | 'missing' | 'not supported';

export interface ProviderSource {
  slug: string;
  /** Our adapter type, or null where nothing serves this slug. */
  type: string | null;
  source: CredentialSource;
  /** Why this provider cannot be used, as the screens show it; null when it can. */
  problem: string | null;
}

export interface ResolvedProviders {
  /** Complete adapter configs, ready for createProviders(). */
  configs: Record<string, ProviderConfig>;
  /** One entry per slug we know of, usable or not. */
  sources: Map<string, ProviderSource>;
  wpcd: { present: boolean; keySource: KeySource; problem: string | null };
}

const WPCD_SETTINGS_HINT = 'enter it under WPCloudDeploy → Settings → Cloud Providers, or give the entry its credentials in the providers file (SS_PROVIDERS_FILE), then restart the sidecar';

/** Names the field that failed, never its value (it may be a credential). */
function validate(slug: string, entry: Record<string, unknown>): { config: ProviderConfig } | { problem: string } {
  const result = providerConfigSchemaFor(String(entry.type)).safeParse(entry);
  if (result.success) return { config: Object.freeze(result.data as ProviderConfig) };
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || '(entry)';
  return { problem: `The credentials WPCD holds for provider "${slug}" cannot be used: field "${field}" ${issue?.message ?? 'is invalid'}.` };
}

export async function resolveProviders(
  db: DB,
  config: Pick<Config, 'providers' | 'providersFromWpcd' | 'wpcdEncryptionKey'>,
  log: Logger,
): Promise<ResolvedProviders> {
  const wpcd = await readWpcdCredentials(db, { envKey: config.wpcdEncryptionKey });
  const configs: Record<string, ProviderConfig> = {};
  const sources = new Map<string, ProviderSource>();
  const fromWpcd = new Set(config.providersFromWpcd);

  for (const [slug, entry] of Object.entries(config.providers)) {
    if (!fromWpcd.has(slug)) {
      configs[slug] = entry;
      sources.set(slug, { slug, type: entry.type, source: 'providers file', problem: null });
      continue;
    }
    const found = wpcd.providers.get(slug);
    let problem: string | null = null;
    if (wpcd.problem) {
      problem = `Provider "${slug}": ${wpcd.problem}`;
    } else if (!found || (!found.credentials && !found.problem)) {
      problem = `Provider "${slug}" takes its credentials from WPCloudDeploy, but WPCD's settings hold none for it: ${WPCD_SETTINGS_HINT}.`;
    } else if (found.problem || !found.credentials) {
      problem = found.problem;
    } else if (found.type !== entry.type) {
      problem = `Provider "${slug}" is of type ${entry.type} in the providers file, but WPCD's credentials for it belong to ${found.type ?? 'another type'}: give the entry its own credentials or fix its type.`;
    } else {
      const v = validate(slug, { ...entry, ...found.credentials });
      if ('config' in v) configs[slug] = v.config;
      else problem = v.problem;
    }
    sources.set(slug, { slug, type: entry.type, source: problem ? 'missing' : 'wpcd', problem });
  }

  for (const found of wpcd.providers.values()) {
    if (sources.has(found.slug)) continue;
    if (!found.type) {
      sources.set(found.slug, { slug: found.slug, type: null, source: 'not supported', problem: found.problem });
      continue;
    }
    let problem = found.problem;
    if (!problem && found.credentials) {
      const v = validate(found.slug, { type: found.type, ...found.credentials });
      if ('config' in v) configs[found.slug] = v.config;
      else problem = v.problem;
    }
    sources.set(found.slug, { slug: found.slug, type: found.type, source: problem ? 'missing' : 'wpcd', problem });
  }

  // Which slugs and where from — never a value.
  log.info({
    wpcdSettings: wpcd.present, wpcdKeySource: wpcd.keySource,
    providers: [...sources.values()].map((s) => `${s.slug}: ${s.source}`),
  }, 'provider credentials');
  for (const s of sources.values()) if (s.problem) log.warn({ provider: s.slug }, s.problem);

  if (wpcd.problem) log.warn({}, wpcd.problem);
  return { configs, sources, wpcd: { present: wpcd.present, keySource: wpcd.keySource, problem: wpcd.problem } };
}
