/**
 * A small, safe reader of PHP's `serialize()` format, for WordPress options such as
 * `wpcd_settings`. It understands what option arrays hold — arrays, strings, integers,
 * floats, booleans and null — and refuses objects (`O:`, `C:`), references and anything else
 * with PhpUnserializeError, so nothing in the database can make us build more than plain data.
 *
 * PHP counts string lengths in bytes, so the input is handled as a Buffer, not as characters.
 */

export type PhpValue = string | number | boolean | null | PhpArray;
/** A PHP array: keys stay in their order; integer keys become strings, as JSON would make them. */
export type PhpArray = Map<string, PhpValue>;

export class PhpUnserializeError extends Error {
  constructor(what: string) {
    super(`The serialized PHP value cannot be read: ${what}.`);
    this.name = 'PhpUnserializeError';
  }
}

const MAX_DEPTH = 32;

export function phpUnserialize(input: string | Buffer): PhpValue {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let pos = 0;

  const fail = (what: string): never => { throw new PhpUnserializeError(`${what} at byte ${pos}`); };
  const expect = (ch: string) => {
    if (buf[pos] !== ch.charCodeAt(0)) fail(`expected "${ch}"`);
    pos += 1;
  };
  /** Read up to `stop` (exclusive) and step over it. */
  const readUntil = (stop: string): string => {
    const end = buf.indexOf(stop, pos);
    if (end < 0) fail(`missing "${stop}"`);
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const readInt = (stop: string): number => {
    const s = readUntil(stop);
    if (!/^[+-]?\d{1,18}$/.test(s)) fail('bad integer');
    return Number(s);
  };

  function value(depth: number): PhpValue {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    const tag = String.fromCharCode(buf[pos] ?? 0);
    pos += 1;
    switch (tag) {
      case 'N':
        expect(';');
        return null;
      case 'b': {
        expect(':');
        const v = readInt(';');
        if (v !== 0 && v !== 1) fail('bad boolean');
        return v === 1;
      }
      case 'i':
        expect(':');
        return readInt(';');
      case 'd': {
        expect(':');
        const s = readUntil(';');
        const n = s === 'INF' ? Infinity : s === '-INF' ? -Infinity : s === 'NAN' ? NaN : Number(s);
        if (s === '' || (Number.isNaN(n) && s !== 'NAN')) fail('bad float');
        return n;
      }
      case 's': {
        expect(':');
        const len = readInt(':');
        if (len < 0 || pos + 1 + len + 2 > buf.length) fail('string longer than the input');
        expect('"');
        const s = buf.toString('utf8', pos, pos + len);
        pos += len;
        expect('"');
        expect(';');
        return s;
      }
      case 'a': {
        expect(':');
        const count = readInt(':');
        if (count < 0 || count > buf.length) fail('bad array size');
        expect('{');
        const out: PhpArray = new Map();
        for (let i = 0; i < count; i += 1) {
          const key = value(depth + 1);
          if (typeof key !== 'string' && typeof key !== 'number') fail('array key must be a string or integer');
          out.set(String(key), value(depth + 1));
        }
        expect('}');
        return out;
      }
      default:
        return fail(`type "${tag}" is not accepted (only arrays, strings, numbers, booleans and null)`);
    }
  }

  const v = value(0);
  if (pos !== buf.length) fail('trailing data');
  return v;
}
