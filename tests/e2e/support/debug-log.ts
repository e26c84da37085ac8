/**
 * WordPress's debug.log, read from where the last look ended. PHP 8.2 on WordPress 6.1 logs
 * deprecations from core's own files (wp-includes/, wp-admin/): those are left out, as the
 * PHP suite does. Every other line — any notice, warning or error, from our plugins or
 * anywhere else — is returned, so a test can fail on it.
 */

import fs from 'node:fs';

const CORE_DEPRECATION = /PHP Deprecated: .* in \S*\/wp-(?:includes|admin)\/\S+ on line \d+\s*$/;

export class DebugLog {
  #offset: number;

  constructor(private readonly file: string) {
    this.#offset = DebugLog.size(file);
  }

  private static size(file: string): number {
    try {
      return fs.statSync(file).size;
    } catch {
      return 0;
    }
  }

  /** Lines written since the last call (or since construction), core deprecations left out. */
  newLines(): string[] {
    const size = DebugLog.size(this.file);
    if (size <= this.#offset) return [];
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.#offset);
      fs.readSync(fd, buf, 0, buf.length, this.#offset);
      this.#offset = size;
      return buf.toString('utf8').split(/\r?\n/).filter((line) => line.trim() !== '' && !CORE_DEPRECATION.test(line));
    } finally {
      fs.closeSync(fd);
    }
  }
}
