import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import type { RenderContext } from './context.js';
import { withArgs } from './context.js';
import { formatPhpDate, humanTimeDiff } from './dates.js';
import { translatorFor, type Translator } from './i18n.js';
import * as healthWords from './health-words.js';
import * as words from './words.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** views/ at the repository root, from sidecar/http/ui (tsx, vitest) or dist/sidecar/http/ui. */
export const VIEWS_DIR = [path.resolve(here, '../../../views'), path.resolve(here, '../../../../views')]
  .find((d) => fs.existsSync(path.join(d, 'partials'))) ?? path.resolve(here, '../../../views');

/** What every template gets: the context, the translator and small formatting helpers. */
export function helpersFor(ctx: RenderContext, now: Date) {
  const t: Translator = translatorFor(ctx.locale);
  const asDate = (d: Date | string | null | undefined) => (d === null || d === undefined ? null : d instanceof Date ? d : new Date(d));
  return {
    ctx, t, words, healthWords,
    __: t.__, _n: t._n, _x: t._x, sprintf: t.sprintf,
    /** date_i18n( date_format . ' ' . time_format ) */
    dateTime(d: Date | string | null | undefined): string {
      const x = asDate(d);
      return x ? formatPhpDate(`${ctx.dateFormat} ${ctx.timeFormat}`, x, ctx.timezone, t) : '';
    },
    date(d: Date | string | null | undefined): string {
      const x = asDate(d);
      return x ? formatPhpDate(ctx.dateFormat, x, ctx.timezone, t) : '';
    },
    /** A short day without the year ("Oct 31"; German "31. Okt."), as translators give it: the narrow timeline's axis. */
    shortDate(d: Date | string | null | undefined): string {
      const x = asDate(d);
      return x ? formatPhpDate(t._x('M j', 'short date format'), x, ctx.timezone, t) : '';
    },
    ymd(d: Date | null): string {
      return d ? formatPhpDate('Y-m-d', d, ctx.timezone, t) : '';
    },
    iso(d: Date | string | null | undefined): string {
      const x = asDate(d);
      return x ? x.toISOString() : '';
    },
    relative(d: Date | string | null | undefined): string {
      const x = asDate(d);
      if (!x) return '';
      const diff = humanTimeDiff(now.getTime(), x.getTime(), t);
      return x.getTime() >= now.getTime() ? t.sprintf(t.__('in %s'), diff) : t.sprintf(t.__('%s ago'), diff);
    },
    url: withArgs,
    hidden(column: string): boolean { return ctx.hidden.includes(column); },
    nonce(action: string): string { return ctx.nonces[action] ?? ''; },
    timezoneName: friendlyZone(ctx.timezoneName ?? ctx.timezone),
    now,
  };
}

export type Helpers = ReturnType<typeof helpersFor>;

/** "+00:00" → "UTC", "+02:00" → "UTC+2", "+05:30" → "UTC+5:30", as WordPress names offset zones. */
export function friendlyZone(zone: string): string {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (!m) return zone;
  if (m[2] === '00' && m[3] === '00') return 'UTC';
  return `UTC${m[1]}${Number(m[2])}${m[3] === '00' ? '' : `:${m[3]}`}`;
}

/**
 * Templates are compiled once per process (ejs's cache, keyed by file name, partials included):
 * compiling the Snapshots screen and its partials took longer than everything else the screen
 * does. NODE_ENV=development recompiles on every request, for editing views against a running sidecar.
 * Includes name their file from the views folder ('/partials/…'): ejs then finds it without
 * asking the file system on every include, as it does for a relative name.
 */
export async function renderView(view: string, helpers: Helpers, data: Record<string, unknown>): Promise<string> {
  return await ejs.renderFile(path.join(VIEWS_DIR, `${view}.ejs`), { ...helpers, ...data, h: helpers }, {
    async: false, root: VIEWS_DIR, views: [VIEWS_DIR], strict: false, rmWhitespace: false, cache: process.env.NODE_ENV !== 'development',
  });
}
