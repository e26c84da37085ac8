#!/usr/bin/env node
// npm run i18n: extract every __('…'), _x('…', '…') and _n('…', '…', n) from the sidecar's
// TypeScript, the views' EJS and the plugin's PHP into languages/scheduled-snapshots.pot,
// report the strings a shipped JSON catalogue does not translate yet, and write each
// catalogue's .mo for the plugin's own PHP strings (menus, Screen Options, error notices).
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const langDir = path.join(root, 'plugin-php/scheduled-snapshots/languages');
const STR = String.raw`'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"`;
const CALL = new RegExp(String.raw`(?<![\w$])(?:esc_html|esc_attr)?(__|_x|_n|_e)\(\s*(?:${STR})(?:\s*,\s*(?:${STR}))?`, 'g');

function files(dir, ext) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : ext.some((x) => e.name.endsWith(x)) ? [p] : [];
  });
}

const unescape = (s) => s.replace(/\\(.)/g, '$1');
export function extract() {
  const entries = new Map();
  const php = files(path.join(root, 'plugin-php/scheduled-snapshots'), ['.php']);
  for (const file of [...files(path.join(root, 'sidecar'), ['.ts']), ...files(path.join(root, 'views'), ['.ejs']), ...php]) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(CALL)) {
      const first = unescape(m[2] ?? m[3] ?? '');
      const second = m[4] !== undefined || m[5] !== undefined ? unescape(m[4] ?? m[5] ?? '') : null;
      const ref = `${path.relative(root, file)}:${text.slice(0, m.index).split('\n').length}`;
      const key = m[1] === '_x' ? `${second}\u0004${first}` : first;
      const e = entries.get(key) ?? { kind: m[1], msgid: first, context: m[1] === '_x' ? second : null, plural: m[1] === '_n' ? second : null, refs: [], php: false };
      e.refs.push(ref);
      if (file.endsWith('.php')) e.php = true;
      entries.set(key, e);
    }
  }
  return entries;
}

/** A gettext .mo file (what load_plugin_textdomain reads) from msgid → [translations]. */
export function moFile(messages) {
  const keys = Object.keys(messages).filter((k) => k !== '').sort();
  const orig = keys.map((k) => Buffer.from(k.includes('\u0004') || !Array.isArray(messages[k]) ? k : k, 'utf8'));
  const trans = keys.map((k) => Buffer.from(messages[k].join('\0'), 'utf8'));
  const header = Buffer.from(`Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n`, 'utf8');
  orig.unshift(Buffer.alloc(0));
  trans.unshift(header);
  const n = orig.length;
  const headerSize = 28;
  const tables = headerSize + n * 16;
  let offset = tables;
  const out = [];
  const head = Buffer.alloc(headerSize);
  head.writeUInt32LE(0x950412de, 0); head.writeUInt32LE(0, 4); head.writeUInt32LE(n, 8);
  head.writeUInt32LE(headerSize, 12); head.writeUInt32LE(headerSize + n * 8, 16); head.writeUInt32LE(0, 20);
  // No hash table, but WordPress's MO reader measures the translations table up to its address.
  head.writeUInt32LE(tables, 24);
  const table = Buffer.alloc(n * 16);
  const blobs = [];
  for (const [i, list] of [[0, orig], [1, trans]]) {
    list.forEach((b, j) => {
      table.writeUInt32LE(b.length, (i * n + j) * 8);
      table.writeUInt32LE(offset, (i * n + j) * 8 + 4);
      blobs.push(b, Buffer.alloc(1));
      offset += b.length + 1;
    });
  }
  out.push(head, table, ...blobs);
  return Buffer.concat(out);
}

const q = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  // --check: write nothing; exit 1 when a shipped catalogue misses a string.
  const check = process.argv.includes('--check');
  const entries = extract();
  let incomplete = false;
  let pot = `msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"X-Domain: scheduled-snapshots\\n"\n\n`;
  for (const e of entries.values()) {
    pot += `#: ${e.refs.slice(0, 5).join(' ')}\n`;
    if (e.context) pot += `msgctxt ${q(e.context)}\n`;
    pot += `msgid ${q(e.msgid)}\n`;
    pot += e.plural ? `msgid_plural ${q(e.plural)}\nmsgstr[0] ""\nmsgstr[1] ""\n\n` : `msgstr ""\n\n`;
  }
  if (!check) fs.writeFileSync(path.join(langDir, 'scheduled-snapshots.pot'), pot);
  console.log(`${entries.size} strings → plugin-php/scheduled-snapshots/languages/scheduled-snapshots.pot`);
  for (const f of fs.readdirSync(langDir).filter((n) => n.endsWith('.json'))) {
    const messages = Object.values(JSON.parse(fs.readFileSync(path.join(langDir, f), 'utf8')).locale_data)[0];
    const missing = [...entries.keys()].filter((k) => !messages[k]);
    // Plural entries in a .mo are keyed by the singular, the plural after a NUL.
    const phpMessages = {};
    for (const [k, e] of entries) {
      if (e.php && messages[k]) phpMessages[e.plural ? `${k}\0${e.plural}` : k] = messages[k];
    }
    if (!check) fs.writeFileSync(path.join(langDir, f.replace(/\.json$/, '.mo')), moFile(phpMessages));
    if (missing.length) incomplete = true;
    console.log(`${f}: ${entries.size - missing.length}/${entries.size} translated${missing.length ? `; missing:\n  ${missing.slice(0, 50).join('\n  ')}` : ''}`);
  }
  if (check && incomplete) process.exit(1);
}
