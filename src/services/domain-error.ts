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
