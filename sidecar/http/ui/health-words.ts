import type { TimelineItem, TimelineKind } from '../../health/timeline-svg.js';
import type { Translator } from './i18n.js';
import { lastError, retentionReason } from './words.js';

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
    pruned: item.reason ? t.sprintf(t.__('pruned by retention (%s)'), retentionReason(t, item.reason)) : t.__('pruned by retention'),
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
