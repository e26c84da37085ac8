/**
 * The providers file became optional: an entry without credentials waits for WPCD's, and
 * everything else in it is still checked at start, naming the field and never its value.
 */
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../sidecar/config.js';
import { SECRET, writeProvidersFile } from '../helpers/sidecar.js';

const base = { SS_DATABASE_URL: 'mysql://root@127.0.0.1:3306/wp', SS_SHARED_SECRET: SECRET };
const load = (providers: Record<string, unknown> | null, env: Record<string, string> = {}) =>
  loadConfig({ ...base, ...(providers ? { SS_PROVIDERS_FILE: writeProvidersFile(providers) } : {}), ...env });

describe('providers file entries without credentials', () => {
  test('when there is no providers file, then the sidecar starts with none and WPCD\'s key source unset', () => {
    const c = load(null);
    expect(c.providers).toEqual({});
    expect(c.providersFromWpcd).toEqual([]);
    expect(c.wpcdEncryptionKey).toBeNull();
    expect(load(null, { SS_WPCD_ENCRYPTION_KEY: 'k' }).wpcdEncryptionKey).toBe('k');
  });

  test('when entries carry no credentials, then they wait for WPCD\'s with their own fields kept, and entries with credentials stand alone', () => {
    const c = load({
      hetzner: { type: 'hetzner', apiUrl: 'http://127.0.0.1:9/v1', budget: { perHour: 1800 } },
      awsec2: { type: 'awsec2' },
      'digital-ocean': { type: 'digitalocean', token: 'dop_v1_file' },
    });
    expect([...c.providersFromWpcd].sort()).toEqual(['awsec2', 'hetzner']);
    expect(c.providers.hetzner).toEqual({ type: 'hetzner', apiUrl: 'http://127.0.0.1:9/v1', budget: { perHour: 1800 } });
    expect(c.providers.awsec2).not.toHaveProperty('accessKeyId');
    expect(c.providers['digital-ocean']).toMatchObject({ token: 'dop_v1_file' });
  });

  test('when an entry has half its credentials or a bad field, then start-up names the field, never a value', () => {
    expect(() => load({ awsec2: { type: 'awsec2', accessKeyId: 'AKIAHALFHALFHALF' } })).toThrow(/provider "awsec2" \(awsec2\): field "secretAccessKey"/);
    let err: unknown;
    try { load({ hetzner: { type: 'hetzner', budget: { perHour: -5 } } }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^SS_PROVIDERS_FILE: provider "hetzner" \(hetzner\): field "budget.perHour"/);
  });
});
