/**
 * Sentences built from what a ProviderError is (its code, `what` and promise) rather than by
 * rewording its message: the message promises another try, and once the engine stops
 * trying that promise must go.
 */
import { ProviderError } from './types.js';

/** What the admin can do once the engine stops retrying, by the step that failed. */
export const AFTER_GIVING_UP: Readonly<Record<'create' | 'status' | 'delete', string>> = Object.freeze({
  create: 'take a new snapshot once the provider works again',
  status: "check the snapshot in the provider's dashboard",
  delete: 'use Trash again later, or Delete Record to remove only our record',
});

export type GiveUpStep = keyof typeof AFTER_GIVING_UP;

/**
 * The sentence for a `failed` / `delete_failed` row once the engine gives up on an error it
 * kept retrying: what happened (without its promise to try again), how many attempts were
 * made, and what to do instead.
 */
export function gaveUpSentence(error: ProviderError, attempts: number, step: GiveUpStep): string {
  return `${error.what} Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${AFTER_GIVING_UP[step]}.`;
}

/**
 * What the engine says when a provider call failed with something that is not a
 * ProviderError (a bug or an unforeseen answer): retried like a transient failure.
 */
export function unexpectedFailure(providerName: string, cause?: unknown): ProviderError {
  return new ProviderError('transient', `${providerName} could not be reached or answered unexpectedly.`, {
    cause, retry: { kind: 'keep trying' }, params: { provider: providerName },
  });
}
