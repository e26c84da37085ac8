import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * Templates print with `<%=` (escaped). `<%-` (raw) may only include another template: any
 * other raw print would let a hostile name, note or provider error become markup in wp-admin.
 */
function templates(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? templates(p) : e.name.endsWith('.ejs') ? [p] : [];
  });
}

describe('views/', () => {
  const files = templates(path.resolve(import.meta.dirname, '../views'));

  test('there are templates for every screen', () => {
    const names = files.map((f) => path.basename(f, '.ejs'));
    for (const screen of ['schedules', 'schedule-form', 'schedule-delete', 'snapshots', 'snapshot', 'server-box', 'settings']) expect(names).toContain(screen);
  });

  test('when a template prints raw (<%-), then it only includes another template', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/<%-([\s\S]*?)%>/g)) {
        // A template name, literal or passed in by the including screen (cellView).
        if (!/^\s*include\(\s*(['"][\w./-]+['"]|cellView)\s*(,[\s\S]*)?\)\s*$/.test(m[1]!)) offenders.push(`${path.basename(file)}: <%-${m[1]!.slice(0, 60)}`);
        // An include's data may not smuggle markup through a variable called html.
        if (/\bhtml\b/i.test(m[1]!)) offenders.push(`${path.basename(file)}: raw html passed to include`);
      }
      if (/<%_?-?\s*=\s*-/.test(text)) offenders.push(`${path.basename(file)}: unusual print tag`);
    }
    expect(offenders).toEqual([]);
  });
});
