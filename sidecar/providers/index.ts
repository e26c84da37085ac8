/**
 * The registry: provider `type` → its config schema and factory. The providers file maps the
 * host's provider slugs (`vultr-v2`, `awsec2`, `digital-ocean`, or a custom slug) to a type.
 */
import { z } from 'zod';
import type { Clock, DB } from '../db.js';
import type { Logger } from '../log.js';
import { awsec2ConfigSchema } from './awsec2-config.js';
import { createDigitaloceanProvider, digitaloceanConfigSchema } from './digitalocean.js';
import { createHetznerProvider, hetznerConfigSchema } from './hetzner.js';
import { createLinodeProvider, linodeConfigSchema } from './linode.js';
import { createOpenstackProvider, openstackConfigSchema } from './openstack.js';
import { createVultrProvider, vultrConfigSchema } from './vultr.js';
import { createSandboxProvider, sandboxConfigSchema, type SandboxConfig } from './sandbox.js';
import type { BudgetRegistry } from './http/budget.js';
import { createSharedBudgetRegistry } from './http/shared-budget.js';
import type { Provider, ProviderConfig } from './types.js';

type Create = (slug: string, config: never, ctx: RegistryContext & { budgets: BudgetRegistry }) => Provider;

interface Entry {
  schema: z.ZodType;
  /** The factory, or a loader of it for an adapter whose SDK is too heavy to load unused. */
  create: Create | { load: () => Promise<Create> };
}

export interface RegistryContext {
  log: Logger;
  db: DB;
  clock: Clock;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The request budgets of the accounts these providers use. Default: the budgets shared in
   * the database by every sidecar (http/shared-budget.ts).
   */
  budgets?: BudgetRegistry;
}

const registry: Record<string, Entry> = {
  sandbox: { schema: sandboxConfigSchema, create: (slug, config: SandboxConfig, ctx) => createSandboxProvider(slug, config, ctx) },
  vultr: { schema: vultrConfigSchema, create: (slug, config, ctx) => createVultrProvider(slug, config, ctx) },
  // @aws-sdk/client-ec2 adds ~90 MiB resident to a sidecar: loaded only when an EC2 account is configured.
  awsec2: { schema: awsec2ConfigSchema, create: { load: async () => (await import('./awsec2.js')).createAwsec2Provider as Create } },
  hetzner: { schema: hetznerConfigSchema, create: (slug, config, ctx) => createHetznerProvider(slug, config, ctx) },
  digitalocean: { schema: digitaloceanConfigSchema, create: (slug, config, ctx) => createDigitaloceanProvider(slug, config, ctx) },
  linode: { schema: linodeConfigSchema, create: (slug, config, ctx) => createLinodeProvider(slug, config, ctx) },
  openstack: { schema: openstackConfigSchema, create: (slug, config, ctx) => createOpenstackProvider(slug, config, ctx) },
};

export const KNOWN_PROVIDER_TYPES: string[] = ['sandbox', 'vultr', 'awsec2', 'hetzner', 'digitalocean', 'linode', 'openstack'];

export function providerConfigSchemaFor(type: string): z.ZodType {
  const entry = registry[type];
  if (!entry) throw new Error(`Provider type "${type}" is not available in this build.`);
  return entry.schema;
}

export async function createProviders(configs: Readonly<Record<string, ProviderConfig>>, ctx: RegistryContext): Promise<Map<string, Provider>> {
  const out = new Map<string, Provider>();
  const budgets = ctx.budgets ?? createSharedBudgetRegistry({ db: ctx.db, clock: ctx.clock, sleep: ctx.sleep });
  for (const [slug, config] of Object.entries(configs)) {
    const entry = registry[config.type];
    if (!entry) throw new Error(`Provider type "${config.type}" is not available in this build.`);
    const create = typeof entry.create === 'function' ? entry.create : await entry.create.load();
    out.set(slug, create(slug, config as never, { ...ctx, budgets, log: ctx.log.child({ provider: slug }) }));
  }
  return out;
}
