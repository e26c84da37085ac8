/**
 * A WPCloudDeploy admin already entered the provider keys in WPCD: the sidecar uses those
 * (decrypted from `wpcd_settings` with either key source), the providers file only adds what
 * WPCD lacks, and every WPCD slug is either served or explained — with no credential ever in
 * an answer or a log line.
 */
import { Writable } from 'node:stream';
import { createConnection } from 'mysql2/promise';
import { describe, expect, test } from 'vitest';
import { databaseClock } from '../../sidecar/db.js';
import { createLogger } from '../../sidecar/log.js';
import { wpcdEncrypt } from '../../sidecar/wpcd/crypto.js';
import { startFakeDigitalOcean } from '../fakes/digitalocean.js';
import { startFakeEc2 } from '../fakes/awsec2.js';
import { addServer, type TestDatabase } from '../helpers/db.js';
import { engineTestbed, settle, takeNow } from '../helpers/providers.js';
import { api, sidecarFor } from '../helpers/sidecar.js';
import { haveWpcdPhp, phpSerializeStrings, wpcdPhpEncrypt } from '../helpers/wpcd-php.js';
import { CONSTANT_KEY, OPTION_KEY } from './vectors.js';

let t: TestDatabase;
const bed = engineTestbed((db) => { t = db; }, async () => {
  const c = await createConnection({ uri: t.url });
  await c.query(`DELETE FROM ${t.prefix}options`);
  await c.query(`DELETE FROM ${t.prefix}postmeta`);
  await c.query(`DELETE FROM ${t.prefix}posts`);
  await c.end();
});

/** What WPCD's own PHP would store (real PHP where WPCD's archive is at hand). */
function encryptAsWpcd(value: string, keys: { constantKey?: string; optionKey?: string }): string {
  if (haveWpcdPhp()) return wpcdPhpEncrypt([value], keys)[0]!;
  return wpcdEncrypt(value, keys.constantKey ?? keys.optionKey!);
}

async function setOptions(options: Record<string, string>): Promise<void> {
  const c = await createConnection({ uri: t.url });
  for (const [name, value] of Object.entries(options)) {
    await c.query(`INSERT INTO ${t.prefix}options (option_name, option_value, autoload) VALUES (?, ?, 'yes')`, [name, value]);
  }
  await c.end();
}

/** A WPCD virtual provider, as its `wpcd_cloud_provider` screen saves it. */
async function addVirtualProvider(slug: string, type: string): Promise<void> {
  const c = await createConnection({ uri: t.url });
  const [res] = await c.query(`INSERT INTO ${t.prefix}posts (post_content, post_title, post_excerpt, post_status, to_ping, pinged, post_content_filtered, post_type)
    VALUES ('', ?, '', 'private', '', '', '', 'wpcd_cloud_provider')`, [slug]);
  const id = (res as { insertId: number }).insertId;
  for (const [k, v] of [['wpcd_cloud_provider_slug', slug], ['wpcd_cloud_provider_type', type]]) {
    await c.query(`INSERT INTO ${t.prefix}postmeta (post_id, meta_key, meta_value) VALUES (?, ?, ?)`, [id, k, v]);
  }
  await c.end();
}

function capturingLog() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

describe('credentials from WPCloudDeploy', () => {
  test('when WPCD holds the DigitalOcean key (key in its option) and the providers file gives only type and apiUrl, then snapshots use WPCD\'s key, Settings says "wpcd" and the test call passes, and the key is in no answer or log line', async () => {
    const fake = await startFakeDigitalOcean({ token: 'dop_v1_wpcd_entered_this_key' });
    bed.defer(() => fake.close());
    fake.addDroplet(3164444, 'web1');
    await setOptions({
      wpcd_encryption_key_v2: OPTION_KEY,
      wpcd_settings: phpSerializeStrings({ 'vpn_digital-ocean_apikey': encryptAsWpcd(fake.token, { optionKey: OPTION_KEY }), 'vpn_digital-ocean_sshkey_id': '123' }),
    });
    const { log, lines } = capturingLog();
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, log, sleep: async () => {}, providers: { 'digital-ocean': { type: 'digitalocean', apiUrl: fake.url } } });
    bed.defer(() => sc.stop(0));
    const serverId = await addServer(t, { title: 'web1', provider: 'digital-ocean', instanceId: '3164444' });

    const { snap } = await settle(sc, clock, await takeNow(sc, serverId));
    expect(snap?.status).toBe('available');
    expect(fake.snapshots()).toHaveLength(1);

    const sources = await api(sc, 'get', '/api/v1/providers/sources?check=1');
    expect(sources.status).toBe(200);
    expect(sources.body.wpcd).toEqual({ settingsFound: true, keySource: 'wpcd_encryption_key_v2', problem: null });
    expect(sources.body.items).toEqual([{
      slug: 'digital-ocean', type: 'digitalocean', displayName: 'DigitalOcean', source: 'wpcd', servers: 1, problem: null,
      check: { ok: true, message: 'DigitalOcean accepted the credentials.' },
    }]);
    const server = await api(sc, 'get', `/api/v1/servers/${serverId}`);
    expect(server.body.server.problem).toBeNull();
    for (const text of [JSON.stringify(sources.body), JSON.stringify(server.body), ...lines]) expect(text).not.toContain(fake.token);
    expect(lines.some((l) => l.includes('"provider credentials"') && l.includes('digital-ocean: wpcd'))).toBe(true);
  });

  test('when the key comes from wp-config (SS_WPCD_ENCRYPTION_KEY), then WPCD\'s providers, a virtual provider and the unsupported slugs are each served or explained, in Settings and on the servers', async () => {
    const hetznerToken = 'hetzner-token-from-wpcd-0001';
    const teamToken = 'dop_v1_team_account_0002';
    await setOptions({
      wpcd_encryption_key_v2: 'an-older-option-key', // WPCD itself prefers the constant, so must we
      wpcd_settings: phpSerializeStrings({
        vpn_hetzner_apikey: encryptAsWpcd(hetznerToken, { constantKey: CONSTANT_KEY }),
        vpn_linode_apikey: wpcdEncrypt('linode-token-other-key', 'a-key-nobody-has'),
        'vpn_12-do-team_apikey': encryptAsWpcd(teamToken, { constantKey: CONSTANT_KEY }),
      }),
    });
    await addVirtualProvider('12-do-team', 'digital-ocean');
    await addVirtualProvider('13-upcloud-eu', 'upcloud');
    const sc = await sidecarFor(t, { providers: {}, env: { SS_WPCD_ENCRYPTION_KEY: CONSTANT_KEY } });
    bed.defer(() => sc.stop(0));
    const ids = {
      lightsail: await addServer(t, { provider: 'awslightsail' }),
      linode: await addServer(t, { provider: 'linode' }),
      vultr: await addServer(t, { provider: 'vultr-v2' }),
      team: await addServer(t, { provider: '12-do-team' }),
    };

    const sources = await api(sc, 'get', '/api/v1/providers/sources');
    expect(sources.body.wpcd).toEqual({ settingsFound: true, keySource: 'SS_WPCD_ENCRYPTION_KEY', problem: null });
    const bySlug: Record<string, { problem: string | null }> = Object.fromEntries((sources.body.items as Array<{ slug: string; problem: string | null }>).map((i) => [i.slug, i]));
    expect(bySlug.hetzner).toMatchObject({ type: 'hetzner', source: 'wpcd', problem: null, check: null });
    expect(bySlug['12-do-team']).toMatchObject({ type: 'digitalocean', source: 'wpcd', problem: null, servers: 1 });
    expect(bySlug.linode).toMatchObject({ type: 'linode', source: 'missing', servers: 1 });
    expect(bySlug.linode!.problem).toMatch(/^The credentials of provider "linode" in WPCD's settings cannot be used: The WPCD encryption key does not match .*SS_WPCD_ENCRYPTION_KEY/);
    expect(bySlug['13-upcloud-eu']).toMatchObject({ type: null, source: 'not supported', problem: 'Virtual provider "13-upcloud-eu": UpCloud is not supported yet: Scheduled Snapshots has no UpCloud adapter.' });
    expect(bySlug.awslightsail).toMatchObject({ source: 'not supported', servers: 1 });
    expect(bySlug['vultr-v2']).toMatchObject({ source: 'missing', servers: 1 });

    const list = await api(sc, 'get', '/api/v1/servers');
    const problem = Object.fromEntries((list.body.items as Array<{ id: number; problem: string | null }>).map((s) => [s.id, s.problem]));
    expect(problem[ids.lightsail]).toMatch(/^AWS Lightsail is not supported: .*only EC2 servers \(awsec2\) can be scheduled\.$/);
    expect(problem[ids.linode]).toBe(bySlug.linode!.problem);
    expect(problem[ids.vultr]).toMatch(/^Provider "vultr-v2" of server #\d+ has no credentials: enter its API key under WPCloudDeploy → Settings → Cloud Providers, or add it to the providers file/);
    expect(problem[ids.team]).toBeNull();
    const box = await api(sc, 'get', `/api/v1/servers/${ids.lightsail}`);
    expect(box.body.server.problem).toBe(problem[ids.lightsail]);
    expect((await api(sc, 'get', '/api/v1/providers')).body.items.map((p: { slug: string }) => p.slug).sort()).toEqual(['12-do-team', 'hetzner']);
    for (const text of [JSON.stringify(sources.body), JSON.stringify(list.body)]) {
      for (const secret of [hetznerToken, teamToken, 'linode-token-other-key']) expect(text).not.toContain(secret);
    }
  });

  test('when SS_WPCD_ENCRYPTION_KEY is wrong, then the sidecar still starts and says which providers it cannot use and why', async () => {
    await setOptions({ wpcd_settings: phpSerializeStrings({ vpn_hetzner_apikey: encryptAsWpcd('hetzner-tok', { constantKey: CONSTANT_KEY }) }) });
    const sc = await sidecarFor(t, { providers: {}, env: { SS_WPCD_ENCRYPTION_KEY: 'not-the-key' } });
    bed.defer(() => sc.stop(0));
    const sources = await api(sc, 'get', '/api/v1/providers/sources');
    expect(sources.body.items).toEqual([expect.objectContaining({ slug: 'hetzner', source: 'missing', problem: expect.stringMatching(/SS_WPCD_ENCRYPTION_KEY must equal WPCD_ENCRYPTION_KEY in wp-config\.php/) })]);
  });

  test('when a providers-file entry carries its own credentials, then they override WPCD\'s', async () => {
    const fake = await startFakeDigitalOcean({ token: 'dop_v1_file_token' });
    bed.defer(() => fake.close());
    await setOptions({ wpcd_encryption_key_v2: OPTION_KEY, wpcd_settings: phpSerializeStrings({ 'vpn_digital-ocean_apikey': wpcdEncrypt('dop_v1_stale_wpcd_token', OPTION_KEY) }) });
    const sc = await sidecarFor(t, { providers: { 'digital-ocean': { type: 'digitalocean', token: fake.token, apiUrl: fake.url } } });
    bed.defer(() => sc.stop(0));
    const sources = await api(sc, 'get', '/api/v1/providers/sources?check=1');
    expect(sources.body.items[0]).toMatchObject({ slug: 'digital-ocean', source: 'providers file', check: { ok: true } });
  });

  test('when an entry takes WPCD\'s credentials and the token is refused, then the test call says so in a sentence', async () => {
    const fake = await startFakeDigitalOcean({ token: 'dop_v1_real' });
    bed.defer(() => fake.close());
    await setOptions({ wpcd_encryption_key_v2: OPTION_KEY, wpcd_settings: phpSerializeStrings({ 'vpn_digital-ocean_apikey': wpcdEncrypt('dop_v1_revoked', OPTION_KEY) }) });
    const sc = await sidecarFor(t, { providers: { 'digital-ocean': { type: 'digitalocean', apiUrl: fake.url } } });
    bed.defer(() => sc.stop(0));
    const sources = await api(sc, 'get', '/api/v1/providers/sources?check=1');
    expect(sources.body.items[0]).toMatchObject({ source: 'wpcd', check: { ok: false, message: 'DigitalOcean refused the credentials (HTTP 401): enter a valid API key.' } });
  });
});

describe('Settings: where each provider\'s credentials come from', () => {
  const settingsCtx = (locale: string, args: Record<string, string> = {}) => encodeURIComponent(JSON.stringify({
    locale, timezone: 'UTC', dateFormat: 'Y-m-d', timeFormat: 'H:i', perPage: 20, hidden: [], nonces: {}, args,
    urls: { schedules: 'http://wp.test/wp-admin/admin.php?page=ss-schedules', snapshots: 'http://wp.test/wp-admin/admin.php?page=ss-snapshots', settings: 'http://wp.test/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-settings', adminPost: 'http://wp.test/wp-admin/admin-post.php' },
    user: { id: 1, name: 'Ada' },
  }));
  const rowOf = (html: string, slug: string) => /<tr data-slug="([^"]*)"[^>]*>[\s\S]*?<\/tr>/g.exec(html.slice(html.indexOf(`<tr data-slug="${slug}"`)))?.[0] ?? '';

  test('when WPCD holds one key, a server uses a provider without one and another an unsupported one, then Settings says so per slug, tests the calls only when asked, in German too, and never shows a key', async () => {
    const fake = await startFakeDigitalOcean({ token: 'dop_v1_shown_nowhere_0003' });
    bed.defer(() => fake.close());
    await setOptions({ wpcd_encryption_key_v2: OPTION_KEY, wpcd_settings: phpSerializeStrings({ 'vpn_digital-ocean_apikey': encryptAsWpcd(fake.token, { optionKey: OPTION_KEY }) }) });
    const sc = await sidecarFor(t, { providers: { 'digital-ocean': { type: 'digitalocean', apiUrl: fake.url } } });
    bed.defer(() => sc.stop(0));
    await addServer(t, { provider: 'digital-ocean', instanceId: '3164444' });
    await addServer(t, { provider: 'hetzner' });
    await addServer(t, { provider: 'awslightsail' });

    const plain = (await api(sc, 'get', `/ui/v1/settings?ctx=${settingsCtx('en_US')}`)).text.replaceAll('&#39;', "'");
    expect(plain).toContain("Provider keys are read from WPCloudDeploy's encrypted settings, decrypted with the key from WPCloudDeploy's database option.");
    expect(rowOf(plain, 'digital-ocean')).toMatch(/data-source="wpcd"[\s\S]*WPCloudDeploy settings[\s\S]*<td>1<\/td>[\s\S]*Not tested yet/);
    expect(rowOf(plain, 'hetzner')).toMatch(/data-source="missing"[\s\S]*Missing[\s\S]*enter its API key under WPCloudDeploy/);
    expect(rowOf(plain, 'awslightsail')).toMatch(/data-source="not supported"[\s\S]*Not supported[\s\S]*only EC2 servers/);
    expect(fake.count({ method: 'GET', path: /^\/v2\/snapshots/ })).toBe(0);
    expect(plain).toContain('page=ss-settings&amp;ss_check=1');

    const checked = (await api(sc, 'get', `/ui/v1/settings?ctx=${settingsCtx('de_DE', { ss_check: '1' })}`)).text.replaceAll('&#39;', "'");
    expect(rowOf(checked, 'digital-ocean')).toMatch(/data-check="ok"[\s\S]*WPCloudDeploy-Einstellungen[\s\S]*Funktioniert/);
    expect(rowOf(checked, 'hetzner')).toMatch(/Fehlen/);
    expect(rowOf(checked, 'awslightsail')).toMatch(/Nicht unterstützt/);
    expect(checked).toContain('Zugangsdaten der Provider');
    expect(fake.count({ method: 'GET', path: /^\/v2\/snapshots/ })).toBe(1);
    for (const html of [plain, checked]) expect(html).not.toContain(fake.token);
  });
});

describe('regions per server (WPCD keeps every EC2 server under one slug)', () => {
  test('when two EC2 servers sit in different regions, then each snapshot is asked of its own server\'s region, with the keys from WPCD', async () => {
    const fake = await startFakeEc2();
    bed.defer(() => fake.close());
    fake.addInstance('i-0aaaaaaaaaaaaaaa1');
    fake.addInstance('i-0bbbbbbbbbbbbbbb2');
    const secret = 'ec2SecretFromWpcd/0123456789abcdefghijklmnop';
    await setOptions({
      wpcd_encryption_key_v2: OPTION_KEY,
      wpcd_settings: phpSerializeStrings({ vpn_awsec2_apikey: wpcdEncrypt(fake.accessKeyId, OPTION_KEY), vpn_awsec2_secret_key: wpcdEncrypt(secret, OPTION_KEY) }),
    });
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, sleep: async () => {}, providers: { awsec2: { type: 'awsec2', apiUrl: fake.url } } });
    bed.defer(() => sc.stop(0));
    const frankfurt = await addServer(t, { provider: 'awsec2', instanceId: 'i-0aaaaaaaaaaaaaaa1', region: 'eu-central-1' });
    const sydney = await addServer(t, { provider: 'awsec2', instanceId: 'i-0bbbbbbbbbbbbbbb2', region: 'ap-southeast-2' });
    for (const id of [frankfurt, sydney]) { const { snap } = await settle(sc, clock, await takeNow(sc, id)); expect(snap?.lastError ?? null).toBeNull(); expect(snap?.status).toBe("available"); }

    const regionOf = (instanceId: string) => fake.requests
      .filter((r) => r.action === 'CreateImage' && r.params.get('InstanceId') === instanceId)
      .map((r) => /Credential=[^/]+\/\d+\/([^/]+)\//.exec(r.authorization ?? '')?.[1]);
    expect(regionOf('i-0aaaaaaaaaaaaaaa1')).toEqual(['eu-central-1']);
    expect(regionOf('i-0bbbbbbbbbbbbbbb2')).toEqual(['ap-southeast-2']);
  });

  test('when Settings checks an EC2 account, then the test call (the AWS SDK is loaded only for it) says whether AWS accepted the keys', async () => {
    const fake = await startFakeEc2();
    bed.defer(() => fake.close());
    const sc = await sidecarFor(t, { providers: {
      awsec2: { type: 'awsec2', apiUrl: fake.url, region: 'eu-central-1', accessKeyId: fake.accessKeyId, secretAccessKey: 'sek/ret' },
      'aws-old': { type: 'awsec2', apiUrl: fake.url, region: 'eu-central-1', accessKeyId: 'AKIAREVOKEDREVOKED99', secretAccessKey: 'old/sek' },
    } });
    bed.defer(() => sc.stop(0));
    const sources = await api(sc, 'get', '/api/v1/providers/sources?check=1');
    const bySlug = new Map((sources.body.items as Array<{ slug: string; check: unknown }>).map((i) => [i.slug, i.check]));
    expect(bySlug.get('awsec2')).toEqual({ ok: true, message: 'AWS accepted the credentials.' });
    expect(bySlug.get('aws-old')).toEqual({ ok: false, message: 'AWS refused the credentials (AuthFailure): check the access key id and secret.' });
    expect(fake.requests.filter((r) => r.action === 'DescribeImages')).toHaveLength(2);
    expect(JSON.stringify(sources.body)).not.toContain('sek/ret');
  });

  test('when an EC2 server has no region in the panel and the entry none either, then its snapshot fails with a sentence saying where to set one', async () => {
    const fake = await startFakeEc2();
    bed.defer(() => fake.close());
    fake.addInstance('i-0ccccccccccccccc3');
    const clock = databaseClock();
    const sc = await sidecarFor(t, { clock, sleep: async () => {}, providers: { awsec2: { type: 'awsec2', apiUrl: fake.url, accessKeyId: fake.accessKeyId, secretAccessKey: 'sek/ret' } } });
    bed.defer(() => sc.stop(0));
    const id = await addServer(t, { provider: 'awsec2', instanceId: 'i-0ccccccccccccccc3', region: '' });
    const { snap } = await settle(sc, clock, await takeNow(sc, id));
    expect(snap?.status).toBe('failed');
    expect(snap?.lastError).toMatch(/^Server #\d+ has no AWS region in the panel and provider "awsec2" has no "region" in the providers file: set one of them\.$/);
  });
});
