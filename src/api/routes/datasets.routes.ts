import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { DatasetsService } from '../../services/datasets.service.js';
import { DomainError } from '../../services/domain-error.js';
import { authErrors, Dataset, IdParams, page, PageQuery, Problem } from '../schemas.js';

/** Streams the multipart `file` part to a temporary file; `name` may come before or after it. */
async function receiveUpload(request: FastifyRequest, tmpDir: string) {
  if (!request.isMultipart()) {
    throw new DomainError(
      415,
      'not_multipart',
      'send the dataset as multipart/form-data with a zip in the field "file"',
    );
  }
  let path: string | undefined;
  let size = 0;
  let name: string | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (part.fieldname === 'name') name = String(part.value);
        continue;
      }
      if (part.fieldname !== 'file' || path) {
        part.file.resume();
        throw new DomainError(
          400,
          'unexpected_file',
          `unexpected file field '${part.fieldname}': send one zip in "file"`,
        );
      }
      await mkdir(tmpDir, { recursive: true });
      path = join(tmpDir, `${randomUUID()}.zip`);
      part.file.on('data', (chunk: Buffer) => (size += chunk.length));
      await pipeline(part.file, createWriteStream(path));
      // @fastify/multipart truncates an over-limit file silently: refuse it instead.
      if (part.file.truncated)
        throw new DomainError(
          413,
          'upload_too_large',
          'the zip is larger than this server accepts (GRAFT_MAX_UPLOAD_BYTES)',
        );
    }
    if (!path) throw new DomainError(400, 'missing_file', 'no zip in the multipart field "file"');
    return { path, size, name };
  } catch (error) {
    if (path) await rm(path, { force: true });
    throw error;
  }
}

export const datasetsRoutes: FastifyPluginAsyncTypebox<{
  datasets: DatasetsService;
  tmpDir: string;
}> = async (app, { datasets, tmpDir }) => {
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/datasets',
    {
      schema: {
        summary: 'Upload a labelled image dataset (zip, one folder per class)',
        consumes: ['multipart/form-data'],
        response: {
          201: Dataset,
          400: Problem,
          413: Problem,
          415: Problem,
          422: Problem,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const upload = await receiveUpload(request, tmpDir);
      // Remove the upload before answering, so a client that saw the answer never sees it.
      const dataset = await datasets
        .createFromZip(request.principal.tenantId, upload.path, upload.size, upload.name)
        .finally(() => rm(upload.path, { force: true }));
      return reply.code(201).send(dataset);
    },
  );

  app.get(
    '/datasets',
    { schema: { querystring: PageQuery, response: { 200: page(Dataset), ...authErrors } } },
    (request) => datasets.list(request.principal.tenantId, request.query),
  );

  app.get(
    '/datasets/:id',
    { schema: { params: IdParams, response: { 200: Dataset, ...authErrors } } },
    (request) => datasets.get(request.principal.tenantId, request.params.id),
  );

  app.delete(
    '/datasets/:id',
    {
      schema: {
        params: IdParams,
        response: { 204: { type: 'null' }, 409: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      await datasets.delete(request.principal.tenantId, request.params.id);
      return reply.code(204).send();
    },
  );
};
