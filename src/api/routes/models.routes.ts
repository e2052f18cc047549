import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ModelsService } from '../../services/models.service.js';
import { BASE_MODEL_CATALOG, type BaseModelEntry } from '../../training/base-model-catalog.js';
import { authErrors, BaseModel, IdParams, Model, page, PageQuery } from '../schemas.js';
import { Type } from '@sinclair/typebox';

export const modelsRoutes: FastifyPluginAsyncTypebox<{ models: ModelsService }> = async (
  app,
  { models },
) => {
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/models',
    { schema: { querystring: PageQuery, response: { 200: page(Model), ...authErrors } } },
    (request) => models.list(request.principal.tenantId, request.query),
  );

  app.get(
    '/models/:id',
    { schema: { params: IdParams, response: { 200: Model, ...authErrors } } },
    (request) => models.get(request.principal.tenantId, request.params.id),
  );

  app.get(
    '/base-models',
    {
      schema: {
        response: {
          200: Type.Object({ default: Type.String(), items: Type.Array(BaseModel) }),
          ...authErrors,
        },
      },
    },
    () => ({
      default: BASE_MODEL_CATALOG.find((entry) => entry.default)!.id,
      items: BASE_MODEL_CATALOG.map((entry) => ({
        ...entry,
        inputSize: entry.preprocessing.size,
        default: entry.default === true,
        weights: weightsOf(entry.source),
      })),
    }),
  );
};

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
