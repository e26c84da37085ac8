/**
 * Dates printed as WordPress's date_i18n()/wp_date() would: the site's PHP date format
 * characters, in the site's timezone, with month and weekday names from the catalogue
 * (the same source strings WordPress's WP_Locale translates).
 */
import { DateTime } from 'luxon';
import type { Translator } from './i18n.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function monthAbbrev(t: Translator, m: number): string {
  // WordPress: _x( 'Jan', 'January abbreviation' ) … (May's abbreviation is "May").
  const abbr = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m]!;
  return t._x(abbr, `${MONTHS[m]} abbreviation`);
}

function weekdayAbbrev(t: Translator, d: number): string {
  return t.__(['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d]!);
}

function monthName(t: Translator, m: number): string {
  switch (m) {
    case 0: return t.__('January');
    case 1: return t.__('February');
    case 2: return t.__('March');
    case 3: return t.__('April');
    case 4: return t.__('May');
    case 5: return t.__('June');
    case 6: return t.__('July');
    case 7: return t.__('August');
    case 8: return t.__('September');
    case 9: return t.__('October');
    case 10: return t.__('November');
    default: return t.__('December');
  }
}

function weekdayName(t: Translator, d: number): string {
  switch (d) {
    case 0: return t.__('Sunday');
    case 1: return t.__('Monday');
    case 2: return t.__('Tuesday');
    case 3: return t.__('Wednesday');
    case 4: return t.__('Thursday');
    case 5: return t.__('Friday');
    default: return t.__('Saturday');
  }
}
void WEEKDAYS;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function englishSuffix(day: number): string {
  if (day % 100 >= 11 && day % 100 <= 13) return 'th';
  return ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[day % 10] ?? 'th';
}

/** A luxon zone for what WordPress calls the site timezone: an IANA name or "+02:00". */
export function zoneOf(timezone: string): string {
  if (/^[+-]\d{2}:\d{2}$/.test(timezone)) return `UTC${timezone}`;
  return DateTime.local().setZone(timezone).isValid ? timezone : 'UTC';
}

export function formatPhpDate(format: string, when: Date, timezone: string, t: Translator): string {
  const d = DateTime.fromJSDate(when, { zone: zoneOf(timezone) });
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const wd = d.weekday % 7; // luxon: Monday 1 … Sunday 7; PHP w: Sunday 0
    switch (c) {
      case '\\': i++; out += format[i] ?? ''; break;
      case 'd': out += pad(d.day); break;
      case 'D': out += weekdayAbbrev(t, wd); break;
      case 'j': out += String(d.day); break;
      case 'l': out += weekdayName(t, wd); break;
      case 'N': out += String(d.weekday); break;
      case 'S': out += englishSuffix(d.day); break;
      case 'w': out += String(wd); break;
      case 'z': out += String(d.ordinal - 1); break;
      case 'W': out += pad(d.weekNumber); break;
      case 'F': out += monthName(t, d.month - 1); break;
      case 'm': out += pad(d.month); break;
      case 'M': out += monthAbbrev(t, d.month - 1); break;
      case 'n': out += String(d.month); break;
      case 't': out += String(d.daysInMonth); break;
      case 'L': out += d.isInLeapYear ? '1' : '0'; break;
      case 'o': out += String(d.weekYear); break;
      case 'Y': out += String(d.year); break;
      case 'y': out += pad(d.year % 100); break;
      case 'a': out += d.hour < 12 ? t.__('am') : t.__('pm'); break;
      case 'A': out += d.hour < 12 ? t.__('AM') : t.__('PM'); break;
      case 'g': out += String(d.hour % 12 === 0 ? 12 : d.hour % 12); break;
      case 'G': out += String(d.hour); break;
      case 'h': out += pad(d.hour % 12 === 0 ? 12 : d.hour % 12); break;
      case 'H': out += pad(d.hour); break;
      case 'i': out += pad(d.minute); break;
      case 's': out += pad(d.second); break;
      case 'u': out += pad(d.millisecond * 1000, 6); break;
      case 'v': out += pad(d.millisecond, 3); break;
      case 'e': out += timezone; break;
      case 'T': out += d.offsetNameShort ?? d.toFormat('ZZ'); break;
      case 'P': out += d.toFormat('ZZ'); break;
      case 'p': out += d.offset === 0 ? 'Z' : d.toFormat('ZZ'); break;
      case 'O': out += d.toFormat('ZZZ'); break;
      case 'Z': out += String(d.offset * 60); break;
      case 'I': out += d.isInDST ? '1' : '0'; break;
      case 'c': out += d.toISO({ suppressMilliseconds: true }) ?? ''; break;
      case 'r': out += formatPhpDate('D, d M Y H:i:s O', when, timezone, t); break;
      case 'U': out += String(Math.floor(when.getTime() / 1000)); break;
      default: out += c;
    }
  }
  return out;
}

/** WordPress's human_time_diff(): "5 mins", "2 hours", "3 days", … */
export function humanTimeDiff(fromMs: number, toMs: number, t: Translator): string {
  const diff = Math.abs(toMs - fromMs) / 1000;
  const MIN = 60, HOUR = 3600, DAY = 86400, WEEK = 7 * DAY, MONTH = 30 * DAY, YEAR = 365 * DAY;
  if (diff < MIN) { const n = Math.max(1, Math.round(diff)); return t.sprintf(t._n('%s second', '%s seconds', n), n); }
  if (diff < HOUR) { const n = Math.max(1, Math.round(diff / MIN)); return t.sprintf(t._n('%s min', '%s mins', n), n); }
  if (diff < DAY) { const n = Math.max(1, Math.round(diff / HOUR)); return t.sprintf(t._n('%s hour', '%s hours', n), n); }
  if (diff < WEEK) { const n = Math.max(1, Math.round(diff / DAY)); return t.sprintf(t._n('%s day', '%s days', n), n); }
  if (diff < MONTH) { const n = Math.max(1, Math.round(diff / WEEK)); return t.sprintf(t._n('%s week', '%s weeks', n), n); }
  if (diff < YEAR) { const n = Math.max(1, Math.round(diff / MONTH)); return t.sprintf(t._n('%s month', '%s months', n), n); }
  const n = Math.max(1, Math.round(diff / YEAR));
  return t.sprintf(t._n('%s year', '%s years', n), n);
}
