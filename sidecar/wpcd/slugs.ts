/**
 * WPCloudDeploy's provider slugs (the `wpcd_server_provider` of each server) and what the
 * sidecar does with each: which adapter type serves it, or why it cannot (docs/providers.md
 * "WPCloudDeploy's provider slugs").
 */

export interface WpcdSlugMapping {
  /** Our adapter type, e.g. `digitalocean`. */
  type: string;
  /** How WPCD's stored fields become that adapter's providers-file fields. */
  fields: Readonly<Record<string, WpcdCredentialField>>;
}

/** The suffix of WPCD's setting `vpn_{slug}_{field}`. */
export type WpcdCredentialField = 'apikey' | 'user_name' | 'user_password' | 'secret_key';

const token = { token: 'apikey' } as const;

/** WPCD core slugs and provider types our adapters serve. */
const SUPPORTED: Readonly<Record<string, WpcdSlugMapping>> = {
  'digital-ocean': { type: 'digitalocean', fields: token },
  // WPCD's "Digital Ocean Backup": a second DigitalOcean account under its own slug.
  'digital-ocean-alternate': { type: 'digitalocean', fields: token },
  'vultr-v2': { type: 'vultr', fields: { apiKey: 'apikey' } },
  hetzner: { type: 'hetzner', fields: token },
  linode: { type: 'linode', fields: token },
  // WPCD's AWS add-on keeps the access key id as the API key and the secret as `secret_key`.
  awsec2: { type: 'awsec2', fields: { accessKeyId: 'apikey', secretAccessKey: 'secret_key' } },
};

/** WPCD slugs we know and cannot snapshot, with the sentence the screens show. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  'vultr-v2-baremetal': 'Vultr bare-metal servers cannot be snapshotted: Vultr offers snapshots only for cloud instances.',
  upcloud: 'UpCloud is not supported yet: Scheduled Snapshots has no UpCloud adapter.',
  awslightsail: 'AWS Lightsail is not supported: its snapshots use Lightsail\'s own API, not EC2\'s; only EC2 servers (awsec2) can be scheduled.',
  'custom-server': 'Custom servers have no cloud provider to take snapshots with; schedule snapshots at the server\'s real provider instead.',
};

export function wpcdSlugMapping(slugOrType: string): WpcdSlugMapping | null {
  return SUPPORTED[slugOrType] ?? null;
}

/** Why a WPCD slug (or a virtual provider's type) cannot be served, or null. */
export function unsupportedReason(slugOrType: string): string | null {
  return UNSUPPORTED[slugOrType] ?? null;
}

export const WPCD_SUPPORTED_SLUGS: readonly string[] = Object.keys(SUPPORTED);

/** Providers-file credential fields of each adapter type: an entry with none of them takes WPCD's. */
export const CREDENTIAL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  digitalocean: ['token'],
  hetzner: ['token'],
  linode: ['token'],
  vultr: ['apiKey'],
  awsec2: ['accessKeyId', 'secretAccessKey', 'sessionToken'],
};
