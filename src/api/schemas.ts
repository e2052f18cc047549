import { Type, type TSchema } from '@sinclair/typebox';
import { TrainingSpecInput } from '../contracts/training-spec.js';
import { DATASET_WARNING_CODES } from '../training/dataset-report.js';

/** One schema library everywhere: these TypeBox schemas validate requests and shape responses. */

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
  },
  { additionalProperties: true },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});

export const page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
  });

const ClassCount = Type.Object({ name: Type.String(), count: Type.Integer() });
const Rejected = Type.Object({ path: Type.String(), reason: Type.String() });

const DatasetWarning = Type.Object({
  code: Type.Union(DATASET_WARNING_CODES.map((code) => Type.Literal(code))),
  message: Type.String(),
  examples: Type.Array(Type.String()),
});

const DatasetReport = Type.Object({
  images: Type.Integer(),
  duplicateGroups: Type.Integer(),
  leakedValImages: Type.Integer(),
  imbalanceRatio: Type.Number(),
  greyImages: Type.Integer(),
  colourImages: Type.Integer(),
  smallImages: Type.Integer(),
  warnings: Type.Array(DatasetWarning),
});

export const Dataset = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  imageCount: Type.Integer(),
  split: Type.String(),
  classes: Type.Array(ClassCount),
  rejected: Type.Array(Rejected),
  /** Null for datasets uploaded before reports existed. */
  report: Type.Union([DatasetReport, Type.Null()]),
  createdAt: Type.String(),
});

/** The training spec (see contracts/training-spec.ts) plus the dataset to train on. */
export const CreateJobBody = Type.Object(
  {
    datasetId: Type.String({ minLength: 1, maxLength: 64 }),
    ...TrainingSpecInput.properties,
  },
  { additionalProperties: false },
);

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Job = Type.Object({
  id: Type.String(),
  status: Type.Union(
    ['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)),
  ),
  datasetId: Nullable(Type.String()),
  baseModel: Type.String(),
  spec: Type.Any(),
  phase: Nullable(Type.String()),
  progress: Type.Number(),
  epoch: Nullable(Type.Integer()),
  epochs: Nullable(Type.Integer()),
  etaSeconds: Nullable(Type.Number()),
  history: Type.Array(Type.Any()),
  metrics: Type.Any(),
  modelId: Nullable(Type.String()),
  error: Nullable(Type.String()),
  backend: Nullable(Type.String()),
  cancelRequested: Type.Boolean(),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
});

export const Model = Type.Object({
  id: Type.String(),
  jobId: Nullable(Type.String()),
  datasetId: Nullable(Type.String()),
  baseModel: Type.String(),
  labels: Type.Array(Type.String()),
  inputSize: Type.Integer(),
  preprocessing: Type.Any(),
  kept: Type.String(),
  keptReason: Type.String(),
  metrics: Type.Any(),
  createdAt: Type.String(),
});

export const BaseModel = Type.Object({
  id: Type.String(),
  description: Type.String(),
  architecture: Type.String(),
  inputSize: Type.Integer(),
  preprocessing: Type.Any(),
  license: Type.String(),
  trainedOn: Type.String(),
  featureLayer: Type.String(),
  unfreezePoints: Type.Array(Type.String()),
  defaultUnfreezeFrom: Type.String(),
  default: Type.Boolean(),
  weights: Type.String(),
});

/** Problem responses every authenticated route may give. */
export const authErrors = { 401: Problem, 404: Problem, 500: Problem };
