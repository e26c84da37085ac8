/**
 * The sidecar reads the API keys an admin entered in WPCloudDeploy: its decryption must agree
 * with what WPCD's own PHP wrote, byte for byte, for both places the key can live.
 */
import { describe, expect, test } from 'vitest';
import { wpcdDecrypt, wpcdEncrypt, WpcdDecryptError } from '../../sidecar/wpcd/crypto.js';
import { phpUnserialize, PhpUnserializeError } from '../../sidecar/wpcd/php-unserialize.js';
import { haveWpcdPhp, phpSerializeStrings, wpcdPhpEncrypt } from '../helpers/wpcd-php.js';
import { CONSTANT_KEY, OPTION_KEY, VECTORS } from './vectors.js';

describe('WPCD credentials decrypt as WPCD wrote them', () => {
  test.each(VECTORS)('when WPCD stored a value ($what), then the sidecar reads the same text', ({ plain, keys, stored }) => {
    expect(wpcdDecrypt(stored, keys)).toBe(plain);
  });

  test('when WPCD\'s own PHP encrypts now (archive present) or our encrypt did (archive absent), then both key sources decrypt', () => {
    const secrets = ['dop_v1_abc', 'hetzner-Üñí-token', 'x'.repeat(100)];
    const fromOption = haveWpcdPhp() ? wpcdPhpEncrypt(secrets, { optionKey: OPTION_KEY }) : secrets.map((s) => wpcdEncrypt(s, OPTION_KEY));
    const fromConstant = haveWpcdPhp() ? wpcdPhpEncrypt(secrets, { constantKey: CONSTANT_KEY, optionKey: OPTION_KEY }) : secrets.map((s) => wpcdEncrypt(s, CONSTANT_KEY));
    expect(fromOption.map((v) => wpcdDecrypt(v, { v2Key: OPTION_KEY }))).toEqual(secrets);
    // WPCD prefers the wp-config constant to the option: the option key must not open these.
    expect(fromConstant.map((v) => wpcdDecrypt(v, { v2Key: CONSTANT_KEY }))).toEqual(secrets);
    expect(() => wpcdDecrypt(fromConstant[0]!, { v2Key: OPTION_KEY })).toThrow(WpcdDecryptError);
  });

  test('when the key is wrong, then the error is a sentence naming SS_WPCD_ENCRYPTION_KEY and never the value', () => {
    const stored = wpcdEncrypt('dop_v1_supersecret', 'right-key');
    let err: unknown;
    try { wpcdDecrypt(stored, { v2Key: 'wrong-key' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(WpcdDecryptError);
    const message = (err as Error).message;
    expect(message).toMatch(/^The WPCD encryption key does not match .*SS_WPCD_ENCRYPTION_KEY.*\.$/);
    expect(message).not.toContain('supersecret');
    expect(() => wpcdDecrypt(stored, { v2Key: null })).toThrow(/set SS_WPCD_ENCRYPTION_KEY/);
  });
});

describe('reading wpcd_settings (PHP serialize format)', () => {
  test('when the option holds WPCD\'s array, then every key reads back, multi-byte strings included', () => {
    const text = phpSerializeStrings({ 'vpn_digital-ocean_apikey': 'wpcd-encrypt-v2:abc', note: 'Grüße' });
    const v = phpUnserialize(text) as Map<string, unknown>;
    expect(v.get('vpn_digital-ocean_apikey')).toBe('wpcd-encrypt-v2:abc');
    expect(v.get('note')).toBe('Grüße');
    const nested = phpUnserialize('a:3:{i:0;s:1:"a";s:1:"b";a:1:{s:1:"c";b:1;}s:1:"n";N;}') as Map<string, unknown>;
    expect(nested.get('0')).toBe('a');
    expect((nested.get('b') as Map<string, unknown>).get('c')).toBe(true);
    expect(nested.get('n')).toBeNull();
  });

  test('when the option holds a PHP object or broken data, then it is refused, never instantiated', () => {
    expect(() => phpUnserialize('O:8:"stdClass":0:{}')).toThrow(PhpUnserializeError);
    expect(() => phpUnserialize('a:1:{s:1:"k";O:3:"Foo":0:{}}')).toThrow(/not accepted/);
    expect(() => phpUnserialize('s:10:"short";')).toThrow(PhpUnserializeError);
    expect(() => phpUnserialize('a:1:{s:1:"k";s:1:"v";}junk')).toThrow(/trailing/);
  });
});
