import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { DB } from './db.js';
import { ApiError, notFound } from './errors.js';
import type { SnapshotsTable, SnapshotOrigin, SnapshotStatus } from './schema.js';
import { parseOr400 } from './validation.js';

export type SnapshotRow = Selectable<SnapshotsTable>;

export const SNAPSHOT_STATUSES: SnapshotStatus[] = ['requested', 'creating', 'available', 'failed', 'deleting', 'deleted', 'delete_failed', 'superseded'];
export const SNAPSHOT_ORIGINS: SnapshotOrigin[] = ['scheduled', 'manual', 'panel'];

/** Our name at the provider: unique (it holds our id), so a retry can find what a crash left. */
export function markerName(snapshotId: number, serverName: string | null, at: Date): string {
  const safe = (serverName ?? 'server').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'server';
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `ss-${snapshotId}-${safe}-${stamp}`;
}

export function protectionWords(row: Pick<SnapshotRow, 'keep_forever' | 'delete_not_before' | 'origin'>, now: Date): string | null {
  if (row.keep_forever === 1) return 'Never delete automatically';
  if (row.delete_not_before && row.delete_not_before.getTime() > now.getTime()) return `Not before ${row.delete_not_before.toISOString().slice(0, 10)}`;
  if (row.origin !== 'scheduled') return `${row.origin === 'manual' ? 'Manual' : 'Panel'} snapshot: never deleted automatically`;
  return null;
}

export function snapshotToApi(row: SnapshotRow, extra: { scheduleName?: string | null; now: Date; canDelete?: boolean; serverProblem?: string | null }) {
  return {
    id: Number(row.id),
    serverId: Number(row.server_id),
    serverName: row.server_name,
    provider: row.provider,
    providerType: row.provider_type,
    providerSnapshotId: row.provider_snapshot_id,
    name: row.name,
    origin: row.origin,
    scheduleId: row.schedule_id === null ? null : Number(row.schedule_id),
    scheduleName: extra.scheduleName ?? null,
    slotAt: row.slot_at ? row.slot_at.toISOString() : null,
    status: row.status,
    keepForever: row.keep_forever === 1,
    deleteNotBefore: row.delete_not_before ? row.delete_not_before.toISOString() : null,
    note: row.note,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    createdAt: row.created_at.toISOString(),
    availableAt: row.available_at ? row.available_at.toISOString() : null,
    updatedAt: row.updated_at.toISOString(),
    lastError: row.last_error,
    attempts: Number(row.attempts),
    requestedBy: row.requested_by,
    protection: protectionWords(row, extra.now),
    canDelete: extra.canDelete ?? true,
    serverProblem: extra.serverProblem ?? null,
  };
}

export async function getSnapshot(db: DB, id: number): Promise<SnapshotRow> {
  const row = await db.selectFrom('ss_snapshots').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`Snapshot ${id}`);
  return row;
}

// ---- the list: keyset pages, newest first, every filter on an (x, id) index ----

const idFilter = z.string().regex(/^[1-9]\d{0,14}$/).transform(Number);
export const listQuerySchema = z.object({
  serverId: idFilter.optional(),
  scheduleId: idFilter.optional(),
  status: z.enum(SNAPSHOT_STATUSES as [SnapshotStatus, ...SnapshotStatus[]]).optional(),
  origin: z.enum(SNAPSHOT_ORIGINS as [SnapshotOrigin, ...SnapshotOrigin[]]).optional(),
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(1).max(200)).optional(),
  cursor: z.string().max(40).optional(),
  /** Part of the server's or the snapshot's name (the list's search box). */
  search: z.string().trim().max(100).optional(),
}).strict();

export type ListQuery = z.infer<typeof listQuerySchema>;

export function encodeCursor(id: number): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^id:([1-9]\d{0,14})$/.exec(text);
  if (!m) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this list gave out; start again from the first page.', { fields: { cursor: 'is not a valid cursor' } });
  return Number(m[1]);
}

export async function listSnapshots(db: DB, rawQuery: unknown): Promise<{ rows: SnapshotRow[]; nextCursor: string | null }> {
  const q = parseOr400(listQuerySchema, rawQuery);
  const limit = q.limit ?? 50;
  let query = db.selectFrom('ss_snapshots').selectAll();
  if (q.serverId !== undefined) query = query.where('server_id', '=', q.serverId);
  if (q.scheduleId !== undefined) query = query.where('schedule_id', '=', q.scheduleId);
  if (q.status !== undefined) query = query.where('status', '=', q.status);
  if (q.origin !== undefined) query = query.where('origin', '=', q.origin);
  if (q.search) {
    const like = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('server_name', 'like', like), eb('name', 'like', like)]));
  }
  if (q.cursor !== undefined) query = query.where('id', '<', decodeCursor(q.cursor));
  const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor(Number(last.id)) : null };
}

export const patchSchema = z.object({
  keepForever: z.boolean().optional(),
  deleteNotBefore: z.union([z.iso.date(), z.iso.datetime({ offset: true }), z.null()]).optional(),
  note: z.string().max(2000).nullable().optional(),
}).strict();

export function parsePatch(body: unknown) {
  const p = parseOr400(patchSchema, body);
  let deleteNotBefore: Date | null | undefined;
  if (p.deleteNotBefore === null) deleteNotBefore = null;
  else if (typeof p.deleteNotBefore === 'string') {
    // A bare date means "not before the end of that day" in UTC — the admin protects the whole day.
    deleteNotBefore = /^\d{4}-\d{2}-\d{2}$/.test(p.deleteNotBefore)
      ? new Date(`${p.deleteNotBefore}T23:59:59.999Z`) : new Date(p.deleteNotBefore);
    if (Number.isNaN(deleteNotBefore.getTime()) || deleteNotBefore.getUTCFullYear() > 9999) {
      throw new ApiError(400, 'validation_failed', 'deleteNotBefore: must be a date such as 2027-01-31', { fields: { deleteNotBefore: 'must be a date such as 2027-01-31' } });
    }
  }
  return { keepForever: p.keepForever, deleteNotBefore, note: p.note };
}
