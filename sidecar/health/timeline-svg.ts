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
  /** The facts behind the label, for screens that word it in the user's language. */
  scheduleName?: string | null;
  /** The provider's error (failed) or retention's reason (pruned). */
  reason?: string | null;
  /** Protected until (not-before). */
  until?: Date | null;
  /** superseded / delete_failed, or how it was removed by hand (trashed / record_deleted). */
  note?: string | null;
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

/** One mark as an element name and its attributes, so a template can print it escaped. */
export interface MarkShape { tag: 'circle' | 'rect' | 'path'; attrs: Record<string, string> }

export function markShape(kind: TimelineKind, x: number, y: number): MarkShape {
  const { fill, shape } = STYLE[kind];
  const r = 5;
  const f = (n: number) => n.toFixed(1);
  switch (shape) {
    case 'circle': return { tag: 'circle', attrs: { cx: f(x), cy: f(y), r: String(r), fill } };
    case 'square': return { tag: 'rect', attrs: { x: f(x - r), y: f(y - r), width: String(2 * r), height: String(2 * r), fill } };
    case 'diamond': return { tag: 'path', attrs: { d: `M${f(x)} ${f(y - r - 1)}L${f(x + r + 1)} ${f(y)}L${f(x)} ${f(y + r + 1)}L${f(x - r - 1)} ${f(y)}Z`, fill } };
    case 'triangle': return { tag: 'path', attrs: { d: `M${f(x)} ${f(y - r - 1)}L${f(x + r + 1)} ${f(y + r)}L${f(x - r - 1)} ${f(y + r)}Z`, fill } };
    case 'ring': return { tag: 'circle', attrs: { cx: f(x), cy: f(y), r: String(r - 1), fill: 'none', stroke: fill, 'stroke-width': '2' } };
    case 'cross': return { tag: 'path', attrs: { d: `M${f(x - r)} ${f(y - r)}L${f(x + r)} ${f(y + r)}M${f(x + r)} ${f(y - r)}L${f(x - r)} ${f(y + r)}`, stroke: fill, 'stroke-width': '2.5' } };
  }
}

function mark(m: MarkShape): string {
  return `<${m.tag} ${Object.entries(m.attrs).map(([k, v]) => `${k}="${v}"`).join(' ')}/>`;
}

export function countByKind(items: TimelineItem[]): Partial<Record<TimelineKind, number>> {
  const out: Partial<Record<TimelineKind, number>> = {};
  for (const i of items) out[i.kind] = (out[i.kind] ?? 0) + 1;
  return out;
}

export interface TimelineLayout {
  width: number; height: number; top: number; axisY: number; start: Date; inRange: TimelineItem[];
  /** Text size in the picture's own units (larger in the narrow picture, which is drawn smaller). */
  fontSize: number;
  lanes: { y: number; x1: number; x2: number; name: string }[];
  ticks: { x: number; at: Date; labelled: boolean; labelY: number; anchor: 'start' | 'middle' | 'end' }[];
  marks: { item: TimelineItem; shape: MarkShape }[];
  legend: { kind: TimelineKind; shape: MarkShape; x: number; y: number; label: string }[];
}

/**
 * Where everything goes — shared by the JSON API's SVG string (timelineSvg) and the wp-admin
 * partial (views/partials/timeline.ejs), which prints the same geometry with escaped values.
 * Lane names and legend words come in the caller's language.
 */
export function timelineLayout(input: TimelineInput, words: { lanes?: string[]; kinds?: Partial<Record<TimelineKind, string>> } = {}, opts: { width?: number } = {}): TimelineLayout {
  // The narrow picture (a metabox in the side column, ~250 px on screen) keeps its words
  // readable: larger text in its own units, and dates only at its two ends.
  const W = opts.width ?? 720;
  const compact = W < 500;
  const fontSize = compact ? 13 : 11;
  const left = compact ? 64 : 80;
  const right = 12;
  const top = 14;
  const laneH = 26;
  const axisY = top + laneH * 3 + 4;
  const legendY = axisY + 30;
  const start = input.now.getTime() - input.days * 86_400_000;
  const span = input.now.getTime() - start;
  const xOf = (d: Date) => left + ((Math.min(Math.max(d.getTime(), start), input.now.getTime()) - start) / span) * (W - left - right);
  const inRange = input.items.filter((i) => i.at.getTime() >= start && i.at.getTime() <= input.now.getTime());
  const laneNames = words.lanes ?? LANE_NAMES;
  const lanes = [0, 1, 2].map((lane) => ({ y: top + lane * laneH + laneH / 2, x1: left, x2: W - right, name: laneNames[lane] ?? '' }));
  // Day ticks: every day for 30 days, every week beyond.
  const step = input.days <= 31 ? 1 : 7;
  const ticks: TimelineLayout['ticks'] = [];
  for (let d = 0; d <= input.days; d += step) {
    const at = new Date(input.now.getTime() - d * 86_400_000);
    const last = d + step > input.days;
    ticks.push({
      x: Number(xOf(at).toFixed(1)), at, labelY: axisY + 14,
      labelled: compact ? d === 0 || last : d % (step === 1 ? 7 : 14) === 0,
      anchor: compact ? (d === 0 ? 'end' : 'start') : 'middle',
    });
  }
  const marks = inRange.map((item) => ({ item, shape: markShape(item.kind, xOf(item.at), top + LANE[item.kind] * laneH + laneH / 2) }));
  const legend: TimelineLayout['legend'] = [];
  let lx = left;
  // The legend wraps onto a second row when the words are long (German).
  let ly = legendY;
  for (const kind of Object.keys(STYLE) as TimelineKind[]) {
    const label = words.kinds?.[kind] ?? kind;
    const w = 14 + label.length * fontSize * 0.56 + 12;
    if (lx + w > W && lx > left) { lx = left; ly += 16; }
    legend.push({ kind, shape: markShape(kind, lx + 5, ly - 4), x: lx + 14, y: ly, label });
    lx += w;
  }
  return { width: W, height: ly + 18, top, axisY, start: new Date(start), inRange, fontSize, lanes, ticks, marks, legend };
}

export function timelineSvg(input: TimelineInput): string {
  const L = timelineLayout(input);
  const id = (input.idPrefix ?? 'ss-timeline').replace(/[^A-Za-z0-9_-]/g, '');
  const counts = countByKind(L.inRange);
  const n = L.inRange.length;
  const summary = n === 0
    ? `No snapshots in the last ${input.days} days.`
    : `${n} snapshot${n === 1 ? '' : 's'} in the last ${input.days} days: ${Object.entries(counts).map(([k, c]) => `${c} ${KIND_WORDS[k as TimelineKind]}`).join(', ')}.`;
  const title = `Snapshots of ${input.serverName}, last ${input.days} days`;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="ss-timeline" viewBox="0 0 ${L.width} ${L.height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif" font-size="11">`);
  parts.push(`<title id="${id}-title">${escapeXml(title)}</title>`);
  parts.push(`<desc id="${id}-desc">${escapeXml(summary)}</desc>`);
  for (const lane of L.lanes) {
    parts.push(`<text x="4" y="${lane.y + 4}" fill="#1d2327">${escapeXml(lane.name)}</text>`);
    parts.push(`<line x1="${lane.x1}" y1="${lane.y}" x2="${lane.x2}" y2="${lane.y}" stroke="#dcdcde"/>`);
  }
  for (const tick of L.ticks) {
    parts.push(`<line x1="${tick.x.toFixed(1)}" y1="${L.top}" x2="${tick.x.toFixed(1)}" y2="${L.axisY}" stroke="#f0f0f1"/>`);
    if (tick.labelled) parts.push(`<text x="${tick.x.toFixed(1)}" y="${tick.labelY}" text-anchor="middle" fill="#50575e">${escapeXml(tick.at.toISOString().slice(0, 10))}</text>`);
  }
  for (const m of L.marks) {
    parts.push(`<g>${mark(m.shape)}<title>${escapeXml(`${m.item.at.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${m.item.label}`)}</title></g>`);
  }
  for (const l of L.legend) parts.push(`<g aria-hidden="true">${mark(l.shape)}<text x="${l.x}" y="${l.y}" fill="#1d2327">${escapeXml(l.label)}</text></g>`);
  parts.push('</svg>');
  return parts.join('');
}
