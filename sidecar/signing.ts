/**
 * Signed requests (a contract; docs/api.md "Signed requests", with the test vector):
 * X-SS-Signature = hex HMAC-SHA256(secret, METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nACTOR\nHEX_SHA256(BODY))
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedParts {
  method: string;
  pathWithQuery: string;
  timestamp: string;
  nonce: string;
  actor: string;
  body: Buffer | string;
}

export const MAX_SKEW_SECONDS = 300;

export function canonicalString(p: SignedParts): string {
  const bodyHash = createHash('sha256').update(p.body).digest('hex');
  return [p.method.toUpperCase(), p.pathWithQuery, p.timestamp, p.nonce, p.actor, bodyHash].join('\n');
}

export function sign(secret: string, p: SignedParts): string {
  return createHmac('sha256', secret).update(canonicalString(p)).digest('hex');
}

export function signaturesMatch(expectedHex: string, givenHex: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(givenHex)) return false;
  const a = Buffer.from(expectedHex, 'hex');
  const b = Buffer.from(givenHex.toLowerCase(), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Headers for a request to the sidecar: used by tests, the benchmark and our own tools. */
export function signedHeaders(
  secret: string,
  req: { method: string; pathWithQuery: string; body?: string; actor?: string; timestamp?: number; nonce?: string },
): Record<string, string> {
  const timestamp = String(req.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = req.nonce ?? createHash('sha256').update(String(Math.random()) + process.hrtime.bigint()).digest('hex').slice(0, 32);
  const actor = req.actor ?? 'system';
  const body = req.body ?? '';
  return {
    'X-SS-Timestamp': timestamp,
    'X-SS-Nonce': nonce,
    'X-SS-Actor': actor,
    'X-SS-Signature': sign(secret, { method: req.method, pathWithQuery: req.pathWithQuery, timestamp, nonce, actor, body }),
  };
}
