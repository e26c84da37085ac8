/**
 * One read-only test call per provider, so Settings can say whether the credentials work
 * before a schedule depends on them. Answers are sentences; no credential, header or
 * response body ever reaches the answer or the log.
 */

import type { Logger } from '../log.js';
import { DIGITALOCEAN_API_URL } from '../providers/digitalocean.js';
import { HETZNER_API_URL } from '../providers/hetzner.js';
import { createBudgetRegistry } from '../providers/http/budget.js';
import { LINODE_API_URL } from '../providers/linode.js';
import { createOpenstackSession } from '../providers/openstack-session.js';
import { openstackConfigSchema } from '../providers/openstack.js';
import { ProviderError, type ProviderConfig } from '../providers/types.js';
import { VULTR_API_URL } from '../providers/vultr.js';

export interface CheckResult {
  /** true: the call worked; false: it did not; null: no test call for this type. */
  ok: boolean | null;
  message: string;
}

const TIMEOUT_MS = 8_000;

const REST: Record<string, { name: string; base: string; path: string; secret: string }> = {
  digitalocean: { name: 'DigitalOcean', base: DIGITALOCEAN_API_URL, path: '/v2/snapshots?resource_type=droplet&per_page=1', secret: 'token' },
  hetzner: { name: 'Hetzner', base: HETZNER_API_URL, path: '/images?type=snapshot&per_page=1', secret: 'token' },
  linode: { name: 'Linode', base: LINODE_API_URL, path: '/linode/instances?page_size=25', secret: 'token' },
  vultr: { name: 'Vultr', base: VULTR_API_URL, path: '/v2/snapshots?per_page=1', secret: 'apiKey' },
};

async function restCheck(config: ProviderConfig, spec: (typeof REST)[string]): Promise<CheckResult> {
  const base = (config.apiUrl ?? spec.base).replace(/\/+$/, '');
  let status: number;
  try {
    const res = await fetch(base + spec.path, {
      headers: { Authorization: `Bearer ${String(config[spec.secret])}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
  } catch (e) {
    const code = (e as { cause?: { code?: string }; name?: string }).cause?.code ?? (e as { name?: string }).name ?? 'error';
    return { ok: false, message: `${spec.name} could not be reached at ${new URL(base).host} (${code}).` };
  }
  if (status >= 200 && status < 300) return { ok: true, message: `${spec.name} accepted the credentials.` };
  if (status === 401) return { ok: false, message: `${spec.name} refused the credentials (HTTP 401): enter a valid API key.` };
  if (status === 403) return { ok: false, message: `${spec.name} refused the credentials (HTTP 403): the key lacks read permission.` };
  if (status === 429) return { ok: null, message: `${spec.name} is rate-limiting this account right now; try the check again in a minute.` };
  return { ok: false, message: `${spec.name} answered HTTP ${status} to a read-only test call.` };
}

async function ec2Check(config: ProviderConfig): Promise<CheckResult> {
  // Loaded on first use: the SDK adds ~90 MiB to a sidecar that has no EC2 account.
  const { DescribeImagesCommand, EC2Client } = await import('@aws-sdk/client-ec2');
  const client = new EC2Client({
    region: String(config.region ?? 'us-east-1'),
    ...(config.apiUrl ? { endpoint: config.apiUrl.replace(/\/+$/, '') } : {}),
    credentials: { accessKeyId: String(config.accessKeyId), secretAccessKey: String(config.secretAccessKey), ...(config.sessionToken ? { sessionToken: String(config.sessionToken) } : {}) },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: TIMEOUT_MS, requestTimeout: TIMEOUT_MS, throwOnRequestTimeout: true },
  });
  try {
    await client.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['ss-connection-check'] }] }));
    return { ok: true, message: 'AWS accepted the credentials.' };
  } catch (e) {
    // The error's name is AWS's code (AuthFailure, UnauthorizedOperation, …); its message may quote the request.
    const code = (e as { name?: string; code?: string }).code ?? (e as { name?: string }).name ?? 'error';
    if (/Auth|Signature|InvalidClientTokenId|UnrecognizedClient/.test(code)) return { ok: false, message: `AWS refused the credentials (${code}): check the access key id and secret.` };
    if (/Unauthorized/.test(code)) return { ok: false, message: `AWS refused the call (${code}): the access key may not call ec2:DescribeImages.` };
    return { ok: false, message: `AWS did not answer the test call (${code}).` };
  } finally {
    client.destroy();
  }
}

async function openstackCheck(slug: string, config: ProviderConfig, log: Logger): Promise<CheckResult> {
  const parsed = openstackConfigSchema.parse(config);
  const session = createOpenstackSession(slug, parsed, { log, budgets: createBudgetRegistry() }, log);
  try {
    await session.currentSession();
    return { ok: true, message: 'OpenStack (Keystone) accepted the credentials.' };
  } catch (e) {
    return { ok: false, message: e instanceof ProviderError ? e.message : 'OpenStack (Keystone) did not accept the test login.' };
  }
}

export async function checkProvider(slug: string, config: ProviderConfig, log: Logger): Promise<CheckResult> {
  const rest = REST[config.type];
  if (rest) return await restCheck(config, rest);
  if (config.type === 'awsec2') return await ec2Check(config);
  if (config.type === 'openstack') return await openstackCheck(slug, config, log);
  if (config.type === 'sandbox') return { ok: true, message: 'The sandbox needs no credentials.' };
  return { ok: null, message: `There is no test call for provider type ${config.type}.` };
}
