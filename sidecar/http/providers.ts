import { Router } from 'express';
import { z } from 'zod';
import type { Provider, ProviderConfig } from '../providers/types.js';
import { parseOr400 } from '../validation.js';
import { checkProvider, type CheckResult } from '../wpcd/check.js';
import type { CredentialSource } from '../wpcd/providers.js';
import { unsupportedReason } from '../wpcd/slugs.js';
import type { AppContext } from './context.js';

export function capabilitiesOf(p: Provider) {
  return { ...p.capabilities, notes: [...p.capabilities.notes] };
}

export function providersRouter(ctx: AppContext): Router {
  const r = Router();
  // What each configured provider can do, so screens can say what a click will do. Never credentials.
  r.get('/providers', (_req, res) => {
    res.json({ items: [...ctx.providers.values()].map((p) => ({ slug: p.slug, type: p.type, displayName: p.displayName, capabilities: capabilitiesOf(p) })) });
  });

  /**
   * Per provider slug (configured, in WPCD's settings, or used by a server): where its
   * credentials come from and, with `check=1`, whether a read-only test call works.
   * Sources and sentences only — a credential never leaves the sidecar.
   */
  r.get('/providers/sources', async (req, res) => {
    const q = parseOr400(z.object({ check: z.enum(['0', '1']).optional() }).strict(), req.query);
    res.json(await providerSources(ctx, q.check === '1'));
  });

  return r;
}

/** The answer of `GET /api/v1/providers/sources`, also what Settings shows. Never a credential. */
export async function providerSources(ctx: AppContext, check: boolean) {
  const inUse = await ctx.host.providersInUse();
  const sources = ctx.providerSources ?? new Map();
  const slugs = [...new Set([...sources.keys(), ...ctx.providers.keys(), ...inUse.keys()])].sort();
  const items = await Promise.all(slugs.map(async (slug) => {
    const provider = ctx.providers.get(slug);
    const known = sources.get(slug);
    const unsupported = unsupportedReason(slug);
    const source: CredentialSource = known?.source ?? (provider ? 'providers file' : unsupported ? 'not supported' : 'missing');
    const problem = provider ? null : (known?.problem ?? ctx.providerProblems?.get(slug) ?? unsupported
      ?? `Provider "${slug}" has no credentials: enter its API key under WPCloudDeploy → Settings → Cloud Providers, or add it to the providers file (SS_PROVIDERS_FILE), then restart the sidecar.`);
    let result: CheckResult | null = null;
    if (check && provider) {
      result = await checkProvider(slug, ctx.providerConfigs[slug] as ProviderConfig, ctx.log.child({ provider: slug, check: true }));
    }
    return {
      slug, type: provider?.type ?? known?.type ?? null, displayName: provider?.displayName ?? null,
      source, servers: inUse.get(slug) ?? 0, problem, check: result,
    };
  }));
  const wpcd = ctx.wpcd ?? { present: false, keySource: null, problem: null };
  return { wpcd: { settingsFound: wpcd.present, keySource: wpcd.keySource, problem: wpcd.problem }, items };
}
