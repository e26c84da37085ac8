/**
 * Failures as sentences: what an adapter gets when the provider refused a request, the
 * sentence when the adapter has nothing more specific to say, and the pieces adapters use to
 * read a provider's own error body without ever quoting it whole.
 */
import { z } from 'zod';
import { ProviderError, type ProviderErrorCode, type RetryPromise } from '../types.js';
import type { HttpMethod } from './client.js';
import type { ResponseHeaders } from './rate-limit.js';

/** A provider answer that was not a success, handed to the adapter to turn into a sentence. */
export interface HttpFailure {
  status: number;
  /** Parsed JSON body, or undefined when the body was empty or not JSON. */
  body: unknown;
  method: HttpMethod;
  /** Path relative to the base URL, without query (never contains credentials). */
  url: string;
  headers: ResponseHeaders;
  /** How many attempts were made (more than one when the failure was retryable). */
  attempts: number;
}

/** Turns a failure into the adapter's own ProviderError, or undefined for the generic one. */
export type DescribeFailure = (failure: HttpFailure) => ProviderError | undefined;

/** The sentence when an adapter has nothing more specific to say. */
export function genericFailure(name: string, f: HttpFailure): ProviderError {
  const map: [ProviderErrorCode, string, RetryPromise?] =
    f.status === 401
      ? ['auth', `${name} refused the credentials: check them in the providers file.`]
      : f.status === 403
        ? ['permission', `${name} refused the request: the credentials lack a permission it needs.`]
        : f.status === 404
          ? ['not_found', `${name} does not know what we asked for (${f.method} ${f.url}): was it deleted?`]
          : f.status === 409 || f.status === 423
            ? ['busy', `${name} is busy with this resource.`]
            : f.status === 400 || f.status === 422
              ? ['invalid', `${name} refused the request as invalid (HTTP ${f.status}).`]
              : f.status === 429
                ? ['rate_limited', `${name} is rate limiting our requests.`, { kind: 'tried again', subject: 'they' }]
                : f.status >= 500
                  ? ['transient', `${name} kept failing (HTTP ${f.status}).`]
                  : ['failed', `${name} answered HTTP ${f.status}, which we did not expect.`];
  return new ProviderError(map[0], map[1], { status: f.status, retry: map[2], params: { provider: name, attempts: f.attempts } });
}

/**
 * A provider's own error message from a body, cut short and stripped of anything that looks
 * like a token, for use inside our sentences. Returns null when there is none.
 */
export function providerMessage(body: unknown): string | null {
  const pick = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const err = b.error;
  const candidate =
    (err && typeof err === 'object' ? pick((err as Record<string, unknown>).message) : pick(err)) ??
    pick(b.message) ??
    (Array.isArray(b.errors) ? pick((b.errors[0] as Record<string, unknown> | undefined)?.reason) : null);
  if (!candidate) return null;
  const clean = candidate
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\b(bearer\s+)?[A-Za-z0-9_-]{32,}\b/gi, '[…]') // long opaque strings could be keys
    .slice(0, 200);
  return clean.replace(/[.\s]+$/, '');
}

/**
 * Check a success body against the fields an adapter relies on. A provider (or a proxy in
 * front of it) answering something else becomes `bad_response`, naming what was missing
 * but never quoting the body.
 */
export function parseBody<S extends z.ZodType>(schema: S, data: unknown, providerName: string, what: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].slice(0, 3).join(', ');
  throw new ProviderError(
    'bad_response',
    `${providerName} answered ${what} without the fields it documents (${fields}); try again later, and check apiUrl if this persists.`,
  );
}

/** The provider's error code from the JSON body, when it sent one in `{ error: { code } }` or `{ id }` form. */
export function bodyErrorCode(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (b.error && typeof b.error === 'object') {
    const code = (b.error as Record<string, unknown>).code;
    if (typeof code === 'string') return code;
  }
  return typeof b.id === 'string' ? b.id : null;
}
