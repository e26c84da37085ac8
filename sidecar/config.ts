/**
 * Configuration, read once at start and frozen (README.md "Configuration").
 * A missing or bad value throws ConfigError with one line naming the variable; main.ts
 * prints that line and exits non-zero.
 */

import fs from 'node:fs';
import { z } from 'zod';
import { readAlertConfig, type AlertConfig } from './alerts/config.js';
import { providerConfigSchemaFor, KNOWN_PROVIDER_TYPES } from './providers/index.js';
import type { ProviderConfig } from './providers/types.js';
import { CREDENTIAL_FIELDS } from './wpcd/slugs.js';

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export interface HostSettings {
  postType: string;
  metaProvider: string;
  metaInstanceId: string;
  metaRegion: string;
  metaName: string;
  metaIpv4: string;
}

export interface Config {
  databaseUrl: string;
  tablePrefix: string;
  sharedSecret: string;
  listenHost: string;
  listenPort: number;
  providersFile: string | null;
  /**
   * Providers-file entries, validated. Those named in `providersFromWpcd` have no credentials
   * of their own yet: the sidecar adds WPCloudDeploy's at start (sidecar/wpcd/providers.ts).
   */
  providers: Readonly<Record<string, ProviderConfig>>;
  providersFromWpcd: readonly string[];
  /** The WPCD_ENCRYPTION_KEY of wp-config.php, where the admin defined one. */
  wpcdEncryptionKey: string | null;
  tickMs: number;
  leaseMs: number;
  /** Minutes between reconciliations of each provider's marked snapshots with our records (SS_RECONCILE_MINUTES). */
  reconcileMinutes: number;
  instanceId: string;
  logLevel: string;
  /** SS_EVENTS_KEEP_DAYS: audit events older than this go, unless their snapshot is still listed. */
  eventsKeepDays: number;
  host: HostSettings;
  /** Health alerts: channels, digest, thresholds (alerts/config.ts). */
  alerts: Readonly<AlertConfig>;
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw.slice(0, 40)}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function identifierVar(env: Env, name: string, def: string, re = /^[A-Za-z0-9_-]{1,64}$/): string {
  const v = env[name] ?? def;
  if (!re.test(v)) throw new ConfigError(name, `must be letters, digits, "_" or "-" (1–64 characters), got "${v.slice(0, 40)}"`);
  return v;
}

/** 127.0.0.0/8, ::1 and localhost: a plain-http endpoint there never crosses a network. */
function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Credentials travel with every request to apiUrl / authUrl (and the other endpoint URLs an
 * entry may set): plain http is refused except on loopback, or where the entry says
 * `"allowInsecureHttp": true` (a private cloud reached over a trusted network).
 */
function requireHttps(slug: string, type: string, entry: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(entry)) {
    if (!/Url$/.test(field) || typeof value !== 'string') continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue; // the schema names a malformed URL
    }
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      throw new ConfigError('SS_PROVIDERS_FILE', `provider "${slug}" (${type}): field "${field}" must use https (credentials are sent to it); set "allowInsecureHttp": true in this entry only for a trusted private network`);
    }
  }
}

/** Placeholder credentials, only to validate the other fields of an entry that takes WPCD's. */
const PLACEHOLDER: Record<string, string> = { token: 'x', apiKey: 'x', accessKeyId: 'x', secretAccessKey: 'x' };

/** Whether an entry carries none of its type's credential fields (it then takes WPCloudDeploy's). */
export function lacksCredentials(entry: Record<string, unknown>): boolean {
  const fields = CREDENTIAL_FIELDS[String(entry.type)];
  return fields !== undefined && fields.every((f) => entry[f] === undefined);
}

export function readProvidersFile(file: string): Record<string, ProviderConfig> {
  return readProvidersFileWithSources(file).providers;
}

export function readProvidersFileWithSources(file: string): { providers: Record<string, ProviderConfig>; fromWpcd: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('SS_PROVIDERS_FILE', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('SS_PROVIDERS_FILE', `${file} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('SS_PROVIDERS_FILE', `${file} must hold a JSON object: { "<provider slug>": { "type": "…", … } }`);
  }
  const out: Record<string, ProviderConfig> = {};
  const fromWpcd: string[] = [];
  for (const [slug, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(slug)) {
      throw new ConfigError('SS_PROVIDERS_FILE', `provider slug "${slug.slice(0, 40)}" must be letters, digits, ".", "_" or "-"`);
    }
    const type = (entry as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !KNOWN_PROVIDER_TYPES.includes(type)) {
      throw new ConfigError('SS_PROVIDERS_FILE', `provider "${slug}" has unknown type ${JSON.stringify(type ?? null)}; use one of ${KNOWN_PROVIDER_TYPES.join(', ')}`);
    }
    const { allowInsecureHttp, ...rest } = entry as Record<string, unknown>;
    if (allowInsecureHttp !== undefined && typeof allowInsecureHttp !== 'boolean') {
      throw new ConfigError('SS_PROVIDERS_FILE', `provider "${slug}" (${type}): field "allowInsecureHttp" must be true or false`);
    }
    // The sandbox makes no network calls: its fields are never endpoints.
    if (allowInsecureHttp !== true && type !== 'sandbox') requireHttps(slug, type, rest);
    const schema = providerConfigSchemaFor(type);
    const needsWpcd = lacksCredentials(rest);
    const placeholders = needsWpcd
      ? Object.fromEntries((CREDENTIAL_FIELDS[type] ?? []).filter((f) => f in PLACEHOLDER).map((f) => [f, PLACEHOLDER[f]]))
      : {};
    const result = schema.safeParse({ ...rest, ...placeholders });
    if (!result.success) {
      // Name the field, never echo its value (it may be a credential).
      const issue = result.error.issues[0];
      const field = issue?.path.join('.') || '(entry)';
      throw new ConfigError('SS_PROVIDERS_FILE', `provider "${slug}" (${type}): field "${field}" ${issue?.message ?? 'is invalid'}`);
    }
    if (needsWpcd) {
      // Keep the validated entry (defaults filled in) without the placeholders.
      const data = { ...(result.data as ProviderConfig) };
      for (const f of Object.keys(placeholders)) delete data[f];
      out[slug] = Object.freeze(data);
      fromWpcd.push(slug);
    } else {
      out[slug] = Object.freeze(result.data as ProviderConfig);
    }
  }
  return { providers: out, fromWpcd };
}

const dbUrlSchema = z.string().regex(/^mysql:\/\/[^/]+\/[^/?]+/);

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const databaseUrl = env.SS_DATABASE_URL;
  if (!databaseUrl) throw new ConfigError('SS_DATABASE_URL', 'is required, e.g. mysql://user:pass@127.0.0.1:3306/wordpress');
  if (!dbUrlSchema.safeParse(databaseUrl).success) {
    throw new ConfigError('SS_DATABASE_URL', 'must look like mysql://user:pass@host:port/database');
  }
  const tablePrefix = identifierVar(env, 'SS_TABLE_PREFIX', 'wp_', /^[A-Za-z0-9_]{1,32}$/);
  const sharedSecret = env.SS_SHARED_SECRET;
  if (!sharedSecret) throw new ConfigError('SS_SHARED_SECRET', 'is required (the same value as the SS_SHARED_SECRET constant in wp-config.php)');
  if (sharedSecret.length < 32) throw new ConfigError('SS_SHARED_SECRET', `must be at least 32 characters (it has ${sharedSecret.length})`);

  const listen = env.SS_LISTEN ?? '127.0.0.1:8787';
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new ConfigError('SS_LISTEN', `must be host:port, e.g. 127.0.0.1:8787, got "${listen.slice(0, 60)}"`);
  const listenHost = m[1]!.replace(/^\[|\]$/g, '');

  const providersFile = env.SS_PROVIDERS_FILE || null;
  const { providers, fromWpcd } = providersFile ? readProvidersFileWithSources(providersFile) : { providers: {}, fromWpcd: [] };
  const wpcdEncryptionKey = env.SS_WPCD_ENCRYPTION_KEY || null;

  return Object.freeze({
    databaseUrl,
    tablePrefix,
    sharedSecret,
    listenHost,
    listenPort: Number(m[2]),
    providersFile,
    providers: Object.freeze(providers),
    providersFromWpcd: Object.freeze(fromWpcd),
    wpcdEncryptionKey,
    tickMs: intVar(env, 'SS_TICK_MS', 2000, 50, 600_000),
    leaseMs: intVar(env, 'SS_LEASE_MS', 30_000, 1000, 3_600_000),
    reconcileMinutes: intVar(env, 'SS_RECONCILE_MINUTES', 60, 1, 10_080),
    instanceId: identifierVar(env, 'SS_INSTANCE_ID', `sidecar-${process.pid}`),
    logLevel: env.SS_LOG_LEVEL ?? 'info',
    eventsKeepDays: intVar(env, 'SS_EVENTS_KEEP_DAYS', 180, 1, 36_500),
    host: Object.freeze({
      postType: identifierVar(env, 'SS_HOST_POST_TYPE', 'wpcd_app_server'),
      metaProvider: identifierVar(env, 'SS_HOST_META_PROVIDER', 'wpcd_server_provider'),
      metaInstanceId: identifierVar(env, 'SS_HOST_META_INSTANCE_ID', 'wpcd_server_provider_instance_id'),
      metaRegion: identifierVar(env, 'SS_HOST_META_REGION', 'wpcd_server_region'),
      metaName: identifierVar(env, 'SS_HOST_META_NAME', 'wpcd_server_name'),
      metaIpv4: identifierVar(env, 'SS_HOST_META_IPV4', 'wpcd_server_ipv4'),
    }),
    alerts: readAlertConfig(env),
  });
}
