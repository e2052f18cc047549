import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { DatasetsService } from '../../services/datasets.service.js';
import { DomainError, storageFailure } from '../../services/domain-error.js';
import { exampleDataset } from '../examples.js';
import { bodyReceived } from '../plugins/load-shedding.js';
import { AUTH_PROBLEMS, json, NoContent, problems } from '../responses.js';
import { Dataset } from '../../contracts/resource-views.js';
import { DatasetPage, IdParams, PageQuery, withDefaults, UploadForm } from '../schemas.js';

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
    if (path) await rm(path, { force: true }).catch(() => undefined);
    throw storageFailure(error, 'this upload') ?? error;
  }
}

export const datasetsRoutes: FastifyPluginAsyncTypebox<{
  datasets: DatasetsService;
  tmpDir: string;
}> = async (app, { datasets, tmpDir }) => {
  app.post(
    '/datasets',
    {
      config: { documentedBody: { content: { 'multipart/form-data': { schema: UploadForm } } } },
      schema: {
        operationId: 'uploadDataset',
        tags: ['datasets'],
        summary: 'Upload a labelled image dataset',
        description:
          'A zip with one folder per class (optionally inside one top folder, optionally split into `train/` and `val/`). Every image is decoded; files that are not images are skipped and listed in `rejected`. Not a zip, unsafe paths, zip bombs, too few classes (2) or images per class: 4xx and nothing is stored. A server out of disk space answers 507 `insufficient_storage`, another disk fault 500 `storage_error`; nothing is stored either.',
        response: {
          201: json(Dataset, 'Created', exampleDataset),
          ...problems(400, 403, 413, 415, 422, 507, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      await datasets.admitUpload(request.principal.tenantId);
      // A client that stalls or goes away mid-upload fails receiveUpload, which removes the
      // partial file (the idle timeout, GRAFT_IDLE_TIMEOUT_MS, is what notices a stall).
      const upload = await receiveUpload(request, tmpDir);
      bodyReceived(request);
      // Remove the upload before answering, so a client that saw the answer never sees it.
      const dataset = await datasets
        .createFromZip(request.principal.tenantId, upload.path, upload.size, upload.name)
        .finally(() => rm(upload.path, { force: true }));
      return reply.code(201).send(dataset);
    },
  );

  app.get(
    '/datasets',
    {
      schema: {
        operationId: 'listDatasets',
        tags: ['datasets'],
        summary: 'List datasets, newest first',
        querystring: PageQuery,
        response: {
          200: json(DatasetPage, 'A page', {
            items: [exampleDataset],
            total: 1,
            limit: 20,
            offset: 0,
          }),
          ...problems(400, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => datasets.list(request.principal.tenantId, withDefaults(request.query)),
  );

  app.get(
    '/datasets/:id',
    {
      schema: {
        operationId: 'getDataset',
        tags: ['datasets'],
        summary: 'One dataset, with its class counts, rejected files and report',
        params: IdParams,
        response: {
          200: json(Dataset, 'The dataset', exampleDataset),
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => datasets.get(request.principal.tenantId, request.params.id),
  );

  app.delete(
    '/datasets/:id',
    {
      schema: {
        operationId: 'deleteDataset',
        tags: ['datasets'],
        summary: 'Delete a dataset and its images (409 while a queued or running job uses it)',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404, 409, ...AUTH_PROBLEMS) },
      },
    },
    async (request, reply) => {
      await datasets.delete(request.principal.tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
