/**
 * The one error type a user can see through the API: an HTTP status, a stable code and a
 * sentence that says what went wrong and what to do. One middleware turns it into
 * `{ error: { code, message, details? } }`; anything else becomes a generic 500 sentence
 * without a stack trace.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} was not found. It may have been deleted; reload the list.`);
export const conflict = (message: string, details?: Record<string, unknown>) => new ApiError(409, 'conflict', message, details);
export const invalid = (fields: Record<string, string>) => {
  const [first] = Object.entries(fields);
  const message = first ? `${first[0]}: ${first[1]}` : 'The request is invalid.';
  return new ApiError(400, 'validation_failed', message, { fields });
};
