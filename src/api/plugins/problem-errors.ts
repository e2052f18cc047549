import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { DomainError } from '../../services/domain-error.js';

export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `urn:graft:problem:${code}`,
      title: code.replace(/_/g, ' '),
      status,
      detail,
      code,
      ...extra,
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
 * with their status; anything else is a 500 that is logged in full and never leaks details.
 */
export const problemErrors = fp(
  (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof DomainError) {
        return sendProblem(reply, error.status, error.code, error.message, error.details ?? {});
      }
      if (error.validation) {
        return sendProblem(reply, 400, 'invalid_request', error.message, {
          errors: error.validation.map((v) => ({
            path: v.instancePath || v.params?.missingProperty || '',
            message: v.message,
          })),
        });
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
