import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../../db/database-errors.js';
import { databaseUnavailable, DomainError } from '../../services/domain-error.js';

/** Unread body bytes worth reading (and dropping) to keep a client's connection open. */
const SMALL_UNREAD_BYTES = 1024 ** 2;

/**
 * Renders a problem. `retryAfterSeconds` among the extras (429, 503) becomes the `Retry-After`
 * header instead of a field.
 */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
) {
  const { retryAfterSeconds, ...fields } = extra;
  if (typeof retryAfterSeconds === 'number') reply.header('retry-after', retryAfterSeconds);
  // Refused before its body was read (auth, rate limit, a missing model, load shedding): a big
  // or unsized rest is not worth reading to keep the connection, so close it; a small one is
  // read and dropped, and the client keeps its connection.
  const { raw, headers } = reply.request;
  if (raw.complete === false && !(Number(headers['content-length']) <= SMALL_UNREAD_BYTES))
    reply.header('connection', 'close');
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `urn:graft:problem:${code}`,
      title: code.replace(/_/g, ' '),
      status,
      detail,
      code,
      ...fields,
    });
}

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_REQ_FILE_TOO_LARGE: [413, 'upload_too_large'],
  FST_PARTS_LIMIT: [413, 'too_many_parts'],
  FST_FILES_LIMIT: [413, 'too_many_files'],
  FST_FIELDS_LIMIT: [413, 'too_many_fields'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'not_multipart'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
};

/**
 * The one error boundary: domain errors and request errors become application/problem+json
 * with their status, an unreachable PostgreSQL a 503 with `Retry-After`; anything else is a
 * 500 that is logged in full and never leaks details.
 */
export const problemErrors = fp(
  (app: FastifyInstance) => {
    const sendDomain = (reply: FastifyReply, error: DomainError) =>
      sendProblem(reply, error.status, error.code, error.message, error.details ?? {});
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof DomainError) {
        // A fault of ours told in a stable code (a disk error): its cause is logged, not shown.
        if (error.status >= 500 && error.cause !== undefined)
          request.log.error({ err: error.cause }, error.code);
        return sendDomain(reply, error);
      }
      // Any route, and the API-key check before it, reads PostgreSQL: while it is away, 503.
      if (isDatabaseUnavailable(error)) {
        request.log.warn({ err: { message: error.message } }, 'database unavailable');
        return sendDomain(reply, databaseUnavailable());
      }
      if (error.validation) {
        const { errors, named } = validationErrors(error.validation);
        // Where a field allows only some values, the detail names them too.
        const detail = named
          ? errors.map((e) => `${error.validationContext ?? ''}${e.path} ${e.message}`).join(', ')
          : error.message;
        return sendProblem(reply, 400, 'invalid_request', detail, { errors });
      }
      const known = error.code ? FASTIFY_CODES[error.code] : undefined;
      if (known) return sendProblem(reply, known[0], known[1], error.message);
      if (error.statusCode && error.statusCode < 500) {
        return sendProblem(reply, error.statusCode, 'bad_request', error.message);
      }
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(
        reply,
        500,
        'internal_error',
        'something went wrong on our side; it has been logged',
      );
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        reply,
        404,
        'not_found',
        `no route ${request.method} ${request.url.split('?')[0]}`,
      ),
    );
  },
  { name: 'problem-errors' },
);

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

const listed = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

/**
 * Ajv's errors as `{ path, message }`, each naming the values it allows where the schema does;
 * a union of constants (TypeBox's literals: one `const` error per value, then `anyOf`) becomes
 * one "must be one of" message. `named`: some message names allowed values.
 */
function validationErrors(validation: readonly AjvError[]) {
  const constants = new Map<string, unknown[]>();
  for (const v of validation)
    if (v.keyword === 'const')
      constants.set(v.instancePath, [
        ...(constants.get(v.instancePath) ?? []),
        v.params?.allowedValue,
      ]);
  const unions = new Set(
    validation
      .filter((v) => v.keyword === 'anyOf' && constants.has(v.instancePath))
      .map((v) => v.instancePath),
  );
  let named = false;
  const errors: { path: string; message: string | undefined }[] = [];
  for (const v of validation) {
    const missing = v.params?.missingProperty;
    const path = v.instancePath || (typeof missing === 'string' ? missing : '');
    if (v.keyword === 'const' && unions.has(v.instancePath)) continue;
    let message = v.message;
    if (v.keyword === 'anyOf' && unions.has(v.instancePath))
      message = `must be one of: ${listed(constants.get(v.instancePath)!)}`;
    else if (v.params && 'allowedValue' in v.params)
      message = `${message}: ${JSON.stringify(v.params.allowedValue)}`;
    else if (Array.isArray(v.params?.allowedValues))
      message = `must be one of: ${listed(v.params.allowedValues)}`;
    named ||= message !== v.message;
    errors.push({ path, message });
  }
  return { errors, named };
}
