/**
 * Read-only view of the host panel's servers: WordPress posts of type `wpcd_app_server`
 * and their meta (docs/architecture.md "The host panel"). We never write to WordPress's tables.
 */

import type { HostSettings } from './config.js';
import type { DB } from './db.js';
import { unsupportedReason } from './wpcd/slugs.js';

export interface HostServer {
  id: number;
  title: string;
  postStatus: string;
  provider: string | null;
  instanceId: string | null;
  region: string | null;
  name: string | null;
  ipv4: string | null;
}

export interface Host {
  /** Servers by id; ids that are not servers are absent from the map. */
  getServers(ids: number[]): Promise<Map<number, HostServer>>;
  listServers(opts?: { limit?: number; afterId?: number }): Promise<HostServer[]>;
  /** The first servers by id with the name serverDisplayName gives them: one query, for choice lists. */
  serverNames(opts?: { limit?: number }): Promise<Array<{ id: number; name: string }>>;
  /** The server with this provider slug and instance id (reconciliation names a found snapshot's server). */
  serverByInstance?(provider: string, instanceId: string): Promise<HostServer | undefined>;
  /** Provider slugs the panel's servers use, with how many servers use each. */
  providersInUse(): Promise<Map<string, number>>;
  /** The regions the panel's servers of this provider slug are in (reconciliation lists each on EC2). */
  regionsOf?(provider: string): Promise<string[]>;
}

export function createHost(db: DB, settings: HostSettings): Host {
  const metaKeys = [settings.metaProvider, settings.metaInstanceId, settings.metaRegion, settings.metaName, settings.metaIpv4];

  async function withMeta(posts: { ID: number; post_title: string; post_status: string }[]): Promise<HostServer[]> {
    if (posts.length === 0) return [];
    const ids = posts.map((p) => Number(p.ID));
    const meta = await db.selectFrom('postmeta').select(['post_id', 'meta_key', 'meta_value'])
      .where('post_id', 'in', ids).where('meta_key', 'in', metaKeys).execute();
    const byPost = new Map<number, Map<string, string>>();
    for (const m of meta) {
      const id = Number(m.post_id);
      let entry = byPost.get(id);
      if (!entry) byPost.set(id, (entry = new Map()));
      // WordPress allows repeated meta keys; like get_post_meta(..., true) we take the first.
      if (!entry.has(m.meta_key) && m.meta_value !== null) entry.set(m.meta_key, m.meta_value);
    }
    return posts.map((p) => {
      const m = byPost.get(Number(p.ID)) ?? new Map<string, string>();
      const val = (k: string) => { const v = m.get(k)?.trim(); return v ? v : null; };
      return {
        id: Number(p.ID), title: p.post_title, postStatus: p.post_status,
        provider: val(settings.metaProvider), instanceId: val(settings.metaInstanceId),
        region: val(settings.metaRegion), name: val(settings.metaName), ipv4: val(settings.metaIpv4),
      };
    });
  }

  return {
    async getServers(ids) {
      const unique = [...new Set(ids.filter((n) => Number.isSafeInteger(n) && n > 0))];
      if (unique.length === 0) return new Map();
      const posts = await db.selectFrom('posts').select(['ID', 'post_title', 'post_status'])
        .where('ID', 'in', unique).where('post_type', '=', settings.postType).execute();
      const servers = await withMeta(posts);
      return new Map(servers.map((s) => [s.id, s]));
    },
    async listServers(opts = {}) {
      const posts = await db.selectFrom('posts').select(['ID', 'post_title', 'post_status'])
        .where('post_type', '=', settings.postType).where('post_status', 'not in', ['auto-draft', 'inherit'])
        .where('ID', '>', opts.afterId ?? 0).orderBy('ID').limit(Math.min(opts.limit ?? 500, 5000)).execute();
      return await withMeta(posts);
    },
    async serverNames(opts = {}) {
      // The name meta as get_post_meta(…, true) reads it (the first by meta_id), in the same query.
      const rows = await db.selectFrom('posts as p').select(['p.ID', 'p.post_title'])
        .select((eb) => eb.selectFrom('postmeta as m').select('m.meta_value').whereRef('m.post_id', '=', 'p.ID')
          .where('m.meta_key', '=', settings.metaName).orderBy('m.meta_id').limit(1).as('meta_name'))
        .where('p.post_type', '=', settings.postType).where('p.post_status', 'not in', ['auto-draft', 'inherit'])
        .orderBy('p.ID').limit(Math.min(opts.limit ?? 500, 5000)).execute();
      return rows.map((r) => {
        const id = Number(r.ID);
        const name = r.meta_name?.trim() || null;
        return { id, name: serverDisplayName({ id, title: r.post_title, postStatus: '', provider: null, instanceId: null, region: null, name, ipv4: null }, id) };
      });
    },
    async serverByInstance(provider, instanceId) {
      const ids = await db.selectFrom('postmeta').select('post_id').where('meta_key', '=', settings.metaInstanceId)
        .where('meta_value', '=', instanceId).limit(20).execute();
      const servers = await this.getServers(ids.map((r) => Number(r.post_id)));
      return [...servers.values()].find((s) => s.provider === provider);
    },
    async regionsOf(provider) {
      const rows = await db.selectFrom('postmeta as r').innerJoin('postmeta as p', 'p.post_id', 'r.post_id')
        .select('r.meta_value as region').distinct().where('p.meta_key', '=', settings.metaProvider).where('p.meta_value', '=', provider)
        .where('r.meta_key', '=', settings.metaRegion).execute();
      return rows.map((r) => (r.region ?? '').trim()).filter(Boolean);
    },
    async providersInUse() {
      const rows = await db.selectFrom('postmeta as m').innerJoin('posts as p', 'p.ID', 'm.post_id')
        .select(['m.meta_value as slug', (eb) => eb.fn.countAll<number>().as('n')])
        .where('m.meta_key', '=', settings.metaProvider).where('p.post_type', '=', settings.postType)
        .where('p.post_status', 'not in', ['auto-draft', 'inherit', 'trash'])
        .groupBy('m.meta_value').execute();
      return new Map(rows.filter((r) => r.slug && r.slug.trim()).map((r) => [r.slug!.trim(), Number(r.n)]));
    },
  };
}

/** The slugs that have an adapter, and for others the sentence of why not (missing credentials, unsupported). */
export type KnownProviders = ReadonlySet<string> & { readonly problems?: ReadonlyMap<string, string> };

export function knownProviders(providers: ReadonlyMap<string, unknown>, problems?: ReadonlyMap<string, string>): KnownProviders {
  return Object.assign(new Set(providers.keys()), { problems });
}

/** A plain sentence saying why a server cannot be snapshotted, or null when it can. */
export function serverProblem(serverId: number, server: HostServer | undefined, knownProviders: KnownProviders): string | null {
  if (!server) return `Server #${serverId} is no longer in the panel (deleted); its snapshots stay in this list.`;
  if (server.postStatus === 'trash') return `Server #${serverId} is in the panel's trash; restore it to resume snapshots.`;
  if (!server.provider) return `Server #${serverId} has no provider set in the panel.`;
  if (!knownProviders.has(server.provider)) {
    const why = knownProviders.problems?.get(server.provider) ?? unsupportedReason(server.provider);
    if (why) return why;
    return `Provider "${server.provider}" of server #${serverId} has no credentials: enter its API key under WPCloudDeploy → Settings → Cloud Providers, or add it to the providers file (SS_PROVIDERS_FILE), then restart the sidecar.`;
  }
  if (!server.instanceId) return `Server #${serverId} has no provider instance id in the panel.`;
  return null;
}

export function serverDisplayName(s: HostServer | undefined, id: number): string {
  return s?.name || s?.title || `Server #${id}`;
}
