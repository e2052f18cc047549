import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ModelsService } from '../../services/models.service.js';
import { BASE_MODEL_CATALOG, type BaseModelEntry } from '../../training/base-model-catalog.js';
import { exampleModel } from '../examples.js';
import { AUTH_PROBLEMS, binary, json, NoContent, problems } from '../responses.js';
import { Model } from '../../contracts/resource-views.js';
import {
  BaseModelCatalog,
  ExportQuery,
  IdParams,
  ModelPage,
  PageQuery,
  withDefaults,
} from '../schemas.js';

/** Where a catalog entry's weights come from, as the API lists it. */
function weightsOf(source: BaseModelEntry['source']): string {
  switch (source.kind) {
    case 'url':
      return source.url;
    case 'npm':
      return `npm:${source.package}`;
    case 'bundled':
      return `bundled (models/${source.folder}; public copy: ${source.url})`;
    case 'local':
      return 'local';
  }
}

function catalogView() {
  return {
    default: BASE_MODEL_CATALOG.find((entry) => entry.default)!.id,
    items: BASE_MODEL_CATALOG.map((entry) => ({
      id: entry.id,
      description: entry.description,
      architecture: entry.architecture,
      inputSize: entry.preprocessing.size,
      preprocessing: entry.preprocessing,
      license: entry.license,
      trainedOn: entry.trainedOn,
      featureLayer: entry.featureLayer,
      unfreezePoints: entry.unfreezePoints,
      defaultUnfreezeFrom: entry.defaultUnfreezeFrom,
      default: entry.default === true,
      weights: weightsOf(entry.source),
    })),
  };
}

export const modelsRoutes: FastifyPluginAsyncTypebox<{ models: ModelsService }> = async (
  app,
  { models },
) => {
  app.get(
    '/models',
    {
      schema: {
        operationId: 'listModels',
        tags: ['models'],
        summary: 'List trained models, newest first',
        querystring: PageQuery,
        response: {
          200: json(ModelPage, 'A page', { items: [exampleModel], total: 1, limit: 20, offset: 0 }),
          ...problems(400, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => models.list(request.principal.tenantId, withDefaults(request.query)),
  );

  app.get(
    '/models/:id',
    {
      schema: {
        operationId: 'getModel',
        tags: ['models'],
        summary:
          "A model's labels, base, both phases' metrics, what shipped and why, per-class metrics and confusion matrix",
        params: IdParams,
        response: {
          200: json(Model, 'The model', exampleModel),
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => models.get(request.principal.tenantId, request.params.id),
  );

  app.get(
    '/models/:id/export',
    {
      schema: {
        operationId: 'exportModel',
        tags: ['models'],
        summary: 'Download the model as a zip: TF.js (the default) or ONNX, with a README',
        description:
          '`format=tfjs` (the default): model.json, weights.bin, metadata.json and a README for plain @tensorflow/tfjs. `format=onnx`: model.onnx, metadata.json and a README for ONNX Runtime (input name and shape, preprocessing, output, Node and Python snippets); a model without a stored graph, or whose graph an older converter version wrote, is converted (and its graph stored) on export, in turn with predictions: 503 (`busy`) while the model runner is full. A model with a layer the ONNX converter does not know: 422 (`not_convertible`, the detail names it).',
        params: IdParams,
        querystring: ExportQuery,
        response: {
          200: binary(
            'application/zip',
            'The zip; plain @tensorflow/tfjs, or ONNX Runtime for format=onnx, runs it (see its README)',
          ),
          ...problems(400, 404, 422, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const format = request.query.format ?? 'tfjs';
      // A conversion this client no longer waits for is dropped before it starts.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort(new Error('the client went away')));
      const zip = await models.exportZip(request.principal.tenantId, id, format, gone.signal);
      return reply
        .type('application/zip')
        .header(
          'content-disposition',
          `attachment; filename="graft-model-${id}${format === 'onnx' ? '-onnx' : ''}.zip"`,
        )
        .send(zip);
    },
  );

  app.delete(
    '/models/:id',
    {
      schema: {
        operationId: 'deleteModel',
        tags: ['models'],
        summary: 'Delete the model and its files',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404, ...AUTH_PROBLEMS) },
      },
    },
    async (request, reply) => {
      await models.delete(request.principal.tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  const catalog = catalogView();
  app.get(
    '/base-models',
    {
      schema: {
        operationId: 'listBaseModels',
        tags: ['models'],
        summary: 'The base-model catalog, and which entry is the default',
        response: {
          200: json(BaseModelCatalog, 'The catalog', catalog),
          ...problems(...AUTH_PROBLEMS),
        },
      },
    },
    () => catalog,
  );
};
