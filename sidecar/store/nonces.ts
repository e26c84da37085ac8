/**
 * The one owner of `ss_nonces`: seen request nonces, shared by every sidecar so a request
 * replayed to another sidecar is refused too.
 */
import type { DB } from '../db.js';

/** Remember a nonce until `expiresAt`. False when it was seen before (a replay). */
export async function rememberNonce(db: DB, nonce: string, expiresAt: Date): Promise<boolean> {
  try {
    await db.insertInto('ss_nonces').values({ nonce, expires_at: expiresAt }).execute();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'ER_DUP_ENTRY') return false;
    throw e;
  }
}

/** Forget nonces that can no longer be replayed (their timestamp window closed before `now`). */
export async function purgeExpiredNonces(db: DB, now: Date): Promise<number> {
  const r = await db.deleteFrom('ss_nonces').where('expires_at', '<', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
