/**
 * WPCloudDeploy's own encrypt(), run with real PHP: the method's source is cut out of WPCD's
 * archive (../shared/fixtures/wpcd/, or SS_WPCD_FIXTURES) and run with `php`, so the sidecar's
 * decryption is checked against exactly what WPCD writes. Where the archive is absent, tests
 * use vectors this produced once (tests/wpcd/vectors.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function wpcdFixturesDir(): string {
  return process.env.SS_WPCD_FIXTURES ?? path.resolve(process.cwd(), '..', 'shared', 'fixtures', 'wpcd');
}

const ARCHIVE = 'wp-cloud-deploy-5.8.0.tar.gz';
const CLASS_FILE = 'includes/core/wp-cloud-deploy.php';

/** WPCD's encrypt() and encrypt_v1() source, or null where the archive or php is missing. */
function wpcdEncryptSource(): string | null {
  const archive = path.join(wpcdFixturesDir(), ARCHIVE);
  if (!fs.existsSync(archive)) return null;
  try {
    execFileSync('php', ['-v'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const list = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n');
  const member = list.find((f) => f.endsWith(CLASS_FILE));
  if (!member) throw new Error(`${ARCHIVE} has no ${CLASS_FILE}`);
  const php = execFileSync('tar', ['-xzOf', archive, member], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const start = php.indexOf('public static function encrypt(');
  const end = php.indexOf('public static function decrypt(');
  if (start < 0 || end < start) throw new Error(`WPCD's encrypt() was not found in ${CLASS_FILE}`);
  const constant = /const ENCRYPTION_KEY = '([^']*)';/.exec(php)?.[1];
  const methods = php.slice(start, end);
  // Drop decrypt()'s docblock, which sits between the two.
  return `const ENCRYPTION_KEY = '${constant}';\n` + methods.slice(0, methods.lastIndexOf('/**'));
}

let cached: string | null | undefined;

/** Whether real PHP with WPCD's code is available here. */
export function haveWpcdPhp(): boolean {
  cached ??= wpcdEncryptSource();
  return cached !== null;
}

/**
 * Encrypt `values` as WPCD would: with `constantKey` as WPCD_ENCRYPTION_KEY (wp-config.php)
 * when given, else with `optionKey` as the option wpcd_encryption_key_v2. `v1` uses encrypt_v1().
 */
export function wpcdPhpEncrypt(values: string[], keys: { constantKey?: string; optionKey?: string }, opts: { v1?: boolean } = {}): string[] {
  if (!haveWpcdPhp()) throw new Error('WPCD archive or php not available');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-wpcd-php-'));
  const script = path.join(dir, 'encrypt.php');
  fs.writeFileSync(script, `<?php
$in = json_decode(stream_get_contents(STDIN), true);
if ($in['constantKey'] !== null) define('WPCD_ENCRYPTION_KEY', $in['constantKey']);
function get_option($name) { global $in; return $name === 'wpcd_encryption_key_v2' ? $in['optionKey'] : false; }
function update_option($name, $value) { throw new Exception('WPCD tried to generate a key: none was given'); }
class WPCD_Test { ${cached} }
$out = array();
foreach ($in['values'] as $v) $out[] = $in['v1'] ? WPCD_Test::encrypt_v1($v) : WPCD_Test::encrypt($v);
echo json_encode($out);
`);
  try {
    const out = execFileSync('php', [script], {
      input: JSON.stringify({ values, constantKey: keys.constantKey ?? null, optionKey: keys.optionKey ?? null, v1: opts.v1 === true }),
      encoding: 'utf8',
    });
    return JSON.parse(out) as string[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** PHP's serialize() of a flat array of strings, as WordPress stores `wpcd_settings`. */
export function phpSerializeStrings(values: Record<string, string>): string {
  const s = (v: string) => `s:${Buffer.byteLength(v, 'utf8')}:"${v}";`;
  return `a:${Object.keys(values).length}:{${Object.entries(values).map(([k, v]) => s(k) + s(v)).join('')}}`;
}
