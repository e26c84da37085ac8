/**
 * How our snapshots are marked where the provider keeps labels, tags or metadata, so that a
 * snapshot can be found again after a crash between "create" and storing its id.
 */
import type { SnapshotMarker } from './types.js';

/** Label keys we put on snapshots where the provider keeps labels/tags/metadata. */
export const MARKER_LABEL_ID = 'ss-snapshot-id';
export const MARKER_LABEL_MANAGED_BY = 'managed-by';
export const MARKER_MANAGED_BY_VALUE = 'scheduled-snapshots';

/**
 * Labels that mark a snapshot as ours. Values stay within what Hetzner/GCP-style labels
 * accept (≤ 63 characters of `[a-z0-9_.-]`, starting and ending alphanumeric).
 */
export function markerLabels(marker: SnapshotMarker): Record<string, string> {
  return {
    [MARKER_LABEL_ID]: String(marker.snapshotId),
    [MARKER_LABEL_MANAGED_BY]: MARKER_MANAGED_BY_VALUE,
  };
}

/** `k=v,k=v` selector matching `markerLabels(marker)` (Hetzner `label_selector`). */
export function markerLabelSelector(marker: SnapshotMarker): string {
  return Object.entries(markerLabels(marker))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Our snapshot id from a marker name (`ss-42-web1-…` → 42), or null when the name is not ours. */
export function markerIdOfName(name: string | null | undefined): number | null {
  const m = /^ss-(\d{1,15})-/.exec(name ?? '');
  return m ? Number(m[1]) : null;
}

/** Our snapshot id from labels/tags, where the id label is there and managed-by says it is ours. */
export function markerIdOfLabels(labels: Readonly<Record<string, string>> | null | undefined): number | null {
  if (!labels || labels[MARKER_LABEL_MANAGED_BY] !== MARKER_MANAGED_BY_VALUE) return null;
  const v = labels[MARKER_LABEL_ID];
  return v && /^\d{1,15}$/.test(v) ? Number(v) : null;
}
