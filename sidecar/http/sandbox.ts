/**
 * The demo host's "backup tab" for sandbox servers: a snapshot taken outside our engine.
 * Mounted only where a sandbox provider is configured (http/app.ts).
 */
import { Router } from 'express';
import { z } from 'zod';
import { conflict, invalid, notFound } from '../errors.js';
import { sandboxHostSnapshot } from '../providers/sandbox.js';
import { parseOr400 } from '../validation.js';
import { sandboxConfigOf, type AppContext } from './context.js';

export function sandboxRouter(ctx: AppContext): Router {
  const r = Router();
  r.post('/sandbox/snapshots', async (req, res) => {
    const body = parseOr400(z.object({ serverId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict(), req.body);
    const server = (await ctx.host.getServers([body.serverId])).get(body.serverId);
    if (!server) throw notFound(`Server ${body.serverId}`);
    const config = server.provider ? sandboxConfigOf(ctx, server.provider) : null;
    if (!config || !server.provider) throw conflict(`Server ${body.serverId} is not on a sandbox provider.`);
    if (!server.instanceId) throw invalid({ serverId: 'this server has no provider instance id' });
    const providerSnapshotId = await sandboxHostSnapshot(ctx.db, ctx.clock, server.provider, server.instanceId, config);
    res.status(201).json({ providerSnapshotId });
  });
  return r;
}
