/**
 * The add/edit schedule form as typed (strings, as the browser sent them) ↔ the schedule the
 * API keeps, and the API's field messages as sentences beside the form's fields.
 */
import { ApiError } from '../../errors.js';
import type { Freshness } from '../../schedule-service.js';
import type { NormalizedSchedule } from '../../schedules.js';
import { parseScheduleBody } from '../schedules-wire.js';
import type { Translator } from './i18n.js';
import type { ScheduleView } from './data.js';

export const RETENTION_KEYS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'maxAgeDays', 'minKeep'] as const;
export type RetentionKey = typeof RETENTION_KEYS[number];

export interface FormValues {
  name: string; frequency: 'interval' | 'cron'; intervalMinutes: string; cron: string; timezone: string;
  /** Spread window in minutes; empty = the default (interval: up to 60, cron: none). */
  spreadMinutes: string;
  retention: Record<RetentionKey, string>; enabled: boolean; noReboot: boolean;
  /** Health limits in minutes; empty = the defaults (from the schedule's frequency). */
  warnAfterMinutes: string; criticalAfterMinutes: string;
}

export function retentionFields(t: Translator): Record<RetentionKey, [string, string]> {
  return {
    keepLast: [t.__('Keep the last'), t.__('snapshots')],
    keepHourly: [t.__('Keep one per hour for'), t.__('hours')],
    keepDaily: [t.__('Keep one per day for'), t.__('days')],
    keepWeekly: [t.__('Keep one per week for'), t.__('weeks')],
    keepMonthly: [t.__('Keep one per month for'), t.__('months')],
    keepYearly: [t.__('Keep one per year for'), t.__('years')],
    maxAgeDays: [t.__('Delete snapshots older than'), t.__('days')],
    minKeep: [t.__('But always keep at least'), t.__('good snapshots (default 1)')],
  };
}

export function defaults(siteTimezone: string): FormValues {
  return {
    name: '', frequency: 'interval', intervalMinutes: '1440', cron: '', spreadMinutes: '', timezone: /^[+-]\d/.test(siteTimezone) || !siteTimezone ? 'UTC' : siteTimezone,
    retention: { keepLast: '', keepHourly: '', keepDaily: '7', keepWeekly: '4', keepMonthly: '', keepYearly: '', maxAgeDays: '', minKeep: '1' },
    enabled: true, noReboot: true, warnAfterMinutes: '', criticalAfterMinutes: '',
  };
}

export function fromSchedule(s: ScheduleView, siteTimezone: string): FormValues {
  const v = defaults(siteTimezone);
  v.name = s.name;
  v.frequency = s.cron ? 'cron' : 'interval';
  v.intervalMinutes = s.intervalMinutes === null ? '' : String(s.intervalMinutes);
  v.cron = s.cron ?? '';
  v.timezone = s.timezone;
  v.spreadMinutes = s.spreadMinutes === null ? '' : String(s.spreadMinutes);
  for (const k of RETENTION_KEYS) v.retention[k] = s.retention[k] === null ? '' : String(s.retention[k]);
  v.enabled = s.enabled;
  v.noReboot = s.noReboot;
  v.warnAfterMinutes = s.warnAfterMinutes === null ? '' : String(s.warnAfterMinutes);
  v.criticalAfterMinutes = s.criticalAfterMinutes === null ? '' : String(s.criticalAfterMinutes);
  return v;
}

// Control characters (a pasted tab or NUL) become spaces: a name is one printable line.
// eslint-disable-next-line no-control-regex
const str = (x: unknown, max = 190) => (typeof x === 'string' ? x.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, max) : '');

/** What the browser sent (PHP forwards $_POST['ss_schedule'] unslashed) → form values. */
export function fromRequest(raw: unknown, siteTimezone: string): FormValues {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const v = defaults(siteTimezone);
  v.name = str(r.name);
  v.frequency = r.frequency === 'cron' ? 'cron' : 'interval';
  v.intervalMinutes = str(r.intervalMinutes, 20);
  v.cron = str(r.cron);
  v.timezone = str(r.timezone, 64);
  v.spreadMinutes = str(r.spreadMinutes, 20);
  const ret = (r.retention && typeof r.retention === 'object' ? r.retention : {}) as Record<string, unknown>;
  for (const k of RETENTION_KEYS) v.retention[k] = str(ret[k], 20);
  v.enabled = Boolean(r.enabled) && r.enabled !== '0';
  v.noReboot = Boolean(r.noReboot) && r.noReboot !== '0';
  v.warnAfterMinutes = str(r.warnAfterMinutes, 20);
  v.criticalAfterMinutes = str(r.criticalAfterMinutes, 20);
  return v;
}

/** Only what the API cannot receive (text in a number box); every domain rule is the API's. */
export function localErrors(t: Translator, v: FormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  if (v.frequency === 'interval' && !/^\d{1,7}$/.test(v.intervalMinutes)) errors.intervalMinutes = t.__('Enter a whole number of minutes, for example 60.');
  if (v.spreadMinutes !== '' && !/^\d{1,4}$/.test(v.spreadMinutes)) errors.spreadMinutes = t.__('Enter a whole number of minutes, or leave the box empty for the default.');
  for (const k of RETENTION_KEYS) {
    if (v.retention[k] !== '' && !/^\d{1,6}$/.test(v.retention[k])) errors[`retention.${k}`] = t.__('Enter a whole number, or leave the box empty.');
  }
  for (const k of ['warnAfterMinutes', 'criticalAfterMinutes'] as const) {
    if (v[k] !== '' && !/^[1-9]\d{0,6}$/.test(v[k])) errors[k] = t.__('Enter a whole number of minutes above 0, or leave the box empty for the default.');
  }
  const f = freshnessOf(v);
  if (!errors.warnAfterMinutes && !errors.criticalAfterMinutes && f.warnAfterMinutes !== null && f.criticalAfterMinutes !== null && f.criticalAfterMinutes < f.warnAfterMinutes) {
    errors.criticalAfterMinutes = t.__('“Critical after” must be at least “Warn after”: critical comes after warning.');
  }
  return errors;
}

/** The health limits as the schedule service takes them (null = default). */
export function freshnessOf(v: FormValues): Freshness {
  const n = (x: string) => (/^[1-9]\d{0,6}$/.test(x) ? Number(x) : null);
  return { warnAfterMinutes: n(v.warnAfterMinutes), criticalAfterMinutes: n(v.criticalAfterMinutes) };
}

export function toBody(v: FormValues, forPreview: boolean, t: Translator) {
  const retention: Record<string, number> = {};
  for (const k of RETENTION_KEYS) if (/^\d+$/.test(v.retention[k])) retention[k] = Number(v.retention[k]);
  const cron = v.frequency === 'cron';
  return {
    // A name not typed yet does not hide the preview: it changes neither runs nor retention.
    name: forPreview && v.name === '' ? t.__('New schedule') : v.name,
    intervalMinutes: cron || !/^\d+$/.test(v.intervalMinutes) ? null : Number(v.intervalMinutes),
    cron: cron ? v.cron : null,
    timezone: v.timezone,
    spreadMinutes: /^\d+$/.test(v.spreadMinutes) ? Number(v.spreadMinutes) : null,
    retention, enabled: v.enabled, noReboot: v.noReboot,
  };
}

function labels(t: Translator): Record<string, string> {
  const out: Record<string, string> = {
    name: t.__('The name'), intervalMinutes: t.__('The number of minutes'), cron: t.__('The cron expression'),
    timezone: t.__('The timezone'), spreadMinutes: t.__('The spread'), retention: t.__('Retention'), enabled: t.__('Enabled'), noReboot: t.__('Do not reboot'),
  };
  for (const [k, [a, b]] of Object.entries(retentionFields(t))) out[`retention.${k}`] = t.sprintf(t.__('“%1$s … %2$s”'), a, b);
  return out;
}

/** The API's field phrases ("must be at least 1") → sentences naming the field as the form does. */
function phrase(t: Translator, raw: string): string {
  const known: [RegExp, string][] = [
    [/^give either intervalMinutes \(every N minutes\) or cron$/, t.__('give either a number of minutes or a cron expression')],
    [/^give either intervalMinutes or cron, not both$/, t.__('give either a number of minutes or a cron expression, not both')],
    [/^must be an IANA timezone such as Europe\/Berlin or UTC$/, t.__('must be an IANA timezone such as Europe/Berlin or UTC')],
    [/^set at least one of keepLast.*$/, t.__('set at least one of the retention boxes above “But always keep at least” (a count above 0)')],
    [/^Too small: expected string to have >=1 characters?$/i, t.__('must not be empty')],
  ];
  for (const [re, s] of known) if (re.test(raw)) return s;
  return raw;
}

export function fieldErrors(t: Translator, fields: Record<string, string>): Record<string, string> {
  const names = labels(t);
  const errors: Record<string, string> = {};
  for (const [field, raw] of Object.entries(fields)) {
    let key = field.replace(/[/[]/g, '.').replace(/]/g, '').replace(/^\.+/, '');
    if ((RETENTION_KEYS as readonly string[]).includes(key)) key = `retention.${key}`;
    if (key === 'frequency' || key === 'schedule') key = 'intervalMinutes';
    const slot = names[key] ? key : '';
    let p = phrase(t, String(raw).trim());
    if (slot && /^(is|must|should|cannot|give|set)\b/i.test(p)) p = `${names[slot]} ${p}`;
    if (/^(give|set)\b/.test(p)) p = p.charAt(0).toUpperCase() + p.slice(1);
    p = p.charAt(0).toUpperCase() + p.slice(1);
    if (!/[.!?]$/.test(p)) p += '.';
    errors[slot] = errors[slot] ? `${errors[slot]} ${p}` : p;
  }
  return errors;
}

/** Validate as a save would: the normalized schedule, or the form's errors. */
export function validate(t: Translator, v: FormValues, forPreview: boolean): { schedule: NormalizedSchedule } | { errors: Record<string, string>; message: string } {
  const local = localErrors(t, v);
  // The API's schema refuses an empty name; the form saves through the schedule service, so it says so here.
  if (!forPreview && v.name === '') Object.assign(local, fieldErrors(t, { name: 'Too small: expected string to have >=1 characters' }));
  if (Object.keys(local).length) return { errors: local, message: '' };
  try {
    return { schedule: parseScheduleBody(toBody(v, forPreview, t)) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) {
      const fields = (e.details as { fields?: Record<string, string> } | undefined)?.fields ?? {};
      const errors = Object.keys(fields).length ? fieldErrors(t, fields) : { '': e.message };
      return { errors, message: '' };
    }
    throw e;
  }
}

export function timezones(): string[] {
  return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
}
