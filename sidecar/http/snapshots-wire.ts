/** The JSON API's snapshot shapes: the answer, the list query with its cursor, the PATCH and panel bodies. */
import { z } from 'zod';
import { ApiError } from '../errors.js';
import type { SnapshotOrigin, SnapshotStatus } from '../schema.js';
import { protectionWords, SNAPSHOT_ORIGINS, SNAPSHOT_STATUSES, type SnapshotRow } from '../snapshots.js';
import type { DetailsChange, SnapshotFilter } from '../store/snapshots.js';
import { parseOr400 } from '../validation.js';

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

// ---- the list: keyset pages, newest first ----

const idFilter = z.string().regex(/^[1-9]\d{0,14}$/).transform(Number);
export const listQuerySchema = z.object({
  serverId: idFilter.optional(),
  scheduleId: idFilter.optional(),
  status: z.enum(SNAPSHOT_STATUSES as [SnapshotStatus, ...SnapshotStatus[]]).optional(),
  origin: z.enum(SNAPSHOT_ORIGINS as [SnapshotOrigin, ...SnapshotOrigin[]]).optional(),
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(1).max(200)).optional(),
  cursor: z.string().max(40).optional(),
  /** Only servers whose health is not ok ("Needs attention"). */
  needsAttention: z.enum(['1', 'true', '0', 'false']).optional(),
  /** Part of the server's or the snapshot's name (the list's search box). */
  search: z.string().trim().max(100).optional(),
}).strict();

export function encodeCursor(id: number): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^id:([1-9]\d{0,14})$/.exec(text);
  if (!m) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this list gave out; start again from the first page.', { fields: { cursor: 'is not a valid cursor' } });
  return Number(m[1]);
}

export function parseListQuery(raw: unknown): { filter: SnapshotFilter; limit: number; needsAttention: boolean } {
  const q = parseOr400(listQuerySchema, raw);
  return {
    needsAttention: q.needsAttention === '1' || q.needsAttention === 'true',
    filter: { serverId: q.serverId, scheduleId: q.scheduleId, status: q.status, origin: q.origin, search: q.search || undefined, beforeId: q.cursor === undefined ? undefined : decodeCursor(q.cursor) },
    limit: q.limit ?? 50,
  };
}

export const patchSchema = z.object({
  keepForever: z.boolean().optional(),
  deleteNotBefore: z.union([z.iso.date(), z.iso.datetime({ offset: true }), z.null()]).optional(),
  note: z.string().max(2000).nullable().optional(),
}).strict();

export function parsePatch(body: unknown): DetailsChange {
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

export const panelSnapshotSchema = z.object({
  serverId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  providerSnapshotId: z.union([z.string().trim().min(1).max(190), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).transform(String)]),
  /** WPCD's `snapshot-id-type`: `intermediate` (an id to resolve, DigitalOcean's action id) or `final`. */
  idType: z.enum(['intermediate', 'final']).optional(),
  action: z.string().max(100).optional(),
  note: z.string().max(2000).optional(),
}).strict();
