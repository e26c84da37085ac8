/**
 * The OpenStack adapter's session with Keystone: password login scoped to the project, the
 * Nova and Glance endpoints from the catalog, the token reused until shortly before it
 * expires, and exactly one new login and one resend after a 401 (never a loop). Also the
 * sentences for what Keystone, Nova and Glance refuse.
 */
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { ProviderContext } from './context.js';
import { budgetLimits } from './http/budget.js';
import { createHttpClient, type HttpClient, type HttpRequest, type HttpResponse } from './http/client.js';
import { type HttpFailure, parseBody, providerMessage } from './http/failures.js';
import type { openstackConfigSchema } from './openstack.js';
import { ProviderError } from './types.js';

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

export interface Session {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  computeUrl: string;
  imageUrl: string;
  /** Cinder v3 (block storage), for the volume snapshots of volume-backed servers; null when the catalog has none. */
  volumeUrl: string | null;
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

const trimSlash = (u: string): string => u.replace(/\/+$/, '');

export interface OpenstackSession {
  /** The current session, logging in when there is none or its token is about to expire. */
  currentSession(): Promise<Session>;
  /** A Nova or Glance request with our token; one new login and one resend after a 401. */
  authed<T>(service: Service, req: HttpRequest): Promise<HttpResponse<T>>;
}

export type Service = 'Nova' | 'Glance' | 'Cinder';

/** The Keystone v3 identity (and scope) of a login: an application credential or a user's password. */
function identityOf(config: z.output<typeof openstackConfigSchema>): { body: Record<string, unknown>; account: string } {
  const domain = (name?: string, id?: string) => (id ? { id } : { name });
  if (config.applicationCredentialId) {
    // An application credential is bound to its project: Keystone refuses an explicit scope.
    return {
      body: { identity: { methods: ['application_credential'], application_credential: { id: config.applicationCredentialId, secret: config.applicationCredentialSecret } } },
      account: `app-credential\n${config.applicationCredentialId}`,
    };
  }
  const project = config.projectId ? { id: config.projectId } : { name: config.projectName, domain: domain(config.projectDomainName, config.projectDomainId) };
  return {
    body: {
      identity: { methods: ['password'], password: { user: { name: config.username, domain: domain(config.userDomainName, config.userDomainId), password: config.password } } },
      scope: { project },
    },
    account: [config.userDomainId ?? config.userDomainName, config.username, config.password, config.projectDomainId ?? config.projectDomainName, config.projectId ?? config.projectName].join('\n'),
  };
}

export function createOpenstackSession(
  slug: string,
  config: z.output<typeof openstackConfigSchema>,
  ctx: ProviderContext,
  log: Logger,
): OpenstackSession {
  const now = ctx.now ?? Date.now;
  const authBase = trimSlash(config.authUrl).replace(/\/v3$/, '');
  const identity = identityOf(config);
  const budget = ctx.budgets.forAccount(
    { type: 'openstack', baseURL: authBase, credential: identity.account },
    budgetLimits('openstack', config.budget),
  );

  function describeFailure(service: 'Keystone' | Service) {
    return (f: HttpFailure): ProviderError | undefined => {
      const said = (service === 'Nova' ? novaMessage(f.body) : providerMessage(f.body)) ?? '';
      const tail = said ? ` (${said})` : '';
      if (f.status === 401) {
        return service === 'Keystone'
          ? new ProviderError('auth', config.applicationCredentialId
            ? `OpenStack (Keystone) refused the application credential for provider "${slug}": check applicationCredentialId and applicationCredentialSecret in the providers file (and that the credential has not expired).`
            : `OpenStack (Keystone) refused the login for provider "${slug}": check username, password, userDomainName, projectName and projectDomainName in the providers file.`, { status: 401 })
          : new ProviderError('auth', `OpenStack ${service} refused our token for provider "${slug}" even after logging in again.`, { status: 401 });
      }
      if (f.status === 403) {
        return new ProviderError('permission', `OpenStack ${service} refused the request${tail}: the user for provider "${slug}" lacks a role or policy it needs in its project.`, { status: 403 });
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
  function clientFor(baseURL: string, service: 'Keystone' | Service): HttpClient {
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
      data: { auth: identity.body },
    });
    const token = res.headers['x-subject-token'];
    if (!token) throw new ProviderError('bad_response', 'OpenStack Keystone accepted the login but sent no token (X-Subject-Token); check authUrl.');
    const body = parseBody(tokenBodySchema, res.data, 'OpenStack Keystone', 'the login');
    const expiresAt = Date.parse(body.token.expires_at);
    if (Number.isNaN(expiresAt)) throw new ProviderError('bad_response', 'OpenStack Keystone sent a token without a readable expiry time.');
    const computeUrl = config.apiUrl ? trimSlash(config.apiUrl) : pickEndpoint(body.token.catalog, 'compute');
    const imageUrl = config.imageUrl ? trimSlash(config.imageUrl) : pickEndpoint(body.token.catalog, 'image');
    const volumeUrl = config.volumeUrl ? trimSlash(config.volumeUrl) : pickEndpoint(body.token.catalog, 'block-storage') ?? pickEndpoint(body.token.catalog, 'volumev3');
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
      volumeUrl,
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
  async function authed<T>(service: Service, req: HttpRequest): Promise<HttpResponse<T>> {
    for (let attempt = 1; ; attempt++) {
      const s = await currentSession();
      const base = service === 'Nova' ? s.computeUrl : service === 'Glance' ? s.imageUrl : s.volumeUrl;
      if (!base) {
        throw new ProviderError('invalid', `The OpenStack catalog has no ${config.interface} block-storage (Cinder v3) endpoint in region "${config.region}", needed for the volume snapshots of this server's image: set volumeUrl for provider "${slug}".`);
      }
      const client = clientFor(base, service);
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

  return { currentSession, authed };
}
