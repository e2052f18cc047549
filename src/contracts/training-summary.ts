import { Type, type Static } from '@sinclair/typebox';
import { literals, Nullable, nullableRef, ref } from './schema-ref.js';

/*
 * What a finished job says about its model, as the worker stores it and the API shows it (the
 * job's and the model's `metrics`, and metadata.json): one schema, published in the API document
 * and used as the type on both sides.
 */

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const PHASES = ['featureExtraction', 'fineTuning'] as const;
export const KEPT_MODELS = [...PHASES, 'baseline'] as const;
export const STAGES = ['features', ...PHASES, 'export'] as const;
export const FEATURE_BLOCKS = ['top', 'mid', 'gray', 'colour'] as const;

export const Evaluation = Type.Object(
  {
    accuracy: Type.Number({ minimum: 0, maximum: 1 }),
    loss: Type.Number({ description: 'Mean cross-entropy' }),
    count: Type.Integer({ description: 'Images evaluated' }),
    perClass: Type.Array(
      Type.Object({
        label: Type.String(),
        precision: Type.Number(),
        recall: Type.Number(),
        f1: Type.Number(),
        support: Type.Integer(),
      }),
    ),
    confusionMatrix: Type.Array(Type.Array(Type.Integer()), {
      description: 'Rows: actual class, columns: predicted class, both in label order',
    }),
  },
  { $id: 'Evaluation', description: 'A model on the validation split' },
);

export type EvaluationView = Static<typeof Evaluation>;

export const TriedSetting = Type.Object(
  {
    features: Type.Array(literals(FEATURE_BLOCKS), {
      description:
        'Feature blocks the head reads: the base top, an earlier depth, grey 28×28 and colour 14×14 thumbnails',
    }),
    hiddenUnits: Type.Integer({ description: '0: a linear head' }),
    dropout: Type.Number(),
    l2: Type.Number(),
    mirror: Type.Boolean({ description: 'Mirrored training copies used' }),
    learningRate: Type.Number(),
    maxEpochs: Type.Integer(),
    cvAccuracy: Type.Number({ description: 'Cross-validated on the training split' }),
    cvLoss: Type.Number(),
    iterations: Type.Integer({ description: 'Full-batch epochs at the best checkpoint' }),
  },
  { $id: 'TriedSetting', description: 'One cross-validated head setting' },
);

export type TriedSettingView = Static<typeof TriedSetting>;

export const Calibration = Type.Object(
  {
    temperature: Type.Number({
      description: 'Softmax temperature, folded into the output layer',
    }),
    fittedOn: literals(['out-of-fold', 'held-out fold'] as const),
    eceBefore: Type.Number({
      description: 'Expected calibration error (15 bins) on the validation split',
    }),
    eceAfter: Type.Number(),
  },
  { $id: 'Calibration' },
);

export type CalibrationView = Static<typeof Calibration>;

export const TrainingSummary = Type.Object(
  {
    kept: literals(KEPT_MODELS),
    keptReason: Type.String(),
    evaluation: ref(Evaluation),
    featureExtraction: ref(Evaluation),
    fineTuning: nullableRef(Evaluation),
    unfreezeFrom: Nullable(Type.String()),
    split: Type.Object({
      method: literals(['given', 'stratified'] as const),
      train: Type.Integer(),
      val: Type.Integer(),
      droppedFromValidation: Type.Optional(
        Type.Integer({ description: 'Validation images identical to a training image, left out' }),
      ),
    }),
    skipped: Type.Array(Type.Object({ key: Type.String(), reason: Type.String() }), {
      description: 'Images that could not be read',
    }),
    // Optional below: absent from models trained before the selection report existed.
    search: Type.Optional(
      Type.Object({
        enabled: Type.Boolean(),
        folds: Type.Integer(),
        seconds: Type.Number(),
        chosen: ref(TriedSetting),
        tried: Type.Array(ref(TriedSetting)),
      }),
    ),
    baseline: Type.Optional(
      Nullable(
        Type.Object({
          chosen: ref(TriedSetting),
          evaluation: ref(Evaluation),
          shipped: Type.Boolean(),
        }),
      ),
    ),
    transferGain: Type.Optional(
      Nullable(
        Type.Number({
          description: "Validation accuracy of the transfer model minus the baseline's",
        }),
      ),
    ),
    classWeights: Type.Optional(Type.Record(Type.String(), Type.Number())),
    earlyStopping: Type.Optional(
      Type.Object({
        featureExtraction: Type.Object({ steps: Type.Integer() }),
        fineTuning: Nullable(
          Type.Object({ bestEpoch: Type.Integer(), stoppedEarly: Type.Boolean() }),
        ),
      }),
    ),
    calibration: Type.Optional(ref(Calibration)),
    featureCache: Type.Optional(
      Type.Object(
        {
          engine: Type.String({
            description:
              'What ran the frozen part of the base: `onnxruntime (N threads)`, `wasm (N worker threads)`, `tfjs`, `checkpoint` (a resumed run), or `none: every image came from the embedding cache`',
          }),
          images: Type.Integer({ description: 'Images cached (validation included)' }),
          fromEmbeddingCache: Type.Integer({
            description:
              "Images whose outputs came from the tenant's embedding cache (neither decoded nor extracted)",
          }),
        },
        { description: 'How the frozen outputs of the images were obtained' },
      ),
    ),
    seconds: Type.Object({
      featureCache: Type.Number(),
      search: Type.Optional(Type.Number()),
      featureExtraction: Type.Number(),
      fineTuning: Type.Number(),
      total: Type.Number(),
    }),
  },
  {
    $id: 'TrainingSummary',
    description:
      'How the shipped model was chosen and how it validated: both phases, the search, the raw-pixel baseline, early stopping, class weights and calibration',
  },
);
/** A summary as stored: rows from older versions may lack the optional parts. */
export type StoredTrainingSummary = Static<typeof TrainingSummary>;
/** A summary as made today: every part present. */
export type TrainingSummary = Required<StoredTrainingSummary>;

export const EpochRecord = Type.Object(
  {
    phase: literals(PHASES),
    epoch: Type.Integer(),
    loss: Nullable(Type.Number()),
    accuracy: Nullable(Type.Number()),
    valLoss: Type.Number(),
    valAccuracy: Type.Number(),
  },
  { $id: 'EpochRecord', description: 'One epoch: training and held-out loss and accuracy' },
);
export type EpochRecordView = Static<typeof EpochRecord>;

/** Named schemas of this contract, for the API document's components. */
export const TRAINING_SUMMARY_SCHEMAS = [
  Evaluation,
  TriedSetting,
  Calibration,
  TrainingSummary,
  EpochRecord,
];
