/**
 * Verifies X-SS-* signed requests (docs/api.md, "Signed requests"). Runs before any JSON parsing, so an
 * unsigned caller learns nothing about what the API would accept. Seen nonces go into a table
 * every sidecar shares, so a request replayed to another sidecar is refused too.
 */
import type { NextFunction, Request, Response } from 'express';
import type { DB } from '../db.js';
import { ApiError } from '../errors.js';
import { MAX_SKEW_SECONDS, sign, signaturesMatch } from '../signing.js';
import { rememberNonce } from '../store/nonces.js';

export function requireSignature(db: DB, secret: string) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const ts = req.get('x-ss-timestamp') ?? '';
    const nonce = req.get('x-ss-nonce') ?? '';
    const actor = req.get('x-ss-actor') ?? '';
    const given = req.get('x-ss-signature') ?? '';
    const unauthorized = (why: string) => new ApiError(401, 'unauthorized', why);
    if (!ts || !nonce || !actor || !given) {
      return next(unauthorized('This request is not signed: send X-SS-Timestamp, X-SS-Nonce, X-SS-Actor and X-SS-Signature.'));
    }
    if (!/^\d{1,12}$/.test(ts)) return next(unauthorized('X-SS-Timestamp must be unix seconds.'));
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) return next(unauthorized('X-SS-Nonce must be 16 to 128 letters, digits, "_" or "-".'));
    if (!/^(system|\d{1,20})$/.test(actor)) return next(unauthorized('X-SS-Actor must be a WordPress user id or "system".'));
    const skew = Math.abs(Math.floor(Date.now() / 1000) - Number(ts));
    if (skew > MAX_SKEW_SECONDS) {
      return next(unauthorized(`The request timestamp is ${skew} seconds away from this server's clock (limit ${MAX_SKEW_SECONDS}); check both clocks.`));
    }
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const expected = sign(secret, { method: req.method, pathWithQuery: req.originalUrl, timestamp: ts, nonce, actor, body });
    if (!signaturesMatch(expected, given)) {
      return next(unauthorized('The request signature does not match: the shared secret (SS_SHARED_SECRET) differs between WordPress and the sidecar.'));
    }
    try {
      if (!(await rememberNonce(db, nonce, new Date(Date.now() + 2 * MAX_SKEW_SECONDS * 1000)))) {
        return next(unauthorized('This request was already received once (replayed nonce).'));
      }
    } catch (e) {
      return next(e);
    }
    res_locals(req).actor = actor;
    next();
  };
}

function res_locals(req: Request): { actor?: string } {
  return (req as unknown as { ssAuth: { actor?: string } }).ssAuth ??= {};
}

export function actorOf(req: Request): string {
  return res_locals(req).actor ?? 'system';
}
