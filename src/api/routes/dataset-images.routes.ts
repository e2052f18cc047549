import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DatasetImagePage } from '../../contracts/resource-views.js';
import type { DatasetImagesService } from '../../services/dataset-images.service.js';
import {
  DEFAULT_THUMBNAIL_SIZE,
  THUMBNAIL_SIZES,
  THUMBNAIL_TYPE,
} from '../../storage/thumbnails.js';
import { exampleDatasetImages } from '../examples.js';
import { AUTH_PROBLEMS, binary, json, problems } from '../responses.js';
import { IdParams, withDefaults } from '../schemas.js';

const ImagesQuery = Type.Object({
  class: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1000, description: "Only this class's images" }),
  ),
  split: Type.Optional(
    Type.Unsafe<'train' | 'val'>({
      type: 'string',
      enum: ['train', 'val'],
      description: 'Only the images under train/ or val/ (a dataset uploaded split only)',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 60 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});

const ImageParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  imageId: Type.String({ format: 'uuid' }),
});

const ThumbnailQuery = Type.Object({
  size: Type.Optional(
    Type.Unsafe<number>({
      type: 'integer',
      enum: [...THUMBNAIL_SIZES],
      default: DEFAULT_THUMBNAIL_SIZE,
      description: 'The longest edge at most, in pixels (a smaller image is not enlarged)',
    }),
  ),
});

/** Images never change while their dataset exists; a deleted one answers 404. */
const THUMBNAIL_CACHE_CONTROL = 'private, max-age=86400';

/** Documented headers of a thumbnail and of its 304. */
const CACHE_HEADERS = {
  etag: Type.String({ description: "The thumbnail's version; send it back in `If-None-Match`" }),
  'cache-control': Type.String({ description: `\`${THUMBNAIL_CACHE_CONTROL}\`` }),
};

export const datasetImagesRoutes: FastifyPluginAsyncTypebox<{
  datasetImages: DatasetImagesService;
}> = async (app, { datasetImages }) => {
  app.get(
    '/datasets/:id/images',
    {
      schema: {
        operationId: 'listDatasetImages',
        tags: ['datasets'],
        summary: "A page of a dataset's images, by class then path, with thumbnail links",
        description:
          "Every image the upload kept (the dataset's `rejected` lists the files it skipped), ordered by class, then path in the zip; filter by `class` and `split`. A class the dataset does not have: 422 `unknown_class`, whose `classes` lists the dataset's. `split` on a dataset uploaded without train/ and val/: 422 `not_split`.",
        params: IdParams,
        querystring: ImagesQuery,
        response: {
          200: json(DatasetImagePage, 'A page', exampleDatasetImages),
          ...problems(400, 404, 422, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => {
      const query = withDefaults(request.query);
      return datasetImages.list(request.principal.tenantId, request.params.id, {
        ...(query.class !== undefined ? { class: query.class } : {}),
        ...(query.split !== undefined ? { split: query.split } : {}),
        limit: query.limit,
        offset: query.offset,
      });
    },
  );

  app.get(
    '/datasets/:id/images/:imageId/thumbnail',
    {
      schema: {
        operationId: 'getDatasetImageThumbnail',
        tags: ['datasets'],
        summary: 'A thumbnail of one image (WebP), for your key only',
        description:
          'The image rotated upright by its EXIF orientation and fit inside `size` × `size` (never enlarged), as WebP. Rendered once per image and size, then kept with the dataset (deleted with it). `ETag` and `Cache-Control: private` come with it; send the ETag back in `If-None-Match` for a 304. It needs the `Authorization` header like every /v1 route, so a browser fetches it and shows a blob: URL. 503 `busy` when this server renders too many at once, 503 `storage_unavailable` when the artifact store does not answer; both with `Retry-After`.',
        params: ImageParams,
        querystring: ThumbnailQuery,
        response: {
          200: Object.assign(binary(THUMBNAIL_TYPE, 'The thumbnail'), {
            headers: CACHE_HEADERS,
          }),
          304: Type.Null({
            description: 'Not modified: the ETag in `If-None-Match` is current; no body',
            headers: CACHE_HEADERS,
          }),
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const { id, imageId } = request.params;
      const thumbnail = await datasetImages.thumbnail(
        request.principal.tenantId,
        id,
        imageId,
        request.query.size ?? DEFAULT_THUMBNAIL_SIZE,
        request.headers['if-none-match'],
      );
      reply.header('etag', thumbnail.etag).header('cache-control', THUMBNAIL_CACHE_CONTROL);
      // No body at all: the 304's null schema would serialise one (`null`).
      if (!thumbnail.body) return reply.code(304).send(undefined as never);
      return reply.type(THUMBNAIL_TYPE).send(thumbnail.body);
    },
  );
};
