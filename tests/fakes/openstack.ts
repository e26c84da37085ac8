/**
 * A local stand-in for an OpenStack cloud (Keystone v3 + Nova + Glance v2) on one server, as
 * far as snapshots go, behaving as docs/providers.md documents it:
 *   - `POST /identity/v3/auth/tokens` (password, project scope) → 201, token in
 *     `X-Subject-Token`, body `token.expires_at`, `token.project`, `token.catalog[]` whose
 *     public endpoints in `RegionOne` point back at this server (`/compute/v2.1`, `/image`);
 *     internal endpoints and another region point at a closed port, so picking the wrong one fails;
 *   - `POST /compute/v2.1/servers/{id}/action {createImage}` → 202 with `{ image_id }` when the
 *     request asks for microversion ≥ 2.45, else with only a `Location` header; switch
 *     `microversions` to `'legacy'` (the header is ignored: always Location) or `'max-2.44'`
 *     (2.45 refused with 406, as Nova does for a version it does not offer); 409
 *     `conflictingRequest` while the server's previous image is still being saved;
 *     Nova errors `{ itemNotFound: { code, message } }`;
 *   - `GET /image/v2/images/{id}` (`queued` → `saving` → `active`, or `killed`), metadata as
 *     top-level properties; `GET /image/v2/images?name=&owner=&id=in:…&limit=&marker=` with `next`;
 *     `DELETE` → 204, 404 when gone, 403 when protected (plain-text bodies, as Glance sends).
 *   - a volume-backed server (`addServer(id, { volumeBacked })`): createImage makes a zero-byte
 *     Glance image whose `block_device_mapping` property (a JSON string, as Nova writes it)
 *     names one Cinder snapshot per volume; Cinder v3 (`volumev3` in the catalog,
 *     `/volume/v3/{project_id}`) serves `GET`/`DELETE /snapshots/{id}` (404 `itemNotFound`);
 *     deleting the image leaves those snapshots, as OpenStack does;
 *   - Keystone also takes an application credential (`application_credential` method with
 *     id + secret, no scope) and user/project domains by id (`default`).
 * Tokens expire at `expires_at` by the fake's clock and can be revoked (→ 401 on use).
 *
 * Progress is counted, not timed: an image shows `queued`/`saving` for `pendingPolls` reads
 * (by id or in a list), then `active`.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  actDiscardingAnswer,
  countMatching,
  FailureQueue,
  serveConnectionFailure,
  startFakeHttpServer,
  type CommonFailure,
  type FakeHttpServer,
  type RequestMatch,
} from './base.js';

export type { RequestMatch } from './base.js';

export type InjectedFailure =
  | CommonFailure
  | { kind: '401' }
  /** The cloud acts on the request, then the answer is lost (connection dropped / 500). */
  | { kind: 'reset-after' }
  | { kind: '5xx-after' };

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface GlanceImage {
  id: string;
  name: string;
  status: 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'pending_delete';
  owner: string;
  visibility: 'private' | 'shared' | 'public';
  protected: boolean;
  size: number | null;
  instance_uuid: string | null;
  created_at: string;
  updated_at: string;
  /** Metadata given to createImage, shown by Glance as top-level properties. */
  properties: Record<string, string>;
}

/** A Cinder volume snapshot, as `GET /v3/{project_id}/snapshots/{id}` shows it. */
export interface CinderSnapshot {
  id: string;
  name: string;
  status: 'creating' | 'available' | 'error' | 'deleting';
  /** GiB. */
  size: number;
  volume_id: string;
}

/** The application credential Keystone accepts (id + secret). */
export const OPENSTACK_TEST_APP_CREDENTIAL = { id: '3f6e5d4c2b1a40f9a8e7d6c5b4a39281', secret: 'app-cred-Secret-456' };
export const DEFAULT_DOMAIN_ID = 'default';

export interface OpenstackUser {
  username: string;
  password: string;
  userDomainName: string;
  projectName: string;
  projectDomainName: string;
}

export interface FakeOpenstackOptions {
  user?: Partial<OpenstackUser>;
  now?: () => number;
  /** Token lifetime. Default one hour. */
  tokenTtlMs?: number;
  pendingPolls?: number;
}

export const OPENSTACK_TEST_USER: OpenstackUser = {
  username: 'snapper',
  password: 'os-pass-Secret-123',
  userDomainName: 'Default',
  projectName: 'web',
  projectDomainName: 'Default',
};

export const PROJECT_ID = '0c4e939acacf4376bdcd1129f1a054ad';

export interface FakeOpenstack {
  /** Base of the fake; `authUrl` is `${url}/identity`. */
  readonly url: string;
  readonly authUrl: string;
  readonly user: OpenstackUser;
  pendingPolls: number;
  tokenTtlMs: number;
  microversions: 'modern' | 'legacy' | 'max-2.44';
  /** Largest page Glance sends, whatever `limit` asks for. */
  pageSize: number;
  /** When set, Glance's `next` is an absolute link on this origin (a misconfigured or hostile endpoint). */
  nextLinkOrigin: string | null;
  /** `volumeBacked`: sizes (GiB) of the server's volumes; its images are made of Cinder snapshots. */
  addServer(id: string, opts?: { volumeBacked?: number[] }): void;
  /** Cinder snapshots (deleted ones are gone from here). */
  volumeSnapshots(): CinderSnapshot[];
  /** Store an image directly (someone else's, another project's, or a leftover). */
  putImage(img: Partial<GlanceImage> & { name: string }): GlanceImage;
  failNextImage(): void;
  protectImage(id: string): void;
  /** Every token issued so far answers 401 from now on. */
  revokeTokens(): void;
  images(): GlanceImage[];
  inject(times: number, failure: InjectedFailure, match?: RequestMatch): void;
  readonly requests: RecordedRequest[];
  count(match?: RequestMatch): number;
  close(): Promise<void>;
}

const AUTH = { method: 'POST', path: /\/v3\/auth\/tokens$/ };
export const AUTH_REQUESTS: RequestMatch = AUTH;

export async function startFakeOpenstack(opts: FakeOpenstackOptions = {}): Promise<FakeOpenstack> {
  const user: OpenstackUser = { ...OPENSTACK_TEST_USER, ...opts.user };
  const now = opts.now ?? Date.now;
  const tokens = new Map<string, { expiresAt: number; revoked: boolean }>();
  const servers = new Map<string, { volumeBacked: number[] | null }>();
  const volumeSnapshotMap = new Map<string, CinderSnapshot & { pollsLeft: number }>();
  type StoredImage = GlanceImage & { pollsLeft: number; willFail: boolean; reads: number; sizeWhenActive?: number };
  const imageMap = new Map<string, StoredImage>();
  const injections = new FailureQueue<InjectedFailure>();
  const requests: RecordedRequest[] = [];
  let failNext = false;

  const iso = (t = now()): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let server: FakeHttpServer | undefined;

  const fake = {
    url: '',
    authUrl: '',
    user,
    pendingPolls: opts.pendingPolls ?? 1,
    tokenTtlMs: opts.tokenTtlMs ?? 3_600_000,
    microversions: 'modern' as FakeOpenstack['microversions'],
    pageSize: 25,
    nextLinkOrigin: null,
    requests,
    addServer(id: string, o: { volumeBacked?: number[] } = {}) {
      servers.set(id, { volumeBacked: o.volumeBacked ?? null });
    },
    volumeSnapshots(): CinderSnapshot[] {
      return [...volumeSnapshotMap.values()].map(({ pollsLeft: _p, ...snap }) => snap);
    },
    putImage(img: Partial<GlanceImage> & { name: string }): GlanceImage {
      const t = iso();
      const full = {
        id: randomUUID(), status: 'active' as const, owner: PROJECT_ID, visibility: 'private' as const, protected: false,
        size: 1_073_741_824, instance_uuid: null, created_at: t, updated_at: t, properties: {}, ...img, pollsLeft: 0, willFail: false, reads: 0,
      };
      imageMap.set(full.id, full);
      return full;
    },
    failNextImage() {
      failNext = true;
    },
    protectImage(id: string) {
      const img = imageMap.get(id);
      if (img) img.protected = true;
    },
    revokeTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    images(): GlanceImage[] {
      return [...imageMap.values()].map(({ pollsLeft: _p, willFail: _w, reads: _r, sizeWhenActive: _s, ...img }) => img);
    },
    inject(times: number, failure: InjectedFailure, match: RequestMatch = {}) {
      injections.add(times, failure, match);
    },
    count(match: RequestMatch = {}) {
      return countMatching(requests, match);
    },
    async close() {
      await server?.close();
    },
  };

  function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }
  function sendText(res: http.ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=UTF-8' });
    res.end(text);
  }
  const unauthorized = (res: http.ServerResponse) =>
    sendJson(res, 401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
  const nova = (res: http.ServerResponse, status: number, kind: string, message: string) =>
    sendJson(res, status, { [kind]: { code: status, message } });

  function tokenOk(headers: http.IncomingHttpHeaders): boolean {
    const t = headers['x-auth-token'];
    const rec = typeof t === 'string' ? tokens.get(t) : undefined;
    return !!rec && !rec.revoked && now() < rec.expiresAt;
  }

  function catalog(): unknown[] {
    const closed = 'http://127.0.0.1:1';
    // The right endpoint comes last, so an adapter that takes the first one fails.
    const eps = (path: string) => [
      { id: randomUUID(), interface: 'internal', region_id: 'RegionOne', region: 'RegionOne', url: `${closed}${path}` },
      { id: randomUUID(), interface: 'public', region_id: 'RegionTwo', region: 'RegionTwo', url: `${closed}${path}` },
      { id: randomUUID(), interface: 'admin', region_id: 'RegionOne', region: 'RegionOne', url: `${closed}${path}` },
      { id: randomUUID(), interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: `${fake.url}${path}` },
    ];
    return [
      { id: randomUUID(), type: 'identity', name: 'keystone', endpoints: eps('/identity') },
      { id: randomUUID(), type: 'compute', name: 'nova', endpoints: eps('/compute/v2.1') },
      { id: randomUUID(), type: 'image', name: 'glance', endpoints: eps('/image') },
      { id: randomUUID(), type: 'volumev3', name: 'cinderv3', endpoints: eps(`/volume/v3/${PROJECT_ID}`) },
    ];
  }

  function keystone(body: unknown, res: http.ServerResponse): void {
    const a = (body as { auth?: Record<string, any> } | null)?.auth;
    const u = a?.identity?.password?.user;
    const p = a?.scope?.project;
    const ac = a?.identity?.application_credential;
    const domainOk = (d: { name?: unknown; id?: unknown } | undefined, name: string) => d?.name === name || (d?.id === DEFAULT_DOMAIN_ID && name === 'Default');
    const methods: unknown[] = Array.isArray(a?.identity?.methods) ? a.identity.methods : [];
    // An application credential carries its own scope: Keystone refuses one in the request.
    const byAppCredential = methods.includes('application_credential') && a?.scope === undefined &&
      ac?.id === OPENSTACK_TEST_APP_CREDENTIAL.id && ac?.secret === OPENSTACK_TEST_APP_CREDENTIAL.secret;
    const byPassword = methods.includes('password') &&
      u?.name === user.username && u?.password === user.password && domainOk(u?.domain, user.userDomainName) &&
      ((p?.name === user.projectName && domainOk(p?.domain, user.projectDomainName)) || p?.id === PROJECT_ID);
    if (!byAppCredential && !byPassword) return unauthorized(res);
    const token = `gAAAAA${randomUUID().replace(/-/g, '')}`;
    const expiresAt = now() + fake.tokenTtlMs;
    tokens.set(token, { expiresAt, revoked: false });
    sendJson(res, 201, {
      token: {
        methods: ['password'],
        user: { id: 'u-1', name: user.username, domain: { id: 'default', name: user.userDomainName }, password_expires_at: null },
        project: { id: PROJECT_ID, name: user.projectName, domain: { id: 'default', name: user.projectDomainName } },
        roles: [{ id: 'r-1', name: 'member' }],
        audit_ids: ['a1'],
        // Keystone writes microseconds.
        expires_at: new Date(expiresAt).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        issued_at: new Date(now()).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        catalog: catalog(),
      },
    }, { 'X-Subject-Token': token });
  }

  /** Requested compute microversion, e.g. 2.45, or null for none. */
  function microversion(headers: http.IncomingHttpHeaders): number | null {
    const h = headers['openstack-api-version'];
    const m = typeof h === 'string' ? /compute\s+(\d+)\.(\d+)/i.exec(h) : null;
    return m ? Number(m[1]) + Number(m[2]) / 1000 : null; // 2.45 → 2.045 so 2.5 < 2.45 compares right
  }

  function createImage(serverId: string, body: unknown, headers: http.IncomingHttpHeaders, res: http.ServerResponse): void {
    const ci = (body as { createImage?: { name?: unknown; metadata?: unknown } } | null)?.createImage;
    if (!ci || typeof ci.name !== 'string' || !ci.name) return nova(res, 400, 'badRequest', "Invalid input for field/attribute createImage.");
    const srv = servers.get(serverId);
    if (!srv) return nova(res, 404, 'itemNotFound', `Instance ${serverId} could not be found.`);
    const v = microversion(headers);
    if (fake.microversions === 'max-2.44' && v !== null && v > 2.044) {
      return nova(res, 406, 'notAcceptable', 'Version 2.45 is not supported by the API. Minimum is 2.1 and maximum is 2.44.');
    }
    const busy = [...imageMap.values()].some((i) => i.instance_uuid === serverId && (i.status === 'queued' || i.status === 'saving'));
    if (busy) return nova(res, 409, 'conflictingRequest', `Cannot 'createImage' instance ${serverId} while it is in task_state image_snapshot`);
    const t = iso();
    const meta = (ci.metadata && typeof ci.metadata === 'object' ? ci.metadata : {}) as Record<string, string>;
    const img = {
      id: randomUUID(), name: ci.name, status: 'queued' as const, owner: PROJECT_ID, visibility: 'private' as const, protected: false,
      size: null, instance_uuid: serverId, created_at: t, updated_at: t, properties: { ...meta, image_type: 'snapshot' },
      pollsLeft: fake.pendingPolls, willFail: failNext, reads: 0,
    };
    failNext = false;
    if (srv.volumeBacked) volumeBackedImage(img, srv.volumeBacked);
    imageMap.set(img.id, img);
    const location = `${fake.url}/image/v2/images/${img.id}`;
    if (fake.microversions === 'modern' && v !== null && v >= 2.045) return sendJson(res, 202, { image_id: img.id });
    res.writeHead(202, { Location: location, 'Content-Length': '0' });
    res.end();
  }

  /**
   * Nova's snapshot of a volume-backed server: a Cinder snapshot per volume and a zero-byte
   * image that only points at them (`block_device_mapping`, `bdm_v2`, `root_device_name`).
   */
  function volumeBackedImage(img: StoredImage, sizes: number[]): void {
    const bdm = sizes.map((size, i) => {
      const snap = { id: randomUUID(), name: `snapshot for ${img.name}`, status: 'creating' as const, size, volume_id: randomUUID(), pollsLeft: fake.pendingPolls };
      volumeSnapshotMap.set(snap.id, snap);
      return {
        source_type: 'snapshot', destination_type: 'volume', snapshot_id: snap.id, volume_id: null, volume_size: size,
        device_name: `/dev/vd${String.fromCharCode(97 + i)}`, boot_index: i === 0 ? 0 : null, delete_on_termination: false, disk_bus: 'virtio',
      };
    });
    img.properties = { ...img.properties, block_device_mapping: JSON.stringify(bdm), bdm_v2: 'True', root_device_name: '/dev/vda' };
    img.sizeWhenActive = 0;
  }

  function cinder(method: string, rest: string, res: http.ServerResponse): void {
    const m = new RegExp(`^/${PROJECT_ID}/snapshots/([^/]+)$`).exec(rest);
    const snap = m ? volumeSnapshotMap.get(m[1]!) : undefined;
    if (!m) return nova(res, 404, 'itemNotFound', 'The resource could not be found.');
    if (!snap) return nova(res, 404, 'itemNotFound', `Snapshot ${m[1]} could not be found.`);
    if (method === 'GET') {
      if (snap.status === 'creating' && --snap.pollsLeft <= 0) snap.status = 'available';
      const { pollsLeft: _p, ...shown } = snap;
      return sendJson(res, 200, { snapshot: { ...shown, description: null, created_at: iso(), updated_at: iso(), metadata: {} } });
    }
    if (method === 'DELETE') {
      volumeSnapshotMap.delete(snap.id);
      res.writeHead(202, { 'Content-Length': '0' });
      return void res.end();
    }
    return nova(res, 405, 'badMethod', 'Method not allowed.');
  }

  /** One read of an image counts as one poll of it. */
  function advance(img: StoredImage): void {
    if (img.status !== 'queued' && img.status !== 'saving') return;
    if (img.pollsLeft > 0) {
      // First read queued, later ones saving, as Glance shows a snapshot being uploaded.
      if (img.reads > 0) img.status = 'saving';
      img.reads++;
      img.pollsLeft--;
      return;
    }
    img.status = img.willFail ? 'killed' : 'active';
    img.size = img.willFail ? null : img.sizeWhenActive ?? 2_147_483_648;
    img.updated_at = iso();
  }

  function imageJson(img: GlanceImage): Record<string, unknown> {
    return {
      id: img.id, name: img.name, status: img.status, visibility: img.visibility, owner: img.owner, protected: img.protected,
      size: img.size, virtual_size: null, checksum: null, container_format: 'bare', disk_format: 'qcow2', min_disk: 20, min_ram: 0,
      tags: [], created_at: img.created_at, updated_at: img.updated_at, instance_uuid: img.instance_uuid,
      self: `/v2/images/${img.id}`, file: `/v2/images/${img.id}/file`, schema: '/v2/schemas/image', ...img.properties,
    };
  }

  function glance(method: string, rest: string, query: URLSearchParams, res: http.ServerResponse): void {
    if (rest === '/v2/images' && method === 'GET') {
      let list = [...imageMap.values()].filter((i) => i.status !== 'deleted');
      const name = query.get('name');
      const owner = query.get('owner');
      // Glance's `in:` operator: `?id=in:a,b,c` (or `name=in:…`) matches any of the listed values.
      const matches = (actual: string, wanted: string): boolean => (wanted.startsWith('in:') ? wanted.slice(3).split(',').includes(actual) : actual === wanted);
      if (name !== null) list = list.filter((i) => matches(i.name, name));
      if (owner !== null) list = list.filter((i) => i.owner === owner);
      const ids = query.get('id');
      if (ids !== null) list = list.filter((i) => matches(i.id, ids));
      // Glance filters on custom properties too (`?ss_managed_by=scheduled-snapshots`).
      for (const [key, value] of query) {
        if (!['id', 'name', 'owner', 'marker', 'limit', 'sort', 'sort_key', 'sort_dir'].includes(key)) list = list.filter((i) => String(i.properties[key] ?? '') === value);
      }
      list.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id.localeCompare(b.id)));
      const marker = query.get('marker');
      if (marker) {
        const at = list.findIndex((i) => i.id === marker);
        if (at < 0) return sendText(res, 400, '400 Bad Request\n\nmarker not found');
        list = list.slice(at + 1);
      }
      const limit = Math.min(Number(query.get('limit') ?? 25), fake.pageSize);
      const page = list.slice(0, limit);
      for (const img of page) advance(img);
      const out: Record<string, unknown> = { images: page.map(imageJson), first: '/v2/images', schema: '/v2/schemas/images' };
      if (list.length > limit) {
        const q = new URLSearchParams(query);
        q.set('marker', page[page.length - 1]!.id);
        out.next = `${fake.nextLinkOrigin ?? ''}/v2/images?${q.toString()}`;
      }
      return sendJson(res, 200, out);
    }
    const m = /^\/v2\/images\/([^/]+)$/.exec(rest);
    if (!m) return sendText(res, 404, '404 Not Found\n\nThe resource could not be found.');
    const img = imageMap.get(m[1]!);
    if (!img || img.status === 'deleted') return sendText(res, 404, `404 Not Found\n\nNo image found with ID ${m[1]}`);
    if (method === 'GET') {
      advance(img);
      return sendJson(res, 200, imageJson(img));
    }
    if (method === 'DELETE') {
      if (img.protected) return sendText(res, 403, `403 Forbidden\n\nImage ${img.id} is protected and cannot be deleted.`);
      imageMap.delete(img.id);
      res.writeHead(204);
      return void res.end();
    }
    return sendText(res, 405, '405 Method Not Allowed');
  }

  function handle(method: string, path: string, query: URLSearchParams, headers: http.IncomingHttpHeaders, body: unknown, res: http.ServerResponse): void {
    if (path === '/identity/v3/auth/tokens' && method === 'POST') return keystone(body, res);
    if (path.startsWith('/compute/v2.1/')) {
      if (!tokenOk(headers)) return unauthorized(res);
      const m = /^\/compute\/v2\.1\/servers\/([^/]+)\/action$/.exec(path);
      if (m && method === 'POST') return createImage(decodeURIComponent(m[1]!), body, headers, res);
      return nova(res, 404, 'itemNotFound', 'The resource could not be found.');
    }
    if (path.startsWith('/volume/v3/')) {
      if (!tokenOk(headers)) return unauthorized(res);
      return cinder(method, path.slice('/volume/v3'.length), res);
    }
    if (path.startsWith('/image/')) {
      if (!tokenOk(headers)) return unauthorized(res);
      return glance(method, path.slice('/image'.length), query, res);
    }
    return sendText(res, 404, '404 Not Found');
  }

  server = await startFakeHttpServer((r, res) => {
    const { req, method } = r;
    const u = r.url;
    const body: unknown = r.raw ? (r.badJson ? r.raw : r.json) : null;
    requests.push({ method, path: u.pathname, query: u.searchParams, headers: req.headers, body });
    const f = injections.take(method, u.pathname);
    if (f) {
      const act = (out: http.ServerResponse) => handle(method, u.pathname, u.searchParams, req.headers, body, out);
      if (serveConnectionFailure(server!, r, res, f, act)) return;
      if (f.kind === 'malformed') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end('{"image": {"id": ');
      }
      if (f.kind === '5xx') return nova(res, f.status ?? 500, 'computeFault', 'Unexpected API Error.');
      if (f.kind === '429') {
        return sendJson(res, 429, { overLimit: { code: 429, message: 'This request was rate-limited.' } }, f.headers ?? {});
      }
      if (f.kind === '401') return unauthorized(res);
      if (f.kind === 'reset-after' || f.kind === '5xx-after') {
        actDiscardingAnswer(act);
        if (f.kind === 'reset-after') return void req.socket.destroy();
        return nova(res, 500, 'computeFault', 'Unexpected API Error.');
      }
    }
    handle(method, u.pathname, u.searchParams, req.headers, body, res);
  });
  fake.url = server.url;
  fake.authUrl = `${fake.url}/identity`;
  return fake as FakeOpenstack;
}
