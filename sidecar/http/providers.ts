import { Router } from 'express';
import type { Provider } from '../providers/types.js';
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

  return r;
}
