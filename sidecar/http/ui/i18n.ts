/**
 * Translations for the screens the sidecar renders. Catalogues are WordPress's JSON (Jed)
 * files in the plugin's `languages/` folder (`scheduled-snapshots-de_DE.json`), read with
 * @wordpress/i18n — the same library and format WordPress uses for script translations.
 * A locale without a catalogue (en_US and every other) shows the English source strings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createI18n, sprintf } from '@wordpress/i18n';

export const TEXT_DOMAIN = 'scheduled-snapshots';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Works from sidecar/http/ui (tsx, vitest) and from dist/sidecar/http/ui (built). */
export const LANGUAGES_DIR = [
  path.resolve(here, '../../../plugin-php/scheduled-snapshots/languages'),
  path.resolve(here, '../../../../plugin-php/scheduled-snapshots/languages'),
].find((d) => fs.existsSync(d)) ?? path.resolve(here, '../../../plugin-php/scheduled-snapshots/languages');

export interface Translator {
  locale: string;
  __(text: string): string;
  _x(text: string, context: string): string;
  _n(single: string, plural: string, n: number): string;
  /** printf-style formatting (%s, %d, %1$s), as WordPress's sprintf. */
  sprintf(format: string, ...args: unknown[]): string;
}

const cache = new Map<string, Translator>();

export function isLocale(value: string): boolean {
  return /^[a-z]{2,3}(_[A-Z]{2})?(_[a-z0-9]+)?$/.test(value);
}

export function translatorFor(locale: string): Translator {
  const key = isLocale(locale) ? locale : 'en_US';
  let t = cache.get(key);
  if (!t) {
    t = build(key);
    cache.set(key, t);
  }
  return t;
}

function build(locale: string): Translator {
  const i18n = createI18n(undefined, TEXT_DOMAIN);
  const file = path.join(LANGUAGES_DIR, `${TEXT_DOMAIN}-${locale}.json`);
  if (locale !== 'en_US' && fs.existsSync(file)) {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { locale_data?: Record<string, Record<string, unknown>> };
    const messages = json.locale_data ? Object.values(json.locale_data)[0] : undefined;
    if (messages) i18n.setLocaleData(messages as never, TEXT_DOMAIN);
  }
  return {
    locale,
    __: (text) => i18n.__(text, TEXT_DOMAIN),
    _x: (text, context) => i18n._x(text, context, TEXT_DOMAIN),
    _n: (single, plural, n) => i18n._n(single, plural, n, TEXT_DOMAIN),
    sprintf: (format, ...args) => sprintf(format, ...(args as never[])),
  };
}

/** Tests write catalogues; they call this to read them again. */
export function forgetTranslations(): void {
  cache.clear();
}
