/**
 * A local stand-in for the Linode API v4 (`https://api.linode.com/v4`), as far as snapshots
 * go, behaving as docs/providers.md documents it: bearer token; `POST /linode/instances/{id}/backups`
 * `{ label }` → 200 backup `{ id, label, type: "snapshot", status: "pending", … }`; one manual
 * slot (a new snapshot replaces the previous one); `GET …/backups` →
 * `{ automatic, snapshot: { current, in_progress } }`; `GET …/backups/{id}`; statuses
 * `pending` → `running` → `successful` (or `failed`); `POST …/backups/cancel` drops every
 * backup and turns the service off; errors `{ errors: [{ reason, field? }] }`;
 * `X-RateLimit-Limit/Remaining/Reset` on every answer, `Retry-After` on 429.
 *
 * Not documented, so chosen here and kept in one place: the wording of the refusal when the
 * Backup service is off (`notEnabledReason`), and the previous snapshot stays `current` until
 * the new one has finished.
 *
 * Progress is counted, not timed: a new snapshot stays in progress for `pendingPolls` reads
 * (of it, or of the backups list), then finishes.
 */
import type http from 'node:http';
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
  /** Linode acts on the request, then the answer is lost (connection dropped / 500). */
  | { kind: 'reset-after' }
  | { kind: '5xx-after' }
  | { kind: 'error'; status: number; reason: string };

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
}

export interface LinodeBackup {
  id: number;
  label: string | null;
  type: 'auto' | 'snapshot';
  status: 'paused' | 'pending' | 'running' | 'needsPostProcessing' | 'successful' | 'failed' | 'userAborted';
  created: string;
  updated: string;
  finished: string | null;
  available: boolean;
  configs: string[];
  disks: { label: string; size: number; filesystem: string }[];
}

interface FakeLinodeInstance {
  id: number;
  label: string;
  backupsEnabled: boolean;
  current: LinodeBackup | null;
  inProgress: (LinodeBackup & { pollsLeft: number; failWith: 'failed' | 'userAborted' | null }) | null;
  automatic: LinodeBackup[];
}

export interface FakeLinodeOptions {
  token?: string;
  /** Reads before a new snapshot finishes. Default 1. */
  pendingPolls?: number;
  now?: () => number;
}

const NOT_ENABLED_REASON = 'Backups are not enabled for this Linode.';

export interface FakeLinode {
  /** Base URL to configure as `apiUrl` (ends in `/v4`). */
  readonly url: string;
  readonly token: string;
  pendingPolls: number;
  /** Reason sent when a snapshot is asked for and the Backup service is off. */
  notEnabledReason: string;
  /** Tokens refused with 403 on writes (read-only scope). */
  readonly readOnlyTokens: Set<string>;
  addLinode(id: number, opts?: { backupsEnabled?: boolean; label?: string }): void;
  setBackupsEnabled(id: number, enabled: boolean): void;
  /** The next snapshot of that Linode ends with this status instead of `successful`. */
  failNextSnapshot(id: number, status?: 'failed' | 'userAborted'): void;
  /** What Linode holds for that Linode now. */
  backups(id: number): { current: LinodeBackup | null; inProgress: LinodeBackup | null; automatic: LinodeBackup[] };
  inject(times: number, failure: InjectedFailure, match?: RequestMatch): void;
  readonly requests: RecordedRequest[];
  count(match?: RequestMatch): number;
  close(): Promise<void>;
}

export async function startFakeLinode(opts: FakeLinodeOptions = {}): Promise<FakeLinode> {
  const token = opts.token ?? 'linode-test-token';
  const now = opts.now ?? Date.now;
  const linodes = new Map<number, FakeLinodeInstance>();
  const injections = new FailureQueue<InjectedFailure>();
  const requests: RecordedRequest[] = [];
  const failNext = new Map<number, 'failed' | 'userAborted'>();
  let nextBackupId = 9_000_000;
  const iso = (): string => new Date(now()).toISOString().replace(/\.\d{3}Z$/, '');

  let server: FakeHttpServer | undefined;

  const fake = {
    url: '',
    token,
    pendingPolls: opts.pendingPolls ?? 1,
    notEnabledReason: NOT_ENABLED_REASON,
    readOnlyTokens: new Set<string>(),
    requests,
    addLinode(id: number, o: { backupsEnabled?: boolean; label?: string } = {}) {
      linodes.set(id, { id, label: o.label ?? `linode${id}`, backupsEnabled: o.backupsEnabled ?? true, current: null, inProgress: null, automatic: [] });
    },
    setBackupsEnabled(id: number, enabled: boolean) {
      const l = linodes.get(id);
      if (l) l.backupsEnabled = enabled;
    },
    failNextSnapshot(id: number, status: 'failed' | 'userAborted' = 'failed') {
      failNext.set(id, status);
    },
    backups(id: number) {
      const l = linodes.get(id);
      return { current: l?.current ?? null, inProgress: l?.inProgress ?? null, automatic: l?.automatic ?? [] };
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

  function rateHeaders(): Record<string, string> {
    return {
      'X-RateLimit-Limit': '800',
      'X-RateLimit-Remaining': '799',
      'X-RateLimit-Reset': String(Math.ceil(now() / 1000) + 60),
    };
  }

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'application/json', ...rateHeaders(), ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  const error = (res: http.ServerResponse, status: number, reason: string, field?: string) =>
    send(res, status, { errors: [field ? { reason, field } : { reason }] });

  /** One read of the Linode's snapshot slot: counts as a poll of the one in progress. */
  function advance(l: FakeLinodeInstance): void {
    const p = l.inProgress;
    if (!p) return;
    if (p.pollsLeft > 0) {
      p.pollsLeft--;
      p.status = 'running';
      return;
    }
    const { pollsLeft: _p, failWith, ...backup } = p;
    backup.status = failWith ?? 'successful';
    backup.finished = iso();
    backup.available = backup.status === 'successful';
    l.inProgress = null;
    // One manual slot: the finished snapshot takes the place of the previous one.
    l.current = backup;
  }

  function handle(method: string, path: string, body: unknown, auth: string | undefined, res: http.ServerResponse): void {
    const m = /^\/v4\/linode\/instances\/(\d+)(\/backups(?:\/(\d+|cancel|enable))?)?$/.exec(path);
    if (auth !== `Bearer ${token}` && !(auth && fake.readOnlyTokens.has(auth.replace(/^Bearer /, '')))) {
      return error(res, 401, 'Invalid Token');
    }
    if (method !== 'GET' && auth && fake.readOnlyTokens.has(auth.replace(/^Bearer /, ''))) return error(res, 403, 'Unauthorized');
    if (!m) return error(res, 404, 'Not found');
    const l = linodes.get(Number(m[1]));
    if (!l) return error(res, 404, 'Not found');
    const [, , backupsPart, sub] = m;

    if (!backupsPart) {
      if (method !== 'GET') return error(res, 405, 'Method not allowed');
      return send(res, 200, {
        id: l.id, label: l.label, status: 'running', region: 'eu-central', type: 'g6-standard-1',
        backups: { enabled: l.backupsEnabled, available: l.current !== null, schedule: { day: 'Scheduling', window: 'Scheduling' }, last_successful: null },
      });
    }

    if (sub === 'enable' && method === 'POST') {
      l.backupsEnabled = true;
      return send(res, 200, {});
    }
    if (sub === 'cancel' && method === 'POST') {
      // Drops every backup, automatic and manual, and turns the service off.
      l.backupsEnabled = false;
      l.current = null;
      l.inProgress = null;
      l.automatic = [];
      return send(res, 200, {});
    }

    if (sub === undefined && method === 'GET') {
      if (!l.backupsEnabled) return send(res, 200, { automatic: [], snapshot: { current: null, in_progress: null } });
      advance(l);
      const { pollsLeft: _p, failWith: _f, ...inProgress } = l.inProgress ?? ({} as NonNullable<FakeLinodeInstance['inProgress']>);
      return send(res, 200, { automatic: l.automatic, snapshot: { current: l.current, in_progress: l.inProgress ? inProgress : null } });
    }

    if (sub === undefined && method === 'POST') {
      const label = (body as { label?: unknown } | null)?.label;
      if (!l.backupsEnabled) return error(res, 400, fake.notEnabledReason);
      if (typeof label !== 'string' || label.length < 1 || label.length > 255) return error(res, 400, 'Label must be 1-255 characters', 'label');
      if (l.inProgress) return error(res, 400, 'Linode busy.');
      const t = iso();
      const failWith = failNext.get(l.id) ?? null;
      failNext.delete(l.id);
      l.inProgress = {
        id: ++nextBackupId, label, type: 'snapshot', status: 'pending', created: t, updated: t, finished: null, available: false,
        configs: ['My Config'], disks: [{ label: 'Ubuntu Disk', size: 25_088, filesystem: 'ext4' }],
        pollsLeft: fake.pendingPolls, failWith,
      };
      const { pollsLeft: _p, failWith: _f, ...out } = l.inProgress;
      return send(res, 200, out);
    }

    if (sub !== undefined && /^\d+$/.test(sub) && method === 'GET') {
      const id = Number(sub);
      if (l.inProgress?.id === id) {
        advance(l);
        if (l.inProgress?.id === id) {
          const { pollsLeft: _p, failWith: _f, ...out } = l.inProgress;
          return send(res, 200, out);
        }
      }
      const b = l.current?.id === id ? l.current : l.automatic.find((a) => a.id === id);
      return b ? send(res, 200, b) : error(res, 404, 'Not found');
    }
    return error(res, 405, 'Method not allowed');
  }

  server = await startFakeHttpServer((r, res) => {
    const { req, method } = r;
    const path = (req.url ?? '').split('?')[0] ?? '';
    const body: unknown = r.raw ? (r.badJson ? r.raw : r.json) : null;
    requests.push({ method, path, body, authorization: req.headers.authorization });
    const f = injections.take(method, path);
    if (f) {
      const act = (out: http.ServerResponse) => handle(method, path, body, req.headers.authorization, out);
      if (serveConnectionFailure(server!, r, res, f, act)) return;
      if (f.kind === 'malformed') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end('{"id": 12, "status": ');
      }
      if (f.kind === '5xx') return error(res, f.status ?? 500, 'Please try again');
      if (f.kind === '429') {
        return send(res, 429, { errors: [{ reason: 'Too Many Requests' }] }, { 'X-RateLimit-Remaining': '0', ...f.headers });
      }
      if (f.kind === 'error') return error(res, f.status, f.reason);
      if (f.kind === 'reset-after' || f.kind === '5xx-after') {
        actDiscardingAnswer(act);
        if (f.kind === 'reset-after') return void req.socket.destroy();
        return error(res, 500, 'Please try again');
      }
    }
    handle(method, path, body, req.headers.authorization, res);
  });
  fake.url = `${server.url}/v4`;
  return fake as FakeLinode;
}
