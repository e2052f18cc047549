import { isFileSystemError, isOutOfSpace } from '../storage/file-system-errors.js';

/**
 * An error a user can act on: it carries a stable code and the HTTP status the API answers
 * with. The API's one error handler renders it as application/problem+json.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string) =>
  new DomainError(404, 'not_found', `${what} ${id} does not exist`);

/** What a client is told to wait when a dependency is down: a restart or failover takes seconds. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

/**
 * 503 for a dependency that does not answer (PostgreSQL, Redis), with `Retry-After`: the same
 * request succeeds once it is back, with nothing to undo.
 */
export const unavailable = (
  code: string,
  detail: string,
  retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_S,
) => new DomainError(503, code, detail, { retryAfterSeconds });

export const databaseUnavailable = () =>
  unavailable(
    'database_unavailable',
    'the database (PostgreSQL) is unavailable; try again shortly',
  );

export const queueUnavailable = () =>
  unavailable('queue_unavailable', 'the training queue (Redis) is unavailable; try again shortly');

/**
 * A disk fault while storing what a client sent, or undefined for any other error: a full
 * disk (ENOSPC, EDQUOT) is 507, anything else (EIO, EROFS, EACCES…) 500. The detail names
 * the error code only, never a server path; the error itself is the cause, which the error
 * boundary logs.
 */
export function storageFailure(error: unknown, what: string): DomainError | undefined {
  if (!isFileSystemError(error)) return undefined;
  const failure = isOutOfSpace(error)
    ? new DomainError(
        507,
        'insufficient_storage',
        `the server has no room left to store ${what} (${error.code}); nothing was kept; try again later`,
      )
    : new DomainError(
        500,
        'storage_error',
        `the server could not store ${what} (${error.code}); nothing was kept; it has been logged`,
      );
  failure.cause = error;
  return failure;
}
