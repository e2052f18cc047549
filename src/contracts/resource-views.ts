import { Type, type Static } from '@sinclair/typebox';
import { literals, Nullable, nullableRef, pageOf, ref } from './schema-ref.js';
import { TrainingSpecInput } from './training-spec.js';
import {
  EpochRecord,
  JOB_STATUSES,
  KEPT_MODELS,
  STAGES,
  TrainingSummary,
} from './training-summary.js';

/*
 * What the API shows of each resource: the services build these views, the routes send them,
 * and the API document publishes them, all from these schemas.
 */

export const DATASET_WARNING_CODES = [
  'duplicates',
  'train_val_leakage',
  'conflicting_labels',
  'class_imbalance',
  'small_classes',
  'small_images',
  'mixed_colour',
] as const;

export const DatasetReport = Type.Object(
  {
    images: Type.Integer(),
    duplicateGroups: Type.Integer(),
    leakedValImages: Type.Integer(),
    imbalanceRatio: Type.Number(),
    greyImages: Type.Integer(),
    colourImages: Type.Integer(),
    smallImages: Type.Integer(),
    warnings: Type.Array(
      Type.Object({
        code: literals(DATASET_WARNING_CODES),
        message: Type.String(),
        examples: Type.Array(Type.String()),
      }),
    ),
  },
  {
    $id: 'DatasetReport',
    description:
      'Made at upload: warnings, not refusals. Exact duplicates (content hash), validation images identical to training images (dropped from validation when training), the same image under two classes, class imbalance, classes under 10 images, images under 112 px, mixed greyscale and colour.',
  },
);

export const Dataset = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    status: Type.String(),
    imageCount: Type.Integer(),
    split: literals(['given', 'none'] as const),
    classes: Type.Array(Type.Object({ name: Type.String(), count: Type.Integer() })),
    rejected: Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }), {
      maxItems: 100,
      description: 'The first 100 files that are not decodable images; skipped',
    }),
    rejectedCount: Type.Integer({ description: 'How many files were skipped in all' }),
    report: Type.Union([ref(DatasetReport), Type.Null()], {
      description: 'Null for datasets uploaded before reports existed',
    }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Dataset', description: 'A labelled image dataset' },
);

export const DatasetImage = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'Stable for as long as the dataset exists' }),
    class: Type.String(),
    split: Nullable(literals(['train', 'val'] as const), {
      description: 'Null when the zip was not split (jobs split such datasets themselves)',
    }),
    path: Type.String({ description: "The file's name inside the uploaded zip" }),
    width: Type.Integer(),
    height: Type.Integer(),
    bytes: Type.Integer({ description: 'Size of the stored file' }),
    thumbnailUrl: Type.String({
      description:
        'GET it with your API key (`/v1/datasets/{id}/images/{imageId}/thumbnail`; `?size=` for another size)',
    }),
  },
  { $id: 'DatasetImage', description: 'One image of a dataset, as uploaded' },
);

export const DatasetImagePage = pageOf(
  DatasetImage,
  'DatasetImagePage',
  'A page of images, by class, then path',
  'Images matching the filter, in all pages',
);

export const TrainingSpec = Type.Object(
  { ...TrainingSpecInput.properties },
  {
    $id: 'TrainingSpec',
    additionalProperties: false,
    description: 'Every field is optional; defaults are filled in and shown on the job',
  },
);

export const JobResume = Type.Object(
  {
    attempt: Type.Integer({ description: 'The run that continued (1 is the first run)' }),
    fromAttempt: Type.Integer({ description: 'The earlier run whose checkpoints it read' }),
    stage: literals(['features', 'featureExtraction', 'fineTuning'] as const, {
      description:
        'How far the checkpoints reached: the feature cache, or a trained phase (then `epoch`)',
    }),
    epoch: Nullable(Type.Integer({ description: 'The last completed epoch of that phase' })),
    at: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'JobResume',
    description:
      'A run of the job that continued from checkpoints after its worker died or shut down',
  },
);

export const Job = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: literals(JOB_STATUSES),
    datasetId: Nullable(Type.String({ description: 'Null once the dataset is deleted' })),
    baseModel: Type.String(),
    spec: ref(TrainingSpec),
    phase: Nullable(literals(STAGES)),
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    epoch: Nullable(Type.Integer()),
    epochs: Nullable(Type.Integer()),
    etaSeconds: Nullable(Type.Number()),
    history: Type.Array(ref(EpochRecord)),
    metrics: nullableRef(TrainingSummary),
    modelId: Nullable(Type.String({ format: 'uuid' })),
    error: Nullable(Type.String()),
    backend: Nullable(Type.String({ description: 'The tfjs backend that trained it' })),
    cancelRequested: Type.Boolean(),
    attempt: Type.Integer({
      description:
        'Runs started so far: more than 1 when a worker died or shut down and another continued',
    }),
    resumes: Type.Array(ref(JobResume)),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Nullable(Type.String({ format: 'date-time' })),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Job', description: 'A training job: state, progress, per-epoch history, metrics' },
);

export const Preprocessing = Type.Object(
  {
    size: Type.Integer({ description: 'Input height and width, pixels' }),
    resize: literals(['cover', 'fill'] as const),
    valueRange: Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }),
    channelOrder: literals(['RGB', 'BGR'] as const),
  },
  { $id: 'Preprocessing', description: 'How images are prepared, exactly as the base was trained' },
);

export const Model = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    jobId: Nullable(Type.String()),
    datasetId: Nullable(Type.String()),
    baseModel: Type.String(),
    labels: Type.Array(Type.String()),
    inputSize: Type.Integer(),
    preprocessing: ref(Preprocessing),
    kept: literals(KEPT_MODELS),
    keptReason: Type.String(),
    metrics: Type.Intersect([
      Type.Object({
        accuracy: Nullable(Type.Number({ description: "The shipped model's validation accuracy" })),
      }),
      ref(TrainingSummary),
    ]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Model', description: 'A trained model and its evaluation' },
);

export const BaseModel = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    architecture: Type.String(),
    inputSize: Type.Integer(),
    preprocessing: ref(Preprocessing),
    license: Type.String(),
    trainedOn: Type.String(),
    featureLayer: Type.String(),
    unfreezePoints: Type.Array(Type.String()),
    defaultUnfreezeFrom: Type.String(),
    default: Type.Boolean(),
    weights: Type.String({ description: 'Where the weights come from' }),
  },
  { $id: 'BaseModel', description: 'A pretrained base in the catalog' },
);

const Predictions = Type.Array(
  Type.Object({ label: Type.String(), score: Type.Number({ minimum: 0, maximum: 1 }) }),
  { description: 'Top classes at or above the threshold, highest calibrated probability first' },
);

export const PredictResponse = Type.Object(
  {
    modelId: Type.String(),
    predictions: Type.Optional(Predictions),
    results: Type.Optional(
      Type.Array(Type.Object({ predictions: Predictions }), { description: 'One per image' }),
    ),
    latencyMs: Type.Number(),
  },
  { $id: 'PredictResponse', description: '`predictions` for one image, `results` for several' },
);

export type DatasetView = Static<typeof Dataset>;
export type DatasetReportView = Static<typeof DatasetReport>;
export type DatasetImageView = Static<typeof DatasetImage>;
export type JobView = Static<typeof Job>;
export type ModelView = Static<typeof Model>;
export type PredictView = Static<typeof PredictResponse>;

/** Named schemas of the resource views, for the API document's components. */
export const VIEW_SCHEMAS = [
  DatasetReport,
  Dataset,
  TrainingSpec,
  JobResume,
  Job,
  Preprocessing,
  Model,
  BaseModel,
  PredictResponse,
  DatasetImage,
  DatasetImagePage,
];
