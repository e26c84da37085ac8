#!/usr/bin/env node
// npm run i18n: extract every __('…'), _x('…', '…') and _n('…', '…', n) from the sidecar's
// TypeScript and the views' EJS into languages/scheduled-snapshots.pot, and report the
// strings a shipped JSON catalogue does not translate yet.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const langDir = path.join(root, 'plugin-php/scheduled-snapshots/languages');
const STR = String.raw`'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"`;
const CALL = new RegExp(String.raw`\b(__|_x|_n)\(\s*(?:${STR})(?:\s*,\s*(?:${STR}))?`, 'g');

function files(dir, ext) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : ext.some((x) => e.name.endsWith(x)) ? [p] : [];
  });
}

const unescape = (s) => s.replace(/\\(.)/g, '$1');
export function extract() {
  const entries = new Map();
  for (const file of [...files(path.join(root, 'sidecar'), ['.ts']), ...files(path.join(root, 'views'), ['.ejs'])]) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(CALL)) {
      const first = unescape(m[2] ?? m[3] ?? '');
      const second = m[4] !== undefined || m[5] !== undefined ? unescape(m[4] ?? m[5] ?? '') : null;
      const ref = `${path.relative(root, file)}:${text.slice(0, m.index).split('\n').length}`;
      const key = m[1] === '_x' ? `${second}\u0004${first}` : first;
      const e = entries.get(key) ?? { kind: m[1], msgid: first, context: m[1] === '_x' ? second : null, plural: m[1] === '_n' ? second : null, refs: [] };
      e.refs.push(ref);
      entries.set(key, e);
    }
  }
  return entries;
}

const q = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const entries = extract();
  let pot = `msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"X-Domain: scheduled-snapshots\\n"\n\n`;
  for (const e of entries.values()) {
    pot += `#: ${e.refs.slice(0, 5).join(' ')}\n`;
    if (e.context) pot += `msgctxt ${q(e.context)}\n`;
    pot += `msgid ${q(e.msgid)}\n`;
    pot += e.plural ? `msgid_plural ${q(e.plural)}\nmsgstr[0] ""\nmsgstr[1] ""\n\n` : `msgstr ""\n\n`;
  }
  fs.writeFileSync(path.join(langDir, 'scheduled-snapshots.pot'), pot);
  console.log(`${entries.size} strings → plugin-php/scheduled-snapshots/languages/scheduled-snapshots.pot`);
  for (const f of fs.readdirSync(langDir).filter((n) => n.endsWith('.json'))) {
    const messages = Object.values(JSON.parse(fs.readFileSync(path.join(langDir, f), 'utf8')).locale_data)[0];
    const missing = [...entries.keys()].filter((k) => !messages[k]);
    console.log(`${f}: ${entries.size - missing.length}/${entries.size} translated${missing.length ? `; missing:\n  ${missing.slice(0, 50).join('\n  ')}` : ''}`);
  }
}
