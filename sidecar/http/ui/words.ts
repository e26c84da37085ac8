/**
 * The sidecar's words on screen, translatable. Where a sentence is built from parts, the
 * parts are translated here; English sentences already stored (a provider's last error) are
 * translated where their pattern is known and otherwise shown as they are.
 */
import type { Translator } from './i18n.js';

export function statusLabels(t: Translator): Record<string, string> {
  return {
    requested: t.__('Requested'), creating: t.__('Creating'), available: t.__('Available'), failed: t.__('Failed'),
    deleting: t.__('Deleting'), deleted: t.__('Deleted'), delete_failed: t.__('Delete failed'), superseded: t.__('Replaced by the provider'),
  };
}

export function originLabels(t: Translator): Record<string, string> {
  return { scheduled: t.__('Scheduled'), manual: t.__('Manual'), panel: t.__('Backup tab'), found: t.__('Found at the provider, not in this list') };
}

export function eventAction(t: Translator, action: string): string {
  const words: Record<string, string> = {
    requested: t.__('Requested'), creating: t.__('Accepted by the provider'), adopted: t.__('Found again after an interruption'),
    available: t.__('Available'), failed: t.__('Failed'), retry: t.__('Will retry'), updated: t.__('Protection or note changed'),
    trash_requested: t.__('Trash requested'), trashed: t.__('Trashed (record only)'), deleted: t.__('Deleted at the provider'),
    delete_failed: t.__('Delete failed at the provider'), retention_delete: t.__('Deleted by retention'), record_deleted: t.__('Record deleted'),
    recorded_from_panel: t.__("Recorded from the host's backup tab"), superseded: t.__('Replaced by the provider'),
    found: t.__('Found at the provider, not in this list'), delete_refused: t.__('Not deleted at the provider: it belongs to another server'),
  };
  return words[action] ?? action.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export function actorName(t: Translator, actor: string, current: { id: number; name: string }): string {
  if (/^\d+$/.test(actor)) return Number(actor) === current.id && current.name ? current.name : t.sprintf(t.__('User #%s'), actor);
  if (actor === 'scheduler') return t.__('Scheduler');
  if (actor === 'system') return t.__('System');
  if (actor === 'reconcile') return t.__('Reconciliation with the provider');
  return actor === '' ? t.__('Unknown') : actor;
}

export function frequency(t: Translator, s: { intervalMinutes: number | null; cron: string | null; timezone: string }): string {
  if (s.cron) {
    const f = s.cron.trim().split(/\s+/);
    const num = (x: string | undefined, max: number) => (x !== undefined && /^\d{1,2}$/.test(x) && Number(x) <= max ? Number(x) : null);
    const minute = num(f[0], 59);
    const hour = num(f[1], 23);
    if (f.length === 5 && minute !== null && hour !== null && f[2] === '*' && f[3] === '*') {
      const at = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
      if (f[4] === '*') return t.sprintf(t.__('Every day at %1$s (%2$s)'), at, s.timezone);
      const day = num(f[4], 7);
      if (day !== null) {
        const names = [t.__('Sunday'), t.__('Monday'), t.__('Tuesday'), t.__('Wednesday'), t.__('Thursday'), t.__('Friday'), t.__('Saturday')];
        return t.sprintf(t.__('Every %1$s at %2$s (%3$s)'), names[day % 7], at, s.timezone);
      }
    }
    if (f.length === 5 && minute !== null && f.slice(1).every((x) => x === '*')) return t.sprintf(t.__('Every hour at minute %1$d (%2$s)'), minute, s.timezone);
    return t.sprintf(t.__('Cron: %1$s (%2$s)'), s.cron, s.timezone);
  }
  const n = s.intervalMinutes ?? 0;
  if (n <= 0) return '';
  if (n % 1440 === 0) return n === 1440 ? t.__('Every day') : t.sprintf(t._n('Every %d day', 'Every %d days', n / 1440), n / 1440);
  if (n % 60 === 0) return n === 60 ? t.__('Every hour') : t.sprintf(t._n('Every %d hour', 'Every %d hours', n / 60), n / 60);
  return n === 1 ? t.__('Every minute') : t.sprintf(t._n('Every %d minute', 'Every %d minutes', n), n);
}

export interface RetentionWords {
  keepLast?: number | null; keepHourly?: number | null; keepDaily?: number | null; keepWeekly?: number | null;
  keepMonthly?: number | null; keepYearly?: number | null; maxAgeDays?: number | null; minKeep?: number | null;
}

function dayWords(t: Translator, n: number): string {
  return t.sprintf(t._n('%d day', '%d days', n), n);
}

/** Retention in words, e.g. "Keeps the last 3, 7 daily and 4 weekly; never fewer than 1." */
export function retention(t: Translator, r: RetentionWords): string {
  const parts: string[] = [];
  const n = (v: number | null | undefined) => (typeof v === 'number' && v > 0 ? v : 0);
  if (n(r.keepLast)) parts.push(n(r.keepLast) === 1 ? t.__('the last one') : t.sprintf(t.__('the last %d'), n(r.keepLast)));
  if (n(r.keepHourly)) parts.push(t.sprintf(t.__('%d hourly'), n(r.keepHourly)));
  if (n(r.keepDaily)) parts.push(t.sprintf(t.__('%d daily'), n(r.keepDaily)));
  if (n(r.keepWeekly)) parts.push(t.sprintf(t.__('%d weekly'), n(r.keepWeekly)));
  if (n(r.keepMonthly)) parts.push(t.sprintf(t.__('%d monthly'), n(r.keepMonthly)));
  if (n(r.keepYearly)) parts.push(t.sprintf(t.__('%d yearly'), n(r.keepYearly)));
  const maxAge = n(r.maxAgeDays);
  const minKeep = r.minKeep === null || r.minKeep === undefined ? 1 : r.minKeep;
  if (parts.length === 0 && maxAge === 0) return t.__('Keeps everything (no retention limit set).');
  const floor = minKeep > 0 ? t.sprintf(t.__('; never fewer than %d'), minKeep) : '';
  if (parts.length === 0) return t.sprintf(t.__('Keeps everything for %1$s%2$s.'), dayWords(t, maxAge), floor);
  const list = parts.length === 1 ? parts[0]! : t.sprintf(t.__('%1$s and %2$s'), parts.slice(0, -1).join(', '), parts[parts.length - 1]);
  const age = maxAge ? t.sprintf(t.__(', none older than %s'), dayWords(t, maxAge)) : '';
  return t.sprintf(t.__('Keeps %1$s%2$s%3$s.'), list, age, floor);
}

/** An English sentence's pattern and its words in the user's language. */
type Rule = [RegExp, (m: RegExpExecArray) => string];

/** The first rule whose pattern the sentence matches, translated; null when none does. */
function byRules(rules: Rule[], text: string): string | null {
  for (const [re, f] of rules) {
    const m = re.exec(text);
    if (m) return f(m);
  }
  return null;
}

/** One retention reason ("kept: daily #3", "deleted: older than 30 days") in the user's language. */
export function retentionReason(t: Translator, reason: string): string {
  const rules: Rule[] = [
    [/^kept: never delete automatically$/, () => t.__('kept: never delete automatically')],
    [/^kept: protected until (.+)$/, (m) => t.sprintf(t.__('kept: protected until %s'), m[1])],
    [/^kept: newest good snapshot \(minKeep (\d+)\)$/, (m) => t.sprintf(t.__('kept: newest good snapshot (minKeep %s)'), m[1])],
    [/^kept: (\d+)(?:st|nd|rd|th) newest good snapshot \(minKeep (\d+)\)$/, (m) => t.sprintf(t.__('kept: newest good snapshot no. %1$s (minKeep %2$s)'), m[1], m[2])],
    [/^kept: (manual|panel) snapshot$/, (m) => (m[1] === 'manual' ? t.__('kept: manual snapshot') : t.__('kept: backup-tab snapshot'))],
    [/^kept: found snapshot$/, () => t.__('kept: found at the provider')],
    [/^kept: not available \((\w+)\)$/, (m) => t.sprintf(t.__('kept: not available (%s)'), statusLabels(t)[m[1]!] ?? m[1])],
    [/^kept: no retention limit set$/, () => t.__('kept: no retention limit set')],
    [/^kept: within (\d+) days?$/, (m) => t.sprintf(t.__('kept: within %s'), dayWords(t, Number(m[1])))],
    [/^deleted: older than (\d+) days?$/, (m) => t.sprintf(t.__('deleted: older than %s'), dayWords(t, Number(m[1])))],
    [/^deleted: beyond keepLast (\d+)$/, (m) => t.sprintf(t.__('deleted: beyond the last %s'), m[1])],
    [/^deleted: not selected by any rule \((.*)\)$/, (m) => t.sprintf(t.__('deleted: not selected by any rule (%s)'), m[1]!.split(', ').map((x) => ruleWords(t, x)).join(', '))],
    [/^kept: ((?:(?:last|hourly|daily|weekly|monthly|yearly) #\d+(?:, )?)+)$/, (m) => t.sprintf(t.__('kept: %s'), m[1]!.split(', ').map((x) => ruleWords(t, x)).join(', '))],
    [/^kept: (.+)$/, (m) => t.sprintf(t.__('kept: %s'), m[1])],
  ];
  return byRules(rules, reason) ?? reason;
}

/** "daily #3" (the 3rd daily kept) or "daily 7" / "keepLast 2" (a rule and its count) in the user's language. */
function ruleWords(t: Translator, text: string): string {
  const m = /^(last|keepLast|hourly|daily|weekly|monthly|yearly) (#?)(\d+)$/.exec(text);
  if (!m) return text;
  const names: Record<string, string> = {
    last: t._x('last', 'retention rule'), keepLast: t._x('last', 'retention rule'), hourly: t._x('hourly', 'retention rule'), daily: t._x('daily', 'retention rule'),
    weekly: t._x('weekly', 'retention rule'), monthly: t._x('monthly', 'retention rule'), yearly: t._x('yearly', 'retention rule'),
  };
  return m[2] ? t.sprintf(t.__('%1$s #%2$s'), names[m[1]!], m[3]) : t.sprintf(t.__('%1$s %2$s'), names[m[1]!], m[3]);
}

/**
 * What retention wrote when it queued a delete ("deleted: beyond keepLast 2 (schedule "Nightly")"),
 * each reason in the user's language.
 */
export function retentionDetail(t: Translator, detail: string): string {
  const m = /^((?:kept|deleted): .*?)(?: \(schedule "(.*)"\))?$/s.exec(detail);
  if (!m) return detail;
  const reasons = m[1]!.split('; ').map((r) => retentionReason(t, r)).join('; ');
  return m[2] === undefined ? reasons : t.sprintf(t.__('%1$s (schedule “%2$s”)'), reasons, m[2]);
}

/**
 * An audit event's detail — an English sentence in the database, as the API and the logs give
 * it — in the user's language on the snapshot's history, its dates as the site prints them
 * (`when`: date and time; `day`: the date alone). A sentence no rule knows is shown as written:
 * a provider's own words, or an event from an older version.
 */
export function eventDetail(t: Translator, detail: string | null, when: (d: Date) => string, day: (d: Date) => string): string {
  if (!detail) return '';
  const at = (iso: string, f: (d: Date) => string) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : f(d);
  };
  const change = (part: string): string | null => {
    if (part === 'Never delete automatically: on') return t.__('Never delete automatically: on');
    if (part === 'Never delete automatically: off') return t.__('Never delete automatically: off');
    if (part === 'Do not delete before: cleared') return t.__('Do not delete before: cleared');
    if (part === 'Note changed') return t.__('Note changed');
    const m = /^Do not delete before (\S+)$/.exec(part);
    return m ? t.sprintf(t.__('Do not delete before %s'), at(m[1]!, day)) : null;
  };
  const rules: Rule[] = [
    [/^Scheduled slot (\S*)$/, (m) => (m[1] ? t.sprintf(t.__('Scheduled slot %s'), at(m[1], when)) : t.__('Scheduled slot'))],
    [/^Provider id (.+)$/s, (m) => t.sprintf(t.__('Provider id %s'), m[1])],
    [/^Accepted by the provider$/, () => t.__('Accepted by the provider')],
    [/^Manual snapshot$/, () => t.__('Manual snapshot')],
    [/^Host backup tab: (.+)$/s, (m) => t.sprintf(t.__('Host backup tab: %s'), m[1])],
    [/^Found snapshot (.+) from an interrupted attempt$/s, (m) => t.sprintf(t.__('Found snapshot %s from an interrupted attempt'), m[1])],
    [/^(.+) keeps only the latest snapshot; replaced by snapshot (\d+)$/s, (m) => t.sprintf(t.__('%1$s keeps only the latest snapshot; replaced by snapshot %2$s'), m[1], m[2])],
    [/^Found at (.+), not in this list: (.+) \((.*)\) carries our marker but had no record\. It is never deleted automatically; Trash deletes it at the provider, Delete Record forgets it\.$/s,
      (m) => t.sprintf(t.__('Found at %1$s, not in this list: %2$s (%3$s) carries our marker but had no record. It is never deleted automatically; Trash deletes it at the provider, Delete Record forgets it.'), m[1], m[2], m[3] === 'no name' ? t.__('no name') : m[3])],
    [/^A create that outlived its lease made a second snapshot (.+); it was deleted at the provider \(this record keeps (.+)\)\.$/s,
      (m) => t.sprintf(t.__('A create that outlived its lease made a second snapshot %1$s; it was deleted at the provider (this record keeps %2$s).'), m[1], m[2])],
    [/^A create that outlived its lease made a second snapshot (.+), and deleting it failed \((.*)\); delete it in the provider's dashboard\.$/s,
      (m) => t.sprintf(t.__('A create that outlived its lease made a second snapshot %1$s, and deleting it failed (%2$s); delete it in the provider\'s dashboard.'), m[1], m[2])],
    [/^(?:kept|deleted): /, () => retentionDetail(t, detail)],
  ];
  const known = byRules(rules, detail);
  if (known !== null) return known;
  const parts = detail.split('; ').map(change);
  if (parts.every((p) => p !== null)) return parts.join('; ');
  return lastError(t, detail);
}

/** A server problem the sidecar wrote (host.ts serverProblem) in the user's language. */
export function serverProblem(t: Translator, problem: string | null): string {
  if (!problem) return '';
  const rules: Rule[] = [
    [/^Server #(\d+) is no longer in the panel \(deleted\); its snapshots stay in this list\.$/, (m) => t.sprintf(t.__('Server #%s is no longer in the panel (deleted); its snapshots stay in this list.'), m[1])],
    [/^Server #(\d+) is in the panel's trash; restore it to resume snapshots\.$/, (m) => t.sprintf(t.__("Server #%s is in the panel's trash; restore it to resume snapshots."), m[1])],
    [/^Server #(\d+) has no provider set in the panel\.$/, (m) => t.sprintf(t.__('Server #%s has no provider set in the panel.'), m[1])],
    [/^Provider "(.*)" of server #(\d+) is not configured in the providers file \(SS_PROVIDERS_FILE\)\.$/, (m) => t.sprintf(t.__('Provider "%1$s" of server #%2$s is not configured in the providers file (SS_PROVIDERS_FILE).'), m[1], m[2])],
    [/^Server #(\d+) has no provider instance id in the panel\.$/, (m) => t.sprintf(t.__('Server #%s has no provider instance id in the panel.'), m[1])],
  ];
  return byRules(rules, problem) ?? problem;
}

/**
 * A stored last error: the engine's own sentences and the retry suffix it adds are translated,
 * the provider's words are not.
 */
export function lastError(t: Translator, text: string | null): string {
  if (!text) return '';
  const m = /^(.*) \(attempt (\d+) of (\d+); retrying\)$/s.exec(text);
  if (m) return t.sprintf(t.__('%1$s (attempt %2$s of %3$s; retrying)'), engineSentence(t, m[1]!), m[2], m[3]);
  return engineSentence(t, text);
}

/** The engine's sentences that end up as a snapshot's last error (and in its history). */
function engineSentence(t: Translator, text: string): string {
  const rules: Rule[] = [
    [/^Provider "(.*)" has no usable credentials in WPCloudDeploy's settings or the providers file \(SS_PROVIDERS_FILE\); add them and restart the sidecar\.$/s,
      (m) => t.sprintf(t.__('Provider "%s" has no usable credentials in WPCloudDeploy\'s settings or the providers file (SS_PROVIDERS_FILE); add them and restart the sidecar.'), m[1])],
    [/^(.+) snapshot (.+) belongs to another server: it (?:was made from server (.+)|does not say which server it was made from) and does not carry our marker for (.+), so it was not deleted\. Remove it from this list with Delete Record; delete it in the provider's dashboard only if you are sure it is not needed\.$/s,
      (m) => t.sprintf(m[3] === undefined
        ? t.__('%1$s snapshot %2$s belongs to another server: it does not say which server it was made from and does not carry our marker for %4$s, so it was not deleted. Remove it from this list with Delete Record; delete it in the provider\'s dashboard only if you are sure it is not needed.')
        : t.__('%1$s snapshot %2$s belongs to another server: it was made from server %3$s and does not carry our marker for %4$s, so it was not deleted. Remove it from this list with Delete Record; delete it in the provider\'s dashboard only if you are sure it is not needed.'),
      m[1], m[2], m[3] ?? '', m[4] === 'this server' ? t.__('this server') : m[4])],
  ];
  return byRules(rules, text) ?? text;
}

export function size(t: Translator, bytes: number | null): string {
  if (bytes === null || bytes < 0) return '';
  const units = [t.__('B'), t.__('KB'), t.__('MB'), t.__('GB'), t.__('TB')];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  const digits = i >= 3 ? 1 : 0;
  return `${v.toFixed(digits)} ${units[i]}`;
}

export interface NoticeInput { code: string; count: number; detail: string; results?: { id: number; outcome: string; message: string }[] }

/** The notice after an action (code from the redirect) → [type, sentence]; null for unknown codes. */
export function notice(t: Translator, n: NoticeInput): { type: string; text: string; lines: string[] } | null {
  const d = n.detail;
  const table: Record<string, [string, string, (true | 'append')?]> = {
    'schedule-created': ['success', t.__('Schedule created.')],
    'schedule-updated': ['success', t.__('Schedule updated.')],
    'schedule-deleted': ['success', t.sprintf(t.__('Schedule deleted. Its snapshots stay in the list (%d kept), with their protection unchanged.'), n.count)],
    'schedule-invalid': ['error', t.__('The schedule was not saved: correct the fields marked below.')],
    'snapshot-trashed': ['success', t.__('Snapshot deleted at the provider and removed from the list.'), true],
    'snapshot-trash-pending': ['info', t.__('Deletion is under way at the provider; the snapshot leaves the list when it is done.'), true],
    'snapshot-trash-failed': ['error', t.__('The provider could not delete the snapshot. Use Delete Record to remove only our record.'), true],
    'snapshot-record-only': ['warning', t.__('Snapshot removed from the list. The provider cannot delete it through its API, so the copy at the provider stays.'), true],
    'snapshot-record-deleted': ['success', t.__('Snapshot record deleted from the list. Nothing was deleted at the provider.'), true],
    'snapshot-updated': ['success', t.__('Snapshot updated.')],
    'snapshot-requested': ['success', t.__('Snapshot requested: it is in the Snapshots list now and becomes available when the provider has finished.')],
    'server-schedules-saved': ['success', t.__('Snapshot schedules saved for this server.')],
    'settings-saved': ['success', t.__('Settings saved.')],
    'settings-invalid-url': ['error', t.__('Settings not saved: the snapshot service address must be an http:// or https:// URL such as http://127.0.0.1:8787.')],
    'panel-queued': ['warning', t.__('The host took a snapshot while the snapshot service was not answering: it is kept and will be added to the Snapshots list when the service answers again.')],
    'panel-not-recorded': ['error', t.__('The host took a snapshot, but it could not be added to the Snapshots list.'), 'append'],
    'alerts-test-sent': ['success', t.__('The test message was sent to every alert channel.'), 'append'],
    'alerts-test-failed': ['error', t.__('The test message did not reach every alert channel.'), 'append'],
    'bulk-none': ['warning', t.__('Tick at least one snapshot, then choose a bulk action.')],
    error: ['error', t.__('That did not work.'), true],
  };
  if (n.code === 'bulk-done' && n.results) {
    const ok = n.results.filter((r) => r.outcome === 'trashed' || r.outcome === 'record-deleted' || r.outcome === 'record-only').length;
    const lines = n.results.map((r) => t.sprintf(t.__('Snapshot %1$d: %2$s'), r.id, bulkOutcome(t, r.outcome) + (r.message && !['trashed', 'record-deleted'].includes(r.outcome) ? ` ${r.message}` : '')));
    return { type: ok === n.results.length ? 'success' : 'warning', text: t.sprintf(t._n('%1$d of %2$d snapshot done.', '%1$d of %2$d snapshots done.', n.results.length), ok, n.results.length), lines };
  }
  const row = table[n.code];
  if (!row) return null;
  // The service's own sentence (an error, what TRASH did) says more than the generic one: it
  // replaces it, translated where its pattern is known.
  const text = d === '' || !row[2] ? row[1] : row[2] === 'append' ? `${row[1]} ${d}` : apiMessage(t, d);
  return { type: row[0], text, lines: [] };
}

export function bulkOutcome(t: Translator, outcome: string): string {
  switch (outcome) {
    case 'trashed': return t.__('deleted at the provider and removed from the list.');
    case 'record-only': return t.__('removed from the list; the copy at the provider stays.');
    case 'record-deleted': return t.__('record deleted; nothing was deleted at the provider.');
    case 'pending': return t.__('deletion is under way at the provider.');
    case 'delete-failed': return t.__('the provider could not delete it.');
    default: return t.__('not changed.');
  }
}

/** What TRASH / DELETE RECORD answered (an English sentence from the API), in the user's language. */
export function apiMessage(t: Translator, msg: string): string {
  const rules: Rule[] = [
    [/^Deleted at (.+) and removed from the list\.$/s, (m) => t.sprintf(t.__('Deleted at %s and removed from the list.'), m[1])],
    [/^(.+) could not delete it: (.*) Use Delete Record to remove only our record\.$/s, (m) => t.sprintf(t.__('%1$s could not delete it: %2$s Use Delete Record to remove only our record.'), m[1], lastError(t, m[2]!))],
    [/^Still trying: (.*)$/s, (m) => t.sprintf(t.__('Still trying: %s'), lastError(t, m[1]!))],
    [/^Deletion is under way at the provider\.$/, () => t.__('Deletion is under way at the provider; the snapshot leaves the list when it is done.')],
    [/^Removed from the list: (.+) cannot delete a single snapshot through its API; the provider copy stays\.$/s, (m) => t.sprintf(t.__('Removed from the list: %s cannot delete a single snapshot through its API; the provider copy stays.'), m[1])],
    [/^Removed from the list: there is nothing at the provider to delete\.$/, () => t.__('Removed from the list: there is nothing at the provider to delete.')],
    [/^Removed from the list: the provider already replaced it\.$/, () => t.__('Removed from the list: the provider already replaced it.')],
    [/^Removed from the list: provider "(.*)" is not configured\.$/s, (m) => t.sprintf(t.__('Removed from the list: provider "%s" is not configured.'), m[1])],
    [/^Record removed\. The copy at the provider \((.+)\) was left as it is\.$/s, (m) => t.sprintf(t.__('Record removed. The copy at the provider (%s) was left as it is.'), m[1])],
    [/^Record removed\.$/, () => t.__('Record removed.')],
  ];
  return byRules(rules, msg) ?? msg;
}
