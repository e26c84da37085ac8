/**
 * A server's timeline items: its snapshot records as they stand, plus those already removed,
 * which only the audit log remembers (with retention's reason, i.e. which rule let them go).
 */
import type { DB } from '../db.js';
import { timelineFacts } from '../store/health.js';
import type { TimelineItem, TimelineKind } from './timeline-svg.js';

export async function timelineItems(db: DB, serverId: number, now: Date, days: number): Promise<TimelineItem[]> {
  const from = new Date(now.getTime() - days * 86_400_000);
  const { snapshots, events, scheduleNames } = await timelineFacts(db, serverId, from);
  const present = new Set(snapshots.map((s) => Number(s.id)));
  const pruneReason = new Map<number, string>();
  const requestedAt = new Map<number, Date>();
  const removedBy = new Map<number, { action: string; at: Date; detail: string | null }>();
  for (const e of events) {
    if (e.snapshot_id === null) continue;
    const sid = Number(e.snapshot_id);
    if (e.action === 'requested') requestedAt.set(sid, e.at);
    else if (e.action === 'retention_delete') pruneReason.set(sid, e.detail ?? 'retention');
    else removedBy.set(sid, { action: e.action, at: e.at, detail: e.detail });
  }

  const items: TimelineItem[] = [];
  for (const s of snapshots) {
    const id = Number(s.id);
    const at = s.slot_at ?? s.created_at;
    const schedule = s.schedule_id !== null ? ` (schedule "${scheduleNames.get(Number(s.schedule_id)) ?? 'deleted'}")` : '';
    let kind: TimelineKind;
    let why = '';
    if (s.status === 'failed') { kind = 'failed'; why = s.last_error ? `: ${s.last_error}` : ''; }
    else if (s.status === 'requested' || s.status === 'creating') kind = 'pending';
    else if (s.status === 'deleting') {
      const r = pruneReason.get(id);
      kind = r ? 'pruned' : 'removed';
      why = r ? `, being deleted: ${r}` : ', being deleted by hand';
    } else if (s.keep_forever === 1) kind = 'protected';
    else if (s.delete_not_before && s.delete_not_before.getTime() > now.getTime()) { kind = 'not-before'; why = ` until ${s.delete_not_before.toISOString().slice(0, 10)}`; }
    else if (s.origin === 'manual') kind = 'manual';
    else if (s.origin === 'panel') kind = 'backup-tab';
    // Found at the provider by reconciliation: never deleted automatically, like a protected one.
    else if (s.origin === 'found') kind = 'protected';
    else kind = 'kept';
    const status = s.status === 'superseded' ? ' (replaced at the provider, kept as history)' : s.status === 'delete_failed' ? ' (deleting it failed)' : '';
    items.push({
      snapshotId: id, at, kind, label: `Snapshot ${id}${schedule}: ${kindSentence(kind)}${why}${status}.`,
      scheduleName: s.schedule_id !== null ? (scheduleNames.get(Number(s.schedule_id)) ?? null) : null,
      reason: kind === 'failed' ? s.last_error : kind === 'pruned' ? (pruneReason.get(id) ?? null) : null,
      until: kind === 'not-before' ? s.delete_not_before : null,
      note: s.status === 'superseded' || s.status === 'delete_failed' ? s.status : null,
    });
  }
  for (const [sid, reason] of pruneReason) {
    if (present.has(sid)) continue;
    items.push({ snapshotId: sid, at: requestedAt.get(sid) ?? removedBy.get(sid)?.at ?? from, kind: 'pruned', label: `Snapshot ${sid}: pruned by retention: ${reason}.`, reason });
  }
  for (const [sid, r] of removedBy) {
    if (present.has(sid) || pruneReason.has(sid) || r.action === 'deleted') continue;
    const how = r.action === 'record_deleted' ? 'record deleted by hand' : 'trashed by hand';
    items.push({ snapshotId: sid, at: requestedAt.get(sid) ?? r.at, kind: 'removed', label: `Snapshot ${sid}: ${how}.`, note: r.action === 'record_deleted' ? 'record_deleted' : 'trashed' });
  }
  return items.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.snapshotId ?? 0) - (b.snapshotId ?? 0));
}

function kindSentence(kind: TimelineKind): string {
  switch (kind) {
    case 'kept': return 'kept by retention';
    case 'protected': return 'protected, never deleted automatically';
    case 'not-before': return 'protected';
    case 'manual': return 'manual snapshot, never deleted automatically';
    case 'backup-tab': return "taken in the host's backup tab, never deleted automatically";
    case 'pruned': return 'pruned by retention';
    case 'removed': return 'removed by hand';
    case 'failed': return 'failed';
    case 'pending': return 'being created';
  }
}
