/**
 * OpenStack adapter (Keystone v3 + Nova + Glance): a server snapshot is a Glance image made
 * with Nova's `createImage` server action.
 *
 * Session: password authentication scoped to the project gives a token (`X-Subject-Token`)
 * and a service catalog; we take the `compute` and `image` endpoints of the configured
 * region and interface (`public` by default). The token is reused until shortly before its
 * `expires_at`; a 401 from Nova or Glance (token revoked, clock skew) triggers exactly one
 * new authentication and one resend — never a loop.
 *
 * Create: `POST {compute}/servers/{id}/action {createImage}` with
 * `OpenStack-API-Version: compute 2.45`, where Nova answers `{ image_id }`. Clouds older than
 * 2.45 either ignore the header or refuse it with 406; either way the id then comes from the
 * `Location` header (a 406 means nothing happened, so the request is sent once more without
 * the header, and later creates skip it). Our snapshot id travels as image metadata, which
 * Glance shows as image properties, and the image name is the marker name.
 *
 * A create that fails ambiguously (5xx, timeout, reset: Nova may have acted) is followed at
 * once by a look for our image by name in Glance, so an accepted request is adopted instead of
 * repeated.
 */
import { z } from 'zod';
import type { ProviderContext } from './context.js';
import { budgetLimits } from './http/budget.js';
import { createHttpClient, type HttpClient, type HttpRequest, type HttpResponse } from './http/client.js';
import { restTuningShape } from './http/config.js';
import { type HttpFailure, parseBody, providerMessage } from './http/failures.js';
import {
  ProviderError,
  type CreateResult,
  type Provider,
  type ProviderCapabilities,
  type ProviderSnapshot,
  type ServerRef,
  type SnapshotMarker,
} from './types.js';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const openstackConfigSchema = z.object({
  type: z.literal('openstack'),
  /** Keystone, without `/v3` (a trailing `/v3` is tolerated and dropped). */
  authUrl: httpUrl,
  username: z.string().min(1, 'username is required'),
  password: z.string().min(1, 'password is required'),
  userDomainName: z.string().min(1, 'userDomainName is required'),
  projectName: z.string().min(1, 'projectName is required'),
  projectDomainName: z.string().min(1, 'projectDomainName is required'),
  region: z.string().min(1, 'region is required'),
  /** Which catalog endpoints to use. */
  interface: z.enum(['public', 'internal', 'admin']).default('public'),
  /** `apiUrl` overrides the compute (Nova) endpoint from the catalog; also budget, timeoutMs, maxRateLimitWaitMs. */
  ...restTuningShape,
  /** Overrides the image (Glance) endpoint from the catalog. */
  imageUrl: httpUrl.optional(),
  /** Start a new session this long before the token's `expires_at`. */
  tokenRefreshMarginMs: z.number().int().min(0).max(3_600_000).default(120_000),
}).strict();

export type OpenstackConfig = z.input<typeof openstackConfigSchema>;

/** Image metadata keys (Glance properties) that mark an image as ours. */
export const OPENSTACK_META_SNAPSHOT_ID = 'ss_snapshot_id';
export const OPENSTACK_META_MANAGED_BY = 'ss_managed_by';
export const OPENSTACK_MANAGED_BY = 'scheduled-snapshots';
export const NOVA_MICROVERSION = 'compute 2.45';

const CAPABILITIES: ProviderCapabilities = {
  create: true,
  delete: true,
  labels: true,
  slotsPerServer: null,
  notes: ['OpenStack snapshots are Glance images of the server; deleting one deletes the image.'],
};

const endpointSchema = z.object({
  interface: z.string(),
  region_id: z.string().nullable().optional(),
  region: z.string().nullable().optional(),
  url: z.string(),
});

const tokenBodySchema = z.object({
  token: z.object({
    expires_at: z.string(),
    project: z.object({ id: z.string() }).partial().optional(),
    catalog: z.array(z.object({ type: z.string(), endpoints: z.array(endpointSchema) })).default([]),
  }),
});

const imageSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullable().optional(),
  status: z.string(),
  size: z.number().nullable().optional(),
});
type GlanceImage = z.infer<typeof imageSchema>;

const imageListSchema = z.object({
  images: z.array(imageSchema),
  next: z.string().optional(),
});

interface Session {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  computeUrl: string;
  imageUrl: string;
  projectId: string | null;
}

/** Nova's errors: `{ "conflictingRequest": { "code": 409, "message": "…" } }` and kin. */
function novaMessage(body: unknown): string | null {
  if (body && typeof body === 'object') {
    for (const v of Object.values(body as Record<string, unknown>)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
        return providerMessage({ message: (v as { message: string }).message });
      }
    }
  }
  return providerMessage(body);
}

/** Image name: Glance allows up to 255 characters. */
export function openstackImageName(marker: SnapshotMarker): string {
  return marker.name.slice(0, 255);
}

const trimSlash = (u: string): string => u.replace(/\/+$/, '');

export function createOpenstackProvider(slug: string, input: OpenstackConfig, ctx: ProviderContext): Provider {
  const config = openstackConfigSchema.parse(input);
  const log = ctx.log.child({ provider: slug, type: 'openstack' });
  const now = ctx.now ?? Date.now;
  const authBase = trimSlash(config.authUrl).replace(/\/v3$/, '');
  const budget = ctx.budgets.forAccount(
    { type: 'openstack', baseURL: authBase, credential: `${config.userDomainName}\n${config.username}\n${config.password}\n${config.projectDomainName}\n${config.projectName}` },
    budgetLimits('openstack', config.budget),
  );

  function describeFailure(service: 'Keystone' | 'Nova' | 'Glance') {
    return (f: HttpFailure): ProviderError | undefined => {
      const said = (service === 'Nova' ? novaMessage(f.body) : providerMessage(f.body)) ?? '';
      const tail = said ? ` (${said})` : '';
      if (f.status === 401) {
        return service === 'Keystone'
          ? new ProviderError('auth', `OpenStack (Keystone) refused the login for provider "${slug}": check username, password, userDomainName, projectName and projectDomainName in the providers file.`, { status: 401 })
          : new ProviderError('auth', `OpenStack ${service} refused our token for provider "${slug}" even after logging in again.`, { status: 401 });
      }
      if (f.status === 403) {
        return new ProviderError('permission', `OpenStack ${service} refused the request${tail}: the user for provider "${slug}" lacks a role or policy it needs in project "${config.projectName}".`, { status: 403 });
      }
      if (f.status === 404) {
        return new ProviderError('not_found', `OpenStack ${service} does not know what we asked for (${f.method} ${f.url}): check the server's instance id and the region.`, { status: 404 });
      }
      if (f.status === 409) {
        return new ProviderError('busy', `OpenStack ${service} is busy with this server${tail}.`, { status: 409, params: { provider: `OpenStack ${service}`, attempts: f.attempts } });
      }
      if (f.status === 400 || f.status === 413 || f.status === 422) {
        return new ProviderError('invalid', `OpenStack ${service} refused the request${tail || ` (HTTP ${f.status})`}.`, { status: f.status });
      }
      return undefined;
    };
  }

  const clients = new Map<string, HttpClient>();
  function clientFor(baseURL: string, service: 'Keystone' | 'Nova' | 'Glance'): HttpClient {
    const key = `${service} ${baseURL}`;
    let c = clients.get(key);
    if (!c) {
      c = createHttpClient({
        baseURL,
        providerName: `OpenStack ${service}`,
        log,
        budget,
        ...(config.maxRateLimitWaitMs !== undefined ? { retry: { maxRateLimitWaitMs: config.maxRateLimitWaitMs } } : {}),
        ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
        ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
        ...(ctx.now ? { now: ctx.now } : {}),
        describeFailure: describeFailure(service),
      });
      clients.set(key, c);
    }
    return c;
  }

  // ------------------------------------------------------------------ session

  let session: Session | null = null;
  let loggingIn: Promise<Session> | null = null;

  function pickEndpoint(catalog: z.infer<typeof tokenBodySchema>['token']['catalog'], type: string): string | null {
    for (const svc of catalog) {
      if (svc.type !== type) continue;
      const ep = svc.endpoints.find((e) => e.interface === config.interface && (e.region_id ?? e.region) === config.region);
      if (ep) return trimSlash(ep.url);
    }
    return null;
  }

  async function login(): Promise<Session> {
    const res = await clientFor(authBase, 'Keystone').request({
      method: 'POST',
      url: '/v3/auth/tokens',
      idempotent: true, // a login has no side effect worth guarding: resend after a 5xx
      data: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: config.username, domain: { name: config.userDomainName }, password: config.password } },
          },
          scope: { project: { name: config.projectName, domain: { name: config.projectDomainName } } },
        },
      },
    });
    const token = res.headers['x-subject-token'];
    if (!token) throw new ProviderError('bad_response', 'OpenStack Keystone accepted the login but sent no token (X-Subject-Token); check authUrl.');
    const body = parseBody(tokenBodySchema, res.data, 'OpenStack Keystone', 'the login');
    const expiresAt = Date.parse(body.token.expires_at);
    if (Number.isNaN(expiresAt)) throw new ProviderError('bad_response', 'OpenStack Keystone sent a token without a readable expiry time.');
    const computeUrl = config.apiUrl ? trimSlash(config.apiUrl) : pickEndpoint(body.token.catalog, 'compute');
    const imageUrl = config.imageUrl ? trimSlash(config.imageUrl) : pickEndpoint(body.token.catalog, 'image');
    for (const [what, url] of [['compute (Nova)', computeUrl], ['image (Glance)', imageUrl]] as const) {
      if (!url) {
        throw new ProviderError('invalid', `The OpenStack catalog has no ${config.interface} ${what} endpoint in region "${config.region}": check region (or set ${what.startsWith('compute') ? 'apiUrl' : 'imageUrl'}) for provider "${slug}".`);
      }
    }
    log.debug({ expiresAt: new Date(expiresAt).toISOString() }, 'OpenStack session started');
    return {
      token,
      expiresAt,
      computeUrl: computeUrl as string,
      // Glance's versioned paths are ours to add: accept catalog URLs with or without /v2.
      imageUrl: (imageUrl as string).replace(/\/v2(\.\d+)?$/, ''),
      projectId: body.token.project?.id ?? null,
    };
  }

  /** The current session, logging in when there is none or its token is about to expire. */
  async function currentSession(): Promise<Session> {
    if (session && now() < session.expiresAt - config.tokenRefreshMarginMs) return session;
    // One login at a time: concurrent callers wait for the same one.
    loggingIn ??= login().finally(() => {
      loggingIn = null;
    });
    session = await loggingIn;
    return session;
  }

  /** A Nova or Glance request with our token; one new login and one resend after a 401. */
  async function authed<T>(service: 'Nova' | 'Glance', req: HttpRequest): Promise<HttpResponse<T>> {
    for (let attempt = 1; ; attempt++) {
      const s = await currentSession();
      const client = clientFor(service === 'Nova' ? s.computeUrl : s.imageUrl, service);
      try {
        return await client.request<T>({ ...req, headers: { ...req.headers, 'X-Auth-Token': s.token } });
      } catch (err) {
        if (err instanceof ProviderError && err.status === 401 && attempt === 1) {
          log.info({ service }, 'token refused, logging in again once');
          if (session === s) session = null;
          continue;
        }
        throw err;
      }
    }
  }

  // ------------------------------------------------------------------ images

  function toSnapshot(img: GlanceImage): ProviderSnapshot {
    switch (img.status) {
      case 'queued':
      case 'saving':
      case 'uploading':
      case 'importing':
        return { providerSnapshotId: img.id, state: 'creating', sizeBytes: null };
      case 'active':
      case 'deactivated': // still there (and billed); an admin switched it off
        return { providerSnapshotId: img.id, state: 'available', sizeBytes: img.size ?? null };
      case 'killed':
        return { providerSnapshotId: img.id, state: 'failed', reason: 'OpenStack could not save the image (status killed).' };
      case 'deleted':
      case 'pending_delete':
        return { providerSnapshotId: img.id, state: 'gone' };
      default:
        log.warn({ imageId: img.id, status: img.status }, 'unknown Glance image status, treating as still creating');
        return { providerSnapshotId: img.id, state: 'creating', sizeBytes: null };
    }
  }

  async function getImage(imageId: string): Promise<GlanceImage | null> {
    try {
      const res = await authed('Glance', { method: 'GET', url: `/v2/images/${encodeURIComponent(imageId)}` });
      return parseBody(imageSchema, res.data, 'OpenStack Glance', 'the image');
    } catch (err) {
      if (err instanceof ProviderError && err.status === 404) return null;
      throw err;
    }
  }

  /** `next` from Glance is a path under the image endpoint (`/v2/images?marker=…`). */
  function nextPath(next: string, imageUrl: string): string {
    if (/^https?:\/\//.test(next)) {
      const u = new URL(next);
      const basePath = new URL(imageUrl).pathname.replace(/\/+$/, '');
      const path = u.pathname.startsWith(basePath) ? u.pathname.slice(basePath.length) : u.pathname;
      return path + u.search;
    }
    return next.startsWith('/') ? next : `/${next}`;
  }

  async function imagesNamed(name: string): Promise<GlanceImage[]> {
    const s = await currentSession();
    const found: GlanceImage[] = [];
    let url: string | null = `/v2/images?${new URLSearchParams({ name, ...(s.projectId ? { owner: s.projectId } : {}), limit: '100' }).toString()}`;
    for (let page = 0; url && page < 1000; page++) {
      const res: HttpResponse<unknown> = await authed('Glance', { method: 'GET', url });
      const list = parseBody(imageListSchema, res.data, 'OpenStack Glance', 'the image list');
      for (const img of list.images) if (img.name === name) found.push(img);
      url = list.next ? nextPath(list.next, s.imageUrl) : null;
    }
    return found;
  }

  function belongsTo(img: GlanceImage, marker: SnapshotMarker): boolean {
    const id = img[OPENSTACK_META_SNAPSHOT_ID];
    return img.name === openstackImageName(marker) && (id === undefined || String(id) === String(marker.snapshotId));
  }

  async function findByMarker(_server: ServerRef, marker: SnapshotMarker): Promise<ProviderSnapshot | null> {
    const images = (await imagesNamed(openstackImageName(marker))).filter((i) => belongsTo(i, marker));
    const live = images.find((i) => i.status !== 'deleted' && i.status !== 'pending_delete') ?? images[0];
    return live ? toSnapshot(live) : null;
  }

  // ------------------------------------------------------------------ create

  /** Set once a cloud refused microversion 2.45 with 406: later creates go without it. */
  let legacyCompute = false;

  function imageIdFrom(res: HttpResponse<unknown>): string | null {
    const fromBody = (res.data as { image_id?: unknown } | undefined)?.image_id;
    if (typeof fromBody === 'string' && fromBody) return fromBody;
    const location = res.headers.location;
    if (location) {
      const m = /\/images\/([^/?#]+)\/?(?:[?#].*)?$/.exec(location);
      if (m?.[1]) return decodeURIComponent(m[1]);
    }
    return null;
  }

  async function create(server: ServerRef, marker: SnapshotMarker): Promise<CreateResult> {
    const name = openstackImageName(marker);
    const send = (withMicroversion: boolean): Promise<HttpResponse<unknown>> =>
      authed('Nova', {
        method: 'POST',
        url: `/servers/${encodeURIComponent(server.instanceId)}/action`,
        headers: withMicroversion ? { 'OpenStack-API-Version': NOVA_MICROVERSION } : {},
        data: {
          createImage: {
            name,
            metadata: { [OPENSTACK_META_SNAPSHOT_ID]: String(marker.snapshotId), [OPENSTACK_META_MANAGED_BY]: OPENSTACK_MANAGED_BY },
          },
        },
      });

    let res: HttpResponse<unknown>;
    try {
      try {
        res = await send(!legacyCompute);
      } catch (err) {
        // 406: "Version 2.45 is not supported by the API" — nothing was done; ask the old way.
        if (!(err instanceof ProviderError && err.status === 406) || legacyCompute) throw err;
        log.info('Nova does not offer microversion 2.45; using the Location header');
        legacyCompute = true;
        res = await send(false);
      }
    } catch (err) {
      // 5xx / timeout / reset: Nova may have made the image. 409: the server may be busy
      // saving our own image (create repeated after a crash). Either way, look for it first.
      if (err instanceof ProviderError && (err.code === 'transient' || err.code === 'busy')) {
        const found = await findByMarker(server, marker).catch(() => null);
        if (found) {
          log.info({ imageId: found.providerSnapshotId, code: err.code }, 'createImage failed, but the image exists: adopted');
          return { providerSnapshotId: found.providerSnapshotId, state: found.state, sizeBytes: null };
        }
      }
      throw err;
    }
    const imageId = imageIdFrom(res);
    if (!imageId) {
      // Accepted, but neither body nor Location names the image: find it by its name.
      const found = await findByMarker(server, marker);
      if (found) return { providerSnapshotId: found.providerSnapshotId, state: found.state, sizeBytes: null };
      throw new ProviderError('bad_response', 'OpenStack Nova accepted createImage but did not say which image it made (no image_id, no Location).');
    }
    return { providerSnapshotId: imageId, state: 'creating', sizeBytes: null };
  }

  // ------------------------------------------------------------------ status, delete

  async function status(
    server: ServerRef,
    ref: { providerSnapshotId: string | null; pendingRef?: string | null; marker: SnapshotMarker },
  ): Promise<ProviderSnapshot> {
    if (!ref.providerSnapshotId) {
      const found = await findByMarker(server, ref.marker);
      if (!found) throw new ProviderError('failed', `OpenStack has no image named "${openstackImageName(ref.marker)}": it was never created.`);
      return found;
    }
    const img = await getImage(ref.providerSnapshotId);
    return img ? toSnapshot(img) : { providerSnapshotId: ref.providerSnapshotId, state: 'gone' };
  }

  async function deleteImage(_server: ServerRef, imageId: string): Promise<{ alreadyGone: boolean }> {
    try {
      await authed('Glance', { method: 'DELETE', url: `/v2/images/${encodeURIComponent(imageId)}` });
      return { alreadyGone: false };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (err.status === 404) return { alreadyGone: true };
      // Glance refuses to delete a protected image with a 403 whose body is often plain text:
      // ask the image itself rather than parse the refusal.
      if (err.status === 403) {
        const img = await getImage(imageId).catch(() => null);
        if (img?.protected === true) {
          throw new ProviderError('invalid', 'The image is protected in OpenStack: unprotect it (openstack image set --unprotected) and try again.', { status: 403 });
        }
      }
      throw err;
    }
  }

  return {
    slug,
    type: 'openstack',
    displayName: 'OpenStack',
    capabilities: CAPABILITIES,
    create,
    status,
    findByMarker,
    delete: deleteImage,
  };
}
