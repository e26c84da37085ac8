/**
 * WPCloudDeploy's encryption of stored credentials (WPCD()->encrypt()/decrypt() in its
 * includes/core/wp-cloud-deploy.php), reimplemented so the sidecar can read the keys an admin
 * already entered in WPCD instead of keeping a second copy.
 *
 * v2 (`wpcd-encrypt-v2:` prefix): base64(iv[16] ‖ HMAC-SHA256[32] ‖ AES-128-CBC ciphertext).
 * The secret is md5(key) as 32 hex characters: PHP's openssl_encrypt() cuts it to its first
 * 16 bytes for AES-128, while hash_hmac() uses all 32 — so both are reproduced exactly here.
 * v1 (no prefix): the same cipher with a fixed IV and WPCD's built-in key unless
 * WPCD_ENCRYPTION_KEY is defined (v1 never used the database option).
 */

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const V2_PREFIX = 'wpcd-encrypt-v2:';
/** WPCD's class constant ENCRYPTION_KEY: the v1 key when wp-config.php defines none. */
export const WPCD_BUILTIN_KEY = '*274C07F32B66FBE3A8CD06718CD6297ADDC156A7';
/** substr(hash('sha256', 'aaaabbbbcccccddddeweee'), 0, 16): v1's fixed IV, as 16 ASCII bytes. */
const V1_IV = Buffer.from(createHash('sha256').update('aaaabbbbcccccddddeweee').digest('hex').slice(0, 16), 'latin1');

export class WpcdDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WpcdDecryptError';
  }
}

function secretOf(key: string): { aesKey: Buffer; hmacKey: Buffer } {
  const hex = createHash('md5').update(key, 'utf8').digest('hex');
  return { aesKey: Buffer.from(hex.slice(0, 16), 'latin1'), hmacKey: Buffer.from(hex, 'latin1') };
}

/**
 * Decrypt a value WPCD stored. `v2Key` is the key WPCD itself would use (WPCD_ENCRYPTION_KEY,
 * else the option `wpcd_encryption_key_v2`); `v1Key` is WPCD_ENCRYPTION_KEY if known, else
 * WPCD's built-in key. Throws WpcdDecryptError with a sentence (never the value) when the
 * key does not fit.
 */
export function wpcdDecrypt(stored: string, keys: { v2Key: string | null; v1Key?: string | null }): string {
  if (stored === '') return '';
  if (stored.startsWith(V2_PREFIX)) {
    if (!keys.v2Key) throw new WpcdDecryptError('No WPCD encryption key was found: set SS_WPCD_ENCRYPTION_KEY to the WPCD_ENCRYPTION_KEY of wp-config.php.');
    const raw = Buffer.from(stored.slice(V2_PREFIX.length), 'base64');
    if (raw.length < 16 + 32 + 16) throw new WpcdDecryptError('The stored value is too short to be a WPCD-encrypted value.');
    const iv = raw.subarray(0, 16);
    const mac = raw.subarray(16, 48);
    const cipherText = raw.subarray(48);
    const { aesKey, hmacKey } = secretOf(keys.v2Key);
    const expected = createHmac('sha256', hmacKey).update(cipherText).digest();
    if (!timingSafeEqual(mac, expected)) {
      throw new WpcdDecryptError('The WPCD encryption key does not match the one these credentials were saved with: SS_WPCD_ENCRYPTION_KEY must equal WPCD_ENCRYPTION_KEY in wp-config.php (or leave it unset to use the key WPCD keeps in its options).');
    }
    return aesDecrypt(cipherText, aesKey, iv);
  }
  const { aesKey } = secretOf(keys.v1Key || WPCD_BUILTIN_KEY);
  return aesDecrypt(Buffer.from(stored, 'base64'), aesKey, V1_IV);
}

function aesDecrypt(cipherText: Buffer, aesKey: Buffer, iv: Buffer): string {
  try {
    const d = createDecipheriv('aes-128-cbc', aesKey, iv);
    return Buffer.concat([d.update(cipherText), d.final()]).toString('utf8');
  } catch {
    throw new WpcdDecryptError('A WPCD credential could not be decrypted with the WPCD encryption key: check SS_WPCD_ENCRYPTION_KEY, or save the key again in WPCD\'s settings.');
  }
}

/** WPCD()->encrypt() (v2), for tests and tools that need what WPCD would store. */
export function wpcdEncrypt(plain: string, key: string, iv: Buffer = randomBytes(16)): string {
  const { aesKey, hmacKey } = secretOf(key);
  const c = createCipheriv('aes-128-cbc', aesKey, iv);
  const cipherText = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  const mac = createHmac('sha256', hmacKey).update(cipherText).digest();
  return V2_PREFIX + Buffer.concat([iv, mac, cipherText]).toString('base64');
}
