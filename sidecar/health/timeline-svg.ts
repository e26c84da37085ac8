/**
 * A server's snapshot timeline as an SVG picture (issue: "what retention keeps and where the
 * gaps are, at a glance"), drawn on the server so every screen shows the same thing.
 *
 * Three lanes over the last N days: what exists (kept, protected, not-before, manual,
 * backup-tab), what was removed (pruned by retention — and by which rule — or removed by
 * hand), and what went wrong (failed, still pending). Kinds differ by shape as well as by
 * colour, so the picture reads without colour too. Accessible: role="img" with <title> and a
 * <desc> summary, a <title> on every mark, and the same facts as a list of sentences
 * (`items`) for screens to print as the text equivalent. All text is escaped.
 */
export type TimelineKind = 'kept' | 'protected' | 'not-before' | 'manual' | 'backup-tab' | 'pruned' | 'removed' | 'failed' | 'pending';

export interface TimelineItem {
  snapshotId: number | null;
  at: Date;
  kind: TimelineKind;
  /** One sentence: what it is and why ("Pruned by retention: deleted: beyond keepLast 24"). */
  label: string;
}

export interface TimelineInput {
  serverName: string;
  now: Date;
  days: number;
  items: TimelineItem[];
  /** Distinguishes several pictures on one page (ids of <title>/<desc>). */
  idPrefix?: string;
}

const LANE: Record<TimelineKind, 0 | 1 | 2> = {
  kept: 0, protected: 0, 'not-before': 0, manual: 0, 'backup-tab': 0, pruned: 1, removed: 1, failed: 2, pending: 2,
};
const LANE_NAMES = ['Kept', 'Removed', 'Problems'];

export const KIND_WORDS: Record<TimelineKind, string> = {
  kept: 'kept', protected: 'protected (never deleted automatically)', 'not-before': 'protected until a date', manual: 'manual',
  'backup-tab': "taken in the host's backup tab", pruned: 'pruned by retention', removed: 'removed by hand', failed: 'failed', pending: 'in progress',
};

const STYLE: Record<TimelineKind, { fill: string; shape: 'circle' | 'square' | 'diamond' | 'triangle' | 'cross' | 'ring' }> = {
  kept: { fill: '#00a32a', shape: 'circle' },
  protected: { fill: '#2271b1', shape: 'square' },
  'not-before': { fill: '#72aee6', shape: 'diamond' },
  manual: { fill: '#8c5e9f', shape: 'triangle' },
  'backup-tab': { fill: '#996800', shape: 'triangle' },
  pruned: { fill: '#8c8f94', shape: 'ring' },
  removed: { fill: '#50575e', shape: 'cross' },
  failed: { fill: '#d63638', shape: 'cross' },
  pending: { fill: '#dba617', shape: 'ring' },
};

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function mark(kind: TimelineKind, x: number, y: number): string {
  const { fill, shape } = STYLE[kind];
  const r = 5;
  const f = (n: number) => n.toFixed(1);
  switch (shape) {
    case 'circle': return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${fill}"/>`;
    case 'square': return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${2 * r}" height="${2 * r}" fill="${fill}"/>`;
    case 'diamond': return `<path d="M${f(x)} ${f(y - r - 1)}L${f(x + r + 1)} ${f(y)}L${f(x)} ${f(y + r + 1)}L${f(x - r - 1)} ${f(y)}Z" fill="${fill}"/>`;
    case 'triangle': return `<path d="M${f(x)} ${f(y - r - 1)}L${f(x + r + 1)} ${f(y + r)}L${f(x - r - 1)} ${f(y + r)}Z" fill="${fill}"/>`;
    case 'ring': return `<circle cx="${f(x)}" cy="${f(y)}" r="${r - 1}" fill="none" stroke="${fill}" stroke-width="2"/>`;
    case 'cross': return `<path d="M${f(x - r)} ${f(y - r)}L${f(x + r)} ${f(y + r)}M${f(x + r)} ${f(y - r)}L${f(x - r)} ${f(y + r)}" stroke="${fill}" stroke-width="2.5"/>`;
  }
}

export function countByKind(items: TimelineItem[]): Partial<Record<TimelineKind, number>> {
  const out: Partial<Record<TimelineKind, number>> = {};
  for (const i of items) out[i.kind] = (out[i.kind] ?? 0) + 1;
  return out;
}

export function timelineSvg(input: TimelineInput): string {
  const W = 720;
  const left = 80;
  const right = 12;
  const top = 14;
  const laneH = 26;
  const axisY = top + laneH * 3 + 4;
  const legendY = axisY + 30;
  const H = legendY + 18;
  const id = (input.idPrefix ?? 'ss-timeline').replace(/[^A-Za-z0-9_-]/g, '');
  const start = input.now.getTime() - input.days * 86_400_000;
  const span = input.now.getTime() - start;
  const xOf = (d: Date) => left + ((Math.min(Math.max(d.getTime(), start), input.now.getTime()) - start) / span) * (W - left - right);
  const inRange = input.items.filter((i) => i.at.getTime() >= start && i.at.getTime() <= input.now.getTime());

  const counts = countByKind(inRange);
  const summary = inRange.length === 0
    ? `No snapshots in the last ${input.days} days.`
    : `${inRange.length} snapshot${inRange.length === 1 ? '' : 's'} in the last ${input.days} days: ${Object.entries(counts).map(([k, n]) => `${n} ${KIND_WORDS[k as TimelineKind]}`).join(', ')}.`;
  const title = `Snapshots of ${input.serverName}, last ${input.days} days`;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="ss-timeline" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif" font-size="11">`);
  parts.push(`<title id="${id}-title">${escapeXml(title)}</title>`);
  parts.push(`<desc id="${id}-desc">${escapeXml(summary)}</desc>`);
  for (let lane = 0; lane < 3; lane++) {
    const y = top + lane * laneH + laneH / 2;
    parts.push(`<text x="4" y="${y + 4}" fill="#1d2327">${LANE_NAMES[lane]}</text>`);
    parts.push(`<line x1="${left}" y1="${y}" x2="${W - right}" y2="${y}" stroke="#dcdcde"/>`);
  }
  // Day ticks: every day for 30 days, every week beyond; labels as UTC dates.
  const step = input.days <= 31 ? 1 : 7;
  for (let d = 0; d <= input.days; d += step) {
    const t = new Date(input.now.getTime() - d * 86_400_000);
    const x = xOf(t);
    parts.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${axisY}" stroke="#f0f0f1"/>`);
    if (d % (step === 1 ? 7 : 14) === 0) parts.push(`<text x="${x.toFixed(1)}" y="${axisY + 14}" text-anchor="middle" fill="#50575e">${escapeXml(t.toISOString().slice(0, 10))}</text>`);
  }
  for (const item of inRange) {
    const y = top + LANE[item.kind] * laneH + laneH / 2;
    parts.push(`<g>${mark(item.kind, xOf(item.at), y)}<title>${escapeXml(`${item.at.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${item.label}`)}</title></g>`);
  }
  let lx = left;
  for (const kind of Object.keys(STYLE) as TimelineKind[]) {
    parts.push(`<g aria-hidden="true">${mark(kind, lx + 5, legendY - 4)}<text x="${lx + 14}" y="${legendY}" fill="#1d2327">${escapeXml(kind)}</text></g>`);
    lx += 14 + kind.length * 6.2 + 12;
  }
  parts.push('</svg>');
  return parts.join('');
}
