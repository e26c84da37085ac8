/**
 * Provider HTTP hardening: credentials go only to the origin configured (https unless on
 * loopback or explicitly allowed), a pagination link never leads elsewhere, an answer far
 * larger than any snapshot call returns is refused with a sentence, and a providers file that
 * other users can read is reported at start.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, test } from 'vitest';
import { readProvidersFile } from '../../sidecar/config.js';
import { createLogger, silentLogger } from '../../sidecar/log.js';
import { createHttpClient } from '../../sidecar/providers/http/client.js';
import { createOpenstackProvider } from '../../sidecar/providers/openstack.js';
import { ProviderError } from '../../sidecar/providers/types.js';
import { startFakeOpenstack } from '../fakes/openstack.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { adapterContext } from '../helpers/provider-context.js';
import { sidecarFor, writeProvidersFile } from '../helpers/sidecar.js';

function providersFile(entries: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-hardening-'));
  const file = path.join(dir, 'providers.json');
  fs.writeFileSync(file, JSON.stringify(entries), { mode: 0o600 });
  return file;
}

async function startServer(handler: http.RequestListener): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => { hits.push(req.url ?? ''); handler(req, res); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('https for provider endpoints', () => {
  it('when apiUrl is plain http on a public host, then the providers file is refused with a sentence naming the entry and the field', () => {
    const file = providersFile({ 'vultr-v2': { type: 'vultr', apiKey: 'k', apiUrl: 'http://api.vultr.example' } });
    expect(() => readProvidersFile(file)).toThrow('provider "vultr-v2" (vultr): field "apiUrl" must use https (credentials are sent to it); set "allowInsecureHttp": true in this entry only for a trusted private network');
  });

  it('when authUrl is plain http, then the OpenStack entry is refused too', () => {
    const file = providersFile({ os: { type: 'openstack', authUrl: 'http://keystone.example:5000', username: 'u', password: 'p', userDomainName: 'Default', projectName: 'p', projectDomainName: 'Default', region: 'RegionOne' } });
    expect(() => readProvidersFile(file)).toThrow(/provider "os" \(openstack\): field "authUrl" must use https/);
  });

  it('when the endpoint is on loopback, or the entry sets allowInsecureHttp, or it is https, then the entry is accepted (allowInsecureHttp is not passed on)', () => {
    const file = providersFile({
      local: { type: 'hetzner', token: 't', apiUrl: 'http://127.0.0.1:8080' },
      local6: { type: 'hetzner', token: 't', apiUrl: 'http://[::1]:8080' },
      lan: { type: 'awsec2', accessKeyId: 'a', secretAccessKey: 's', region: 'us-east-1', apiUrl: 'http://ec2.lan:8080', allowInsecureHttp: true },
      safe: { type: 'digitalocean', token: 't', apiUrl: 'https://api.digitalocean.com' },
    });
    const out = readProvidersFile(file);
    expect(Object.keys(out).sort()).toEqual(['lan', 'local', 'local6', 'safe']);
    expect(out.lan).not.toHaveProperty('allowInsecureHttp');
  });

  it('when allowInsecureHttp is not a boolean, then the entry is refused', () => {
    const file = providersFile({ x: { type: 'hetzner', token: 't', allowInsecureHttp: 'yes' } });
    expect(() => readProvidersFile(file)).toThrow('provider "x" (hetzner): field "allowInsecureHttp" must be true or false');
  });
});

describe('the provider HTTP client', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => { while (servers.length) await servers.pop()!.close(); });

  it('when a provider answers more than 10 MB, then the request fails with a sentence, not an exhausted process', async () => {
    const big = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 11; i++) res.write(chunk);
      res.end('{}');
    });
    servers.push(big);
    const client = createHttpClient({ baseURL: big.url, providerName: 'Hetzner', log: silentLogger, sleep: async () => {} });
    const err = await client.request({ method: 'GET', url: '/v1/images' }).then(() => null, (e: unknown) => e as ProviderError);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err!.code).toBe('bad_response');
    expect(err!.message).toBe('Hetzner sent an answer larger than 10 MB, far more than a snapshot call returns; check apiUrl in the providers file.');
  });

  it('when a request path is an absolute URL to another origin, then it still goes to apiUrl, never elsewhere', async () => {
    const ours = await startServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
    const other = await startServer((_req, res) => { res.writeHead(200); res.end('{}'); });
    servers.push(ours, other);
    const client = createHttpClient({ baseURL: ours.url, providerName: 'X', log: silentLogger, sleep: async () => {}, headers: { Authorization: 'Bearer secret' } });
    await client.request({ method: 'GET', url: `${other.url}/steal` });
    await client.request({ method: 'GET', url: `//${new URL(other.url).host}/steal` });
    expect(other.hits).toEqual([]);
    expect(ours.hits).toHaveLength(2);
  });

  it('when Glance\'s next link points at another origin, then paging stops there and nothing is sent to it', async () => {
    const other = await startServer((_req, res) => { res.writeHead(200); res.end('{"images":[]}'); });
    servers.push(other);
    const fake = await startFakeOpenstack();
    servers.push(fake);
    fake.addServer('5f0a1e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b');
    fake.pageSize = 1;
    fake.nextLinkOrigin = other.url;
    const marker = { snapshotId: 9, name: 'ss-9-web1-20261127T0300Z' };
    const provider = createOpenstackProvider('openstack', { type: 'openstack', authUrl: fake.authUrl, ...fake.user, region: 'RegionOne' }, adapterContext({ log: silentLogger, sleep: async () => {} }));
    fake.putImage({ name: marker.name, properties: { ss_snapshot_id: '998' } });
    fake.putImage({ name: marker.name, properties: { ss_snapshot_id: '999' } });
    expect(await provider.findByMarker({ serverId: 1, instanceId: '5f0a1e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b', region: null, name: 'web1' }, marker)).toBeNull();
    expect(other.hits).toEqual([]);
    expect(fake.count({ method: 'GET', path: /^\/image\/v2\/images$/ })).toBe(1);
  });
});

describe('the providers file\'s permissions at start', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(); });
  afterAll(async () => { await t.drop(); });

  async function startLines(mode: number): Promise<Array<Record<string, unknown>>> {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const file = writeProvidersFile({ sandbox: { type: 'sandbox', latencyMs: 0 } });
    fs.chmodSync(file, mode);
    const sc = await sidecarFor(t, { env: { SS_PROVIDERS_FILE: file }, log: createLogger({ level: 'info', destination: sink }) });
    await sc.stop(0);
    return lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  test('when the providers file is readable by group or others, then the start logs one structured warning that says chmod 600; with 600, none', async () => {
    const shared = (await startLines(0o644)).filter((l) => l.event === 'providers_file_readable');
    expect(shared).toHaveLength(1);
    expect(shared[0]).toMatchObject({ level: 40, mode: '0644', msg: 'the providers file (API credentials) is readable by other users of this machine: run chmod 600 on it' });
    expect((await startLines(0o600)).filter((l) => l.event === 'providers_file_readable')).toEqual([]);
  });
});
