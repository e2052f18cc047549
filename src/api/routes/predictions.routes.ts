import type {} from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../services/domain-error.js';
import type { PredictionsService } from '../../services/predictions.service.js';
import { authErrors, IdParams, Problem } from '../schemas.js';

const MAX_IMAGES = 32;
const MAX_IMAGE_BYTES = 20 * 1024 ** 2;
const MAX_JSON_BYTES = 64 * 1024 ** 2;

const Predictions = Type.Array(Type.Object({ label: Type.String(), score: Type.Number() }));
const PredictResponse = Type.Object({
  modelId: Type.String(),
  predictions: Type.Optional(Predictions),
  results: Type.Optional(Type.Array(Type.Object({ predictions: Predictions }))),
  latencyMs: Type.Number(),
});
const PredictQuery = Type.Object({
  topK: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});

function fromBase64(value: unknown, index: number): Buffer {
  if (typeof value !== 'string')
    throw new DomainError(400, 'invalid_request', `image ${index} must be a base64 string`);
  const data = value.replace(/^data:[\w/+.-]+;base64,/, '').replace(/\s/g, '');
  if (data.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data)) {
    throw new DomainError(400, 'invalid_base64', `image ${index} is not valid base64`);
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > MAX_IMAGE_BYTES)
    throw new DomainError(
      413,
      'image_too_large',
      `image ${index} is over ${MAX_IMAGE_BYTES} bytes`,
    );
  return bytes;
}

/** Images from multipart `file` parts or JSON `{image}` / `{images: [...]}`; `batch` when a list was sent. */
async function readImages(request: FastifyRequest): Promise<{ images: Buffer[]; batch: boolean }> {
  if (request.isMultipart()) {
    const images: Buffer[] = [];
    for await (const part of request.parts({
      limits: { files: MAX_IMAGES, parts: MAX_IMAGES, fileSize: MAX_IMAGE_BYTES, fields: 0 },
    })) {
      if (part.type === 'file') images.push(await part.toBuffer());
    }
    if (images.length === 0)
      throw new DomainError(
        400,
        'missing_image',
        'send at least one image in a multipart file field',
      );
    return { images, batch: images.length > 1 };
  }
  const body = request.body as { image?: unknown; images?: unknown } | undefined;
  if (body && Array.isArray(body.images)) {
    if (body.images.length === 0 || body.images.length > MAX_IMAGES) {
      throw new DomainError(
        body.images.length === 0 ? 400 : 413,
        'invalid_request',
        `send 1 to ${MAX_IMAGES} images`,
      );
    }
    return { images: body.images.map(fromBase64), batch: true };
  }
  if (body && body.image !== undefined)
    return { images: [fromBase64(body.image, 0)], batch: false };
  throw new DomainError(
    400,
    'missing_image',
    'send an image: multipart field "file", or JSON {"image": "<base64>"} or {"images": [...]}',
  );
}

export const predictionsRoutes: FastifyPluginAsyncTypebox<{
  predictions: PredictionsService;
}> = async (app, { predictions }) => {
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/models/:id/predict',
    {
      // Large batches belong in multipart; a JSON body is held as one string while parsed.
      bodyLimit: MAX_JSON_BYTES,
      schema: {
        params: IdParams,
        querystring: PredictQuery,
        response: {
          200: PredictResponse,
          400: Problem,
          413: Problem,
          415: Problem,
          422: Problem,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { images, batch } = await readImages(request);
      const result = await predictions.predict(
        request.principal.tenantId,
        request.params.id,
        images,
        request.query,
      );
      return batch
        ? result
        : {
            modelId: result.modelId,
            predictions: result.results[0]!.predictions,
            latencyMs: result.latencyMs,
          };
    },
  );

  app.get('/models/:id/export', { schema: { params: IdParams } }, async (request, reply) => {
    const zip = await predictions.exportZip(request.principal.tenantId, request.params.id);
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="graft-model-${request.params.id}.zip"`)
      .send(zip);
  });

  app.delete(
    '/models/:id',
    { schema: { params: IdParams, response: { 204: { type: 'null' }, ...authErrors } } },
    async (request, reply) => {
      await predictions.delete(request.principal.tenantId, request.params.id);
      return reply.code(204).send();
    },
  );
};
