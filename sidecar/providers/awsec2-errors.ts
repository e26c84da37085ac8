/**
 * What the AWS SDK throws, turned into our ProviderError with a plain sentence: the SDK error
 * object (which holds the raw response) is never attached as a cause, and anything that
 * looks like a credential is cut out of AWS's own words.
 */
import { ProviderError } from './types.js';

/** The SDK error fields we read; everything else on it (the raw response) we leave alone. */
export interface AwsErrorShape {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
]);

const THROTTLING_CODES = new Set([
  'RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'TooManyRequestsException',
]);
const TRANSIENT_CODES = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable']);
export const PARAMETER_CODES = new Set([
  'UnknownParameter', 'InvalidParameter', 'InvalidParameterValue', 'InvalidParameterCombination',
]);
export const GONE_AMI_CODES = new Set(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable']);

export function errorCode(err: unknown): string {
  const e = (err ?? {}) as AwsErrorShape;
  return String(e.Code ?? e.name ?? e.code ?? 'Unknown');
}

/** Short, single-line text of an AWS message, with anything credential-like removed. */
export function cleanMessage(msg: unknown, secrets: string[]): string {
  let text = String(msg ?? '').replace(/\s+/g, ' ').trim().slice(0, 300);
  for (const s of secrets) if (s) text = text.split(s).join('[redacted]');
  return text;
}

/** Turns an SDK / network error into our ProviderError with a plain sentence. */
export function toProviderError(
  err: unknown,
  action: string,
  retryAfterMs: number | null,
  account: { slug: string; region: string; secrets: string[] },
): ProviderError {
  const { slug, region, secrets } = account;
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as AwsErrorShape;
  const code = errorCode(err);
  const status = e.$metadata?.httpStatusCode ?? null;
  const opts = { status, params: { provider: 'AWS', providerCode: code } };
  if (THROTTLING_CODES.has(code)) {
    return new ProviderError('rate_limited', `AWS is throttling requests for this account (${code}).`, { ...opts, retryAfterMs, retry: { kind: 'tried again', subject: 'the request' } });
  }
  if (code === 'AuthFailure' || code === 'InvalidClientTokenId' || code === 'SignatureDoesNotMatch' || code === 'MissingAuthenticationToken') {
    return new ProviderError('auth', `AWS did not accept the access key for provider "${slug}": check accessKeyId and secretAccessKey in the providers file.`, opts);
  }
  if (code === 'RequestExpired' || code === 'ExpiredToken') {
    return new ProviderError('auth', `AWS says the credentials for provider "${slug}" have expired: renew the sessionToken (or use a long-lived access key) in the providers file.`, opts);
  }
  if (code === 'UnauthorizedOperation' || code === 'AccessDenied' || code === 'AccessDeniedException') {
    // CreateImage with TagSpecifications also needs ec2:CreateTags (AWS authorises the tagging separately).
    const needed = action === 'CreateImage' ? 'ec2:CreateImage and ec2:CreateTags (to tag the image while it is made)' : `ec2:${action}`;
    const these = action === 'CreateImage' ? 'those permissions' : 'that permission';
    return new ProviderError('permission', `The AWS access key for provider "${slug}" is not allowed to call ${needed}: add ${these} to its IAM policy and try again.`, opts);
  }
  if (code === 'OptInRequired' || code === 'PendingVerification') {
    return new ProviderError('not_enabled', `The AWS account for provider "${slug}" cannot use EC2 in ${region} yet (${code}): finish the account's sign-up or opt-in for this region.`, opts);
  }
  if (code === 'InvalidInstanceID.NotFound' || code === 'InvalidInstanceID.Malformed') {
    return new ProviderError('not_found', `AWS has no EC2 instance with that id in ${region}: check the server's instance id and region.`, opts);
  }
  if (code === 'IncorrectInstanceState' || code === 'ConcurrentSnapshotLimitExceeded' || code === 'SnapshotCreationPerVolumeRateExceeded') {
    return new ProviderError('busy', `AWS cannot snapshot the instance right now (${code}).`, { ...opts, retryAfterMs });
  }
  if (TRANSIENT_CODES.has(code) || (status !== null && status >= 500)) {
    return new ProviderError('transient', `AWS had a temporary problem answering ${action} (${code}).`, { ...opts, retryAfterMs });
  }
  if (NETWORK_CODES.has(String(e.code ?? '')) || code === 'TimeoutError' || code === 'RequestTimeout' || code === 'AbortError') {
    const what = NETWORK_CODES.has(String(e.code ?? '')) ? String(e.code) : code;
    return new ProviderError('transient', `Could not reach the AWS EC2 endpoint for ${region} (${what}).`, { retryAfterMs, params: { provider: 'AWS', providerCode: what } });
  }
  if (e.$response !== undefined && /deserializ/i.test(String(e.message ?? ''))) {
    return new ProviderError('bad_response', `AWS answered ${action} with something that is not a valid EC2 response.`, opts);
  }
  if (status !== null && status >= 400 && status < 500) {
    return new ProviderError('invalid', `AWS refused ${action}: ${code}: ${cleanMessage(e.message, secrets)}`, opts);
  }
  return new ProviderError('failed', `AWS ${action} failed: ${code}: ${cleanMessage(e.message, secrets)}`, opts);
}
