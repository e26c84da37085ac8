/**
 * The three numbers every scenario reports, computed from what the database and the
 * providers actually hold at the end:
 *
 *   lost        a snapshot that should exist does not: an expected slot or manual request
 *               with no record, a record that did not end `available`, an `available`
 *               record whose provider copy is missing, or a trash that never finished
 *               (the record is still there).
 *   duplicated  more than one provider snapshot (or record) for the same (server, schedule,
 *               slot), or more than one provider snapshot with the same marker name.
 *   orphaned    a snapshot at the provider carrying our marker that no record in our list
 *               points to (we would pay for it for ever and never see it).
 */
import { sql } from 'kysely';
import type { DB } from '../../../sidecar/db.js';
import type { FakeHetzner } from '../../fakes/hetzner.js';

export interface ProviderCopy {
  /** Provider slug in the providers file. */
  provider: string;
  providerSnapshotId: string;
  /** The name / description the copy carries (our marker `ss-<rowId>-…` when it is ours). */
  name: string;
  ours: boolean;
}

export function hetznerCopies(slug: string, fake: FakeHetzner): ProviderCopy[] {
  return fake.images().filter((i) => i.type === 'snapshot').map((i) => ({
    provider: slug, providerSnapshotId: String(i.id), name: i.description,
    ours: i.labels['managed-by'] === 'scheduled-snapshots' || /^ss-\d+-/.test(i.description),
  }));
}

export async function sandboxCopies(db: DB): Promise<ProviderCopy[]> {
  const rows = await db.selectFrom('ss_sandbox_snapshots').select(['id', 'provider', 'name']).execute();
  return rows.map((r) => ({ provider: r.provider, providerSnapshotId: `sbx-${Number(r.id)}`, name: r.name, ours: /^ss-\d+-/.test(r.name) }));
}

export interface Expectations {
  /** Scheduled slots that must end as one available snapshot each. */
  slots?: Array<{ serverId: number; scheduleId: number; slotAt: Date }>;
  /** Record ids (manual snapshots accepted by the API, …) that must end available. */
  records?: number[];
  /** Record ids that were trashed: record and provider copy must both be gone. */
  trashed?: number[];
}

export interface Ledger {
  lost: number;
  duplicated: number;
  orphaned: number;
  /** Records still owed work (next_attempt_at set) — the scenario did not settle. */
  unsettled: number;
  details: string[];
}

const markerId = (name: string): number | null => {
  const m = /^ss-(\d+)-/.exec(name);
  return m ? Number(m[1]) : null;
};

export async function account(db: DB, copies: ProviderCopy[], expect: Expectations, scope: { providers?: string[] } = {}): Promise<Ledger> {
  const inScope = (p: string | null) => !scope.providers || (p !== null && scope.providers.includes(p));
  const rows = (await db.selectFrom('ss_snapshots')
    .select(['id', 'server_id', 'schedule_id', 'slot_at', 'status', 'provider', 'provider_snapshot_id', 'name', 'next_attempt_at', 'origin'])
    .execute()).filter((r) => inScope(r.provider));
  const ourCopies = copies.filter((c) => c.ours && inScope(c.provider));
  const details: string[] = [];
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const copyAt = new Set(copies.map((c) => `${c.provider}|${c.providerSnapshotId}`));
  const slotKey = (server: unknown, schedule: unknown, slot: Date) => `slot:${Number(server)}:${Number(schedule)}:${slot.getTime()}`;

  // lost
  let lost = 0;
  const wanted = new Set<number>();
  for (const s of expect.slots ?? []) {
    const row = rows.find((r) => Number(r.server_id) === s.serverId && Number(r.schedule_id) === s.scheduleId && r.slot_at?.getTime() === s.slotAt.getTime());
    if (!row) { lost++; details.push(`lost: no record for server ${s.serverId} slot ${s.slotAt.toISOString()}`); continue; }
    wanted.add(Number(row.id));
  }
  for (const id of expect.records ?? []) {
    if (!byId.has(id)) { lost++; details.push(`lost: record ${id} is gone`); continue; }
    wanted.add(id);
  }
  for (const id of wanted) {
    const r = byId.get(id)!;
    if (r.status !== 'available') { lost++; details.push(`lost: record ${id} ended ${r.status}`); continue; }
    if (!r.provider_snapshot_id || !copyAt.has(`${r.provider}|${r.provider_snapshot_id}`)) {
      lost++; details.push(`lost: record ${id} points to ${r.provider}/${r.provider_snapshot_id ?? '(none)'}, which the provider does not have`);
    }
  }
  for (const id of expect.trashed ?? []) {
    const r = byId.get(id);
    if (r) { lost++; details.push(`trash of ${id} did not finish: record is ${r.status}`); }
  }
  for (const r of rows) {
    if (wanted.has(Number(r.id)) || r.status !== 'available') continue;
    if (!r.provider_snapshot_id || !copyAt.has(`${r.provider}|${r.provider_snapshot_id}`)) {
      lost++; details.push(`lost: available record ${Number(r.id)} points to a provider copy that is missing`);
    }
  }

  // duplicated: per slot, the larger of records and provider copies; per marker, copies.
  const perKey = new Map<string, { rows: number; copies: number }>();
  const bump = (key: string, what: 'rows' | 'copies') => {
    const e = perKey.get(key) ?? { rows: 0, copies: 0 };
    e[what]++;
    perKey.set(key, e);
  };
  for (const r of rows) if (r.slot_at) bump(slotKey(r.server_id, r.schedule_id, r.slot_at), 'rows');
  const perMarker = new Map<string, number>();
  for (const c of ourCopies) {
    perMarker.set(`${c.provider}|${c.name}`, (perMarker.get(`${c.provider}|${c.name}`) ?? 0) + 1);
    const id = markerId(c.name);
    const row = id === null ? undefined : byId.get(id);
    if (row?.slot_at) bump(slotKey(row.server_id, row.schedule_id, row.slot_at), 'copies');
  }
  let duplicated = 0;
  for (const [k, e] of perKey) {
    const n = Math.max(e.rows, e.copies);
    if (n > 1) { duplicated += n - 1; details.push(`duplicated: ${k} has ${e.rows} record(s) and ${e.copies} provider snapshot(s)`); }
  }
  for (const [k, n] of perMarker) {
    if (n <= 1) continue;
    details.push(`duplicated: marker ${k} is on ${n} provider snapshots`);
    // Copies of a scheduled record were counted with its slot above; count the rest here
    // (manual and panel records, records since deleted).
    const row = byId.get(markerId(k.slice(k.indexOf('|') + 1)) ?? -1);
    if (!row?.slot_at) duplicated += n - 1;
  }

  // orphaned
  const known = new Set(rows.filter((r) => r.provider_snapshot_id).map((r) => `${r.provider}|${r.provider_snapshot_id}`));
  let orphaned = 0;
  for (const c of ourCopies) {
    if (!known.has(`${c.provider}|${c.providerSnapshotId}`)) { orphaned++; details.push(`orphaned: ${c.provider} ${c.providerSnapshotId} (${c.name})`); }
  }

  const unsettled = rows.filter((r) => r.next_attempt_at !== null).length;
  if (unsettled > 0) details.push(`${unsettled} record(s) still owed work`);
  return { lost, duplicated, orphaned, unsettled, details };
}

/** Wait until no record in scope is owed work, or the deadline passes. */
export async function settled(db: DB, timeoutMs: number, scope: { providers?: string[] } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let q = db.selectFrom('ss_snapshots').select((eb) => eb.fn.countAll<number>().as('n')).where('next_attempt_at', 'is not', null);
    if (scope.providers) q = q.where('provider', 'in', scope.providers);
    const due = await db.selectFrom('ss_assignments').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('next_slot_at', '<=', sql<Date>`UTC_TIMESTAMP(3)`).executeTakeFirstOrThrow();
    const r = await q.executeTakeFirstOrThrow();
    if (Number(r.n) === 0 && Number(due.n) === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 250));
  }
}
