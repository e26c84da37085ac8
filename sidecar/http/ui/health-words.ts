import type { HealthWhy } from '../../health/state.js';
import type { TimelineItem, TimelineKind } from '../../health/timeline-svg.js';
import type { Translator } from './i18n.js';
import { lastError, retentionDetail, serverProblem } from './words.js';

/** "2 hours", "1 day", "90 minutes": a health threshold in words. */
function thresholdWords(t: Translator, m: number): string {
  if (m % 1440 === 0) return t.sprintf(t._n('%d day', '%d days', m / 1440), m / 1440);
  if (m % 60 === 0) return t.sprintf(t._n('%d hour', '%d hours', m / 60), m / 60);
  return t.sprintf(t._n('%d minute', '%d minutes', m), m);
}

/** Why a server is not ok, in the user's language (the sentence `reason` says in English). */
export function healthReason(t: Translator, why: HealthWhy | null, when: (d: Date) => string): string {
  if (!why) return '';
  const good = why.lastGoodAt ? t.sprintf(t.__('The newest good snapshot is from %s'), when(why.lastGoodAt)) : t.__('There is no good snapshot yet');
  const head = why.state === 'failing'
    ? t.sprintf(t._n('The last %d attempt failed.', 'The last %d attempts failed.', why.failuresInRow), why.failuresInRow)
    : why.state === 'critical'
      ? t.sprintf(t.__('%1$s, older than %2$s (critical).'), good, thresholdWords(t, why.minutes))
      : t.sprintf(t.__('%1$s, older than %2$s.'), good, thresholdWords(t, why.minutes));
  const c = why.cause;
  const cause = c === null ? ''
    : c.kind === 'missed' ? t.sprintf(t._n('No snapshot was taken for the last %d scheduled time; check that a sidecar is running.', 'No snapshot was taken for the last %d scheduled times; check that a sidecar is running.', c.count), c.count)
      : c.kind === 'problem' ? serverProblem(t, c.text) : lastError(t, c.text);
  return cause ? `${head} ${cause}` : head;
}

/** Health and timeline words for the screens, in the user's language. */
export function healthStateLabels(t: Translator): Record<string, string> {
  return { ok: t.__('OK'), warning: t.__('Warning'), failing: t.__('Failing'), critical: t.__('Critical') };
}

export function timelineKindLabels(t: Translator): Record<TimelineKind, string> {
  return {
    kept: t.__('kept'), protected: t.__('protected'), 'not-before': t.__('protected until a date'), manual: t.__('manual'),
    'backup-tab': t.__('backup tab'), pruned: t.__('pruned by retention'), removed: t.__('removed by hand'), failed: t.__('failed'), pending: t.__('in progress'),
  };
}

/** One mark's sentence, for its tooltip and the text equivalent: when, what, and why. */
export function timelineItemText(t: Translator, item: TimelineItem, when: (d: Date) => string): string {
  const what: Record<TimelineKind, string> = {
    kept: t.__('kept by retention'), protected: t.__('protected, never deleted automatically'),
    'not-before': item.until ? t.sprintf(t.__('protected until %s'), when(item.until)) : t.__('protected'),
    manual: t.__('manual snapshot, never deleted automatically'), 'backup-tab': t.__("taken in the host's backup tab, never deleted automatically"),
    pruned: item.reason ? t.sprintf(t.__('pruned by retention (%s)'), retentionDetail(t, item.reason)) : t.__('pruned by retention'),
    removed: item.note === 'record_deleted' ? t.__('record deleted by hand') : t.__('trashed by hand'),
    failed: item.reason ? t.sprintf(t.__('failed: %s'), lastError(t, item.reason)) : t.__('failed'),
    pending: t.__('being created'),
  };
  const id = item.snapshotId === null ? '' : t.sprintf(t.__('Snapshot %d'), item.snapshotId);
  const schedule = item.scheduleName ? t.sprintf(t.__(' (schedule “%s”)'), item.scheduleName) : '';
  const note = item.note === 'superseded' ? t.__(' — replaced at the provider, kept as history') : item.note === 'delete_failed' ? t.__(' — deleting it failed') : '';
  return t.sprintf(t.__('%1$s: %2$s%3$s: %4$s%5$s'), when(item.at), id, schedule, what[item.kind], note);
}

/** "12 snapshots in the last 30 days: 9 kept, 3 failed." */
export function timelineSummary(t: Translator, days: number, counts: [TimelineKind, number][]): string {
  const total = counts.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return t.sprintf(t.__('No snapshots in the last %d days.'), days);
  const kinds = timelineKindLabels(t);
  return t.sprintf(t._n('%1$d snapshot in the last %2$d days: %3$s.', '%1$d snapshots in the last %2$d days: %3$s.', total), total, days,
    counts.map(([k, c]) => `${c} ${kinds[k]}`).join(', '));
}
