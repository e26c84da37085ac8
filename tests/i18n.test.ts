import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

describe('npm run i18n', () => {
  test('every string in the sidecar, the views and the plugin is in the .pot and translated by the German catalogue', () => {
    const out = execFileSync(process.execPath, [path.resolve(import.meta.dirname, '../scripts/i18n.mjs'), '--check'], { encoding: 'utf8' });
    const [, done, all] = /de_DE\.json: (\d+)\/(\d+) translated/.exec(out) ?? [];
    expect(Number(all)).toBeGreaterThan(300);
    expect(done).toBe(all);
  });
});
