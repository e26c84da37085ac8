/**
 * `npm run package` gives the zip an admin uploads through Plugins → Add New → Upload: one
 * top folder, the whole plugin with its languages folder, and never the stand-in host.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = process.cwd();
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-package-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function filesUnder(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, base) : [path.relative(base, p)];
  });
}

describe('npm run package', () => {
  test('when packaged, then the zip is named by the plugin\'s version and holds exactly the plugin, with languages/ and without the stand-in host', () => {
    const printed = execFileSync('bash', ['scripts/package.sh'], { cwd: root, env: { ...process.env, SS_PACKAGE_OUT: out }, encoding: 'utf8' }).trim();
    const header = fs.readFileSync(path.join(root, 'plugin-php/scheduled-snapshots/scheduled-snapshots.php'), 'utf8');
    const version = /Version:\s*(\S+)/.exec(header)![1]!;
    expect(printed).toBe(path.join(out, `scheduled-snapshots-${version}.zip`));

    const listing = execFileSync('unzip', ['-Z1', printed], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.every((entry) => entry.startsWith('scheduled-snapshots/'))).toBe(true);
    expect(listing).toContain('scheduled-snapshots/languages/');
    const files = listing.filter((e) => !e.endsWith('/')).map((e) => e.slice('scheduled-snapshots/'.length)).sort();
    expect(files).toEqual(filesUnder(path.join(root, 'plugin-php/scheduled-snapshots')).filter((f) => !/(^|\/)\.(git|DS_Store)/.test(f)).sort());
    expect(listing.some((e) => /host-standin/.test(e))).toBe(false);
  });
});
