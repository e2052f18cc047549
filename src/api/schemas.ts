import { Type } from '@sinclair/typebox';
import { literals, pageOf, ref, type Named } from '../contracts/schema-ref.js';
import { BaseModel, Dataset, Job, Model, VIEW_SCHEMAS } from '../contracts/resource-views.js';
import { TrainingSpecInput } from '../contracts/training-spec.js';
import { TRAINING_SUMMARY_SCHEMAS } from '../contracts/training-summary.js';
import { JOB_EVENT_SCHEMAS } from '../contracts/job-events.js';
import { WEBHOOK_VIEW_SCHEMAS } from '../contracts/webhook-views.js';
import { TENANT_SCHEMAS } from './tenant.schemas.js';

/*
 * The API's schemas: they validate requests, shape responses, type the handlers, and are the
 * source of the API document (openapi.yaml is generated from them; see openapi-document.ts).
 * Named schemas (`$id`) are published once under components.schemas and referred to by `ref`.
 */

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:graft:problem:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: 'What went wrong and what to do, for a person' }),
    code: Type.String({ description: 'Stable, for programs' }),
  },
  {
    $id: 'Problem',
    additionalProperties: true,
    description: 'An error (RFC 9457 problem details); some codes add fields such as `errors`',
  },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

// Optional with defaults: Fastify's Ajv fills them in before a handler runs (see `withDefaults`).
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});

/** A query after validation, whose optional fields with defaults are filled in. */
export const withDefaults = <T extends object>(query: T) => query as Required<T>;

/** Multipart forms are streamed by their handlers: these schemas document them (`documentedBody`). */
export const UploadForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'The zip, one folder per class' }),
  name: Type.Optional(
    Type.String({ description: 'Defaults to dataset-<first 8 characters of its id>' }),
  ),
});

export const PredictForm = Type.Object({
  file: Type.Array(Type.String({ format: 'binary' }), {
    minItems: 1,
    maxItems: 32,
    description: 'One or more images (repeat the field)',
  }),
});

export const CreateJobBody = Type.Object(
  {
    datasetId: Type.String({ minLength: 1, maxLength: 64, description: 'One of your datasets' }),
    ...TrainingSpecInput.properties,
  },
  { additionalProperties: false },
);

export const BaseModelCatalog = Type.Object({
  default: Type.String(),
  items: Type.Array(ref(BaseModel)),
});

export const PredictQuery = Type.Object({
  topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 5 })),
  threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});

export const ExportQuery = Type.Object({
  format: Type.Optional(
    Type.Unsafe<'tfjs' | 'onnx'>({
      type: 'string',
      enum: ['tfjs', 'onnx'],
      default: 'tfjs',
      description:
        '`tfjs`: model.json + weights.bin (TF.js LayersModel); `onnx`: model.onnx (ONNX opset 13, NHWC float32 input, softmax output), for ONNX Runtime',
    }),
  ),
});

/** Documented only (`documentedBody`): the handler checks it and words its errors (413 for too many images). */
export const PredictJsonBody = Type.Object({
  image: Type.Optional(
    Type.String({ description: 'One image, base64 (a data: URL prefix is fine)' }),
  ),
  images: Type.Optional(Type.Array(Type.String(), { description: 'At most 32 images, base64' })),
});

export const Ready = Type.Object(
  {
    status: literals(['ready', 'not_ready'] as const),
    postgres: Type.Boolean(),
    redis: Type.Boolean(),
    workers: Type.Integer({ minimum: 0, description: 'Training workers seen in the last 30 s' }),
    underPressure: Type.Boolean({
      description:
        'This API process is shedding load (event-loop delay, heap or RSS over its limit); not ready until it recovers',
    }),
  },
  {
    $id: 'Ready',
    description:
      'Up or down per dependency, and how many workers are alive; no names, addresses or ids (the probe needs no key)',
  },
);

export const DatasetPage = pageOf(Dataset, 'DatasetPage');
export const JobPage = pageOf(Job, 'JobPage');
export const ModelPage = pageOf(Model, 'ModelPage');

/** Every named schema, in the order the document lists them. */
export const NAMED_SCHEMAS = [
  Problem,
  ...VIEW_SCHEMAS,
  ...TRAINING_SUMMARY_SCHEMAS,
  ...JOB_EVENT_SCHEMAS,
  DatasetPage,
  JobPage,
  ModelPage,
  Ready,
  ...TENANT_SCHEMAS,
  ...WEBHOOK_VIEW_SCHEMAS,
] as Named[];
