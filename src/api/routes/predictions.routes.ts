import type {} from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../services/domain-error.js';
import type { AdmittedPrediction, PredictionsService } from '../../services/predictions.service.js';
import { examplePrediction } from '../examples.js';
import { bodyReceived } from '../plugins/load-shedding.js';
import { AUTH_PROBLEMS, json, problems } from '../responses.js';
import { PredictResponse } from '../../contracts/resource-views.js';
import { IdParams, PredictForm, PredictJsonBody, PredictQuery, withDefaults } from '../schemas.js';

const MAX_IMAGES = 32;
const MAX_IMAGE_BYTES = 20 * 1024 ** 2;
const MAX_JSON_BYTES = 64 * 1024 ** 2;

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

/** Params are validated after the body is parsed; admission needs them before, so checks them itself. */
function checkParams(request: FastifyRequest): void {
  const validate = request.getValidationFunction('params');
  if (!validate || validate(request.params)) return;
  const errors = validate.errors ?? [];
  const message = errors.map((e) => `params${e.instancePath} ${e.message ?? ''}`).join(', ');
  throw Object.assign(new Error(message), { statusCode: 400, validation: errors });
}

/**
 * Lets a request in (its place taken on arrival, its model found for this tenant) and ties its
 * deadline to the connection: over when the answer is sent or the client goes, and a body
 * still not received at the deadline drops the connection.
 */
async function admit(
  predictions: PredictionsService,
  request: FastifyRequest,
  reply: FastifyReply,
  modelId: string,
): Promise<AdmittedPrediction> {
  checkParams(request);
  const admitted = await predictions.admit(request.principal.tenantId, modelId);
  reply.raw.once('close', () => admitted.end());
  admitted.signal.addEventListener(
    'abort',
    () => request.raw.complete === false && request.raw.destroy(),
    { once: true },
  );
  return admitted;
}

export const predictionsRoutes: FastifyPluginAsyncTypebox<{
  predictions: PredictionsService;
}> = async (app, { predictions }) => {
  const admitted = new WeakMap<FastifyRequest, AdmittedPrediction>();
  app.post(
    '/models/:id/predict',
    {
      // Large batches belong in multipart; a JSON body is held as one string while parsed.
      bodyLimit: MAX_JSON_BYTES,
      // After auth and the rate limit, before a byte of the body is read: a flood of big bodies
      // for a missing model, or at a full server, is answered at once and never buffered.
      preParsing: async (request, reply, payload) => {
        admitted.set(request, await admit(predictions, request, reply, request.params.id));
        return payload;
      },
      config: {
        // A full process sheds predictions on arrival (api/plugins/load-shedding.ts).
        places: predictions.places,
        documentedBody: {
          content: {
            'application/json': {
              schema: {
                ...PredictJsonBody,
                // A 1×1 PNG.
                examples: [
                  {
                    image:
                      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC',
                  },
                ],
              },
            },
            'multipart/form-data': { schema: PredictForm },
          },
        },
      },
      schema: {
        operationId: 'predict',
        tags: ['models'],
        summary: 'Classify images with the model',
        description: `One image (multipart field \`file\`, or JSON \`{"image": "<base64>"}\`) answers \`predictions\`; several (several multipart files, or \`{"images": [...]}\`, at most ${MAX_IMAGES}) answer \`results\`, one per image, in order. Scores are calibrated probabilities (all classes sum to 1); \`predictions\` lists the top \`topK\` at or above \`threshold\`, highest first. Images are prepared exactly as in training. Not an image: 422; over ${MAX_IMAGE_BYTES / 1024 ** 2} MiB or too many pixels: 413. Over your key's predict budget: 429; a server with all the predictions it takes in hand, or one not answered in time: 503; both say when to retry (\`Retry-After\`).`,
        params: IdParams,
        querystring: PredictQuery,
        response: {
          200: json(PredictResponse, 'Predictions', examplePrediction),
          ...problems(400, 404, 413, 415, 422, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => {
      const { images, batch } = await readImages(request);
      // Bounded by its deadline (GRAFT_PREDICT_TIMEOUT_MS) from here.
      bodyReceived(request);
      const result = await predictions.predict(
        admitted.get(request)!,
        images,
        withDefaults(request.query),
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
};
