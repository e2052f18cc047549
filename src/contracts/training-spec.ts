import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/*
 * The training job spec: the same object the API accepts (less datasetId) and the CLI reads
 * from --spec. Every field is optional; resolveTrainingSpec fills documented defaults.
 */

const LearningRate = Type.Number({ exclusiveMinimum: 0, maximum: 1 });
const Epochs = Type.Integer({ minimum: 1, maximum: 1000 });
const BatchSize = Type.Integer({ minimum: 1, maximum: 1024 });

export const FeatureExtractionInput = Type.Object(
  {
    epochs: Type.Optional(Epochs),
    learningRate: Type.Optional(LearningRate),
    batchSize: Type.Optional(BatchSize),
    dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9 })),
    hiddenUnits: Type.Optional(Type.Integer({ minimum: 0, maximum: 4096 })),
  },
  { additionalProperties: false },
);

export const FineTuningInput = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    epochs: Type.Optional(Epochs),
    learningRate: Type.Optional(LearningRate),
    batchSize: Type.Optional(BatchSize),
    unfreezeLayers: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    unfreezeFrom: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    patience: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

export const SearchInput = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    folds: Type.Optional(Type.Integer({ minimum: 2, maximum: 10 })),
    hiddenUnits: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 1024 }), { maxItems: 4 }),
    ),
  },
  { additionalProperties: false },
);

export const BaselineInput = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    allowShip: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ClassWeightsInput = Type.Union([
  Type.Literal('auto'),
  Type.Literal('none'),
  Type.Record(
    Type.String({ minLength: 1, maxLength: 200 }),
    Type.Number({ exclusiveMinimum: 0, maximum: 1000 }),
  ),
]);

export const TrainingSpecInput = Type.Object(
  {
    baseModel: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    featureExtraction: Type.Optional(FeatureExtractionInput),
    fineTuning: Type.Optional(FineTuningInput),
    augmentation: Type.Optional(
      Type.Object(
        {
          horizontalFlip: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('auto')])),
        },
        { additionalProperties: false },
      ),
    ),
    search: Type.Optional(SearchInput),
    baseline: Type.Optional(BaselineInput),
    classWeights: Type.Optional(ClassWeightsInput),
    validationSplit: Type.Optional(Type.Number({ minimum: 0.05, maximum: 0.5 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);
export type TrainingSpecInput = Static<typeof TrainingSpecInput>;

export interface TrainingSpec {
  baseModel?: string;
  featureExtraction: {
    epochs: number;
    learningRate: number;
    batchSize: number;
    dropout: number;
    hiddenUnits: number;
  };
  fineTuning: {
    enabled: boolean;
    epochs: number;
    learningRate: number;
    batchSize: number;
    /** At most one of the two; neither means the base's default unfreeze point. */
    unfreezeLayers?: number;
    unfreezeFrom?: string;
    /** Early stopping: epochs without a lower held-out loss before stopping. */
    patience: number;
  };
  /**
   * Mirrored copies of training images: 'auto' lets cross-validation decide; false where
   * left/right matters (text, signs) and they need not even be computed.
   */
  augmentation: { horizontalFlip: boolean | 'auto' };
  /**
   * k-fold cross-validated head search on the training split (off: the featureExtraction head
   * is trained, early-stopped by the same cross-validation). `hiddenUnits` adds heads with one
   * hidden layer of those sizes to the linear ones (slower).
   */
  search: { enabled: boolean; folds: number; hiddenUnits: number[] };
  /** A raw-pixel model trained alongside; shipped instead when it validates better (allowShip). */
  baseline: { enabled: boolean; allowShip: boolean };
  /** 'auto': balanced (n / (classes × n_c)); 'none'; or a weight per label. */
  classWeights: 'auto' | 'none' | Record<string, number>;
  validationSplit: number;
  seed: number;
}

export const TRAINING_SPEC_DEFAULTS: TrainingSpec = {
  featureExtraction: {
    epochs: 100,
    learningRate: 0.05,
    batchSize: 32,
    dropout: 0.2,
    hiddenUnits: 0,
  },
  fineTuning: { enabled: true, epochs: 5, learningRate: 1e-4, batchSize: 32, patience: 2 },
  augmentation: { horizontalFlip: 'auto' },
  search: { enabled: true, folds: 5, hiddenUnits: [] },
  baseline: { enabled: true, allowShip: true },
  classWeights: 'auto',
  validationSplit: 0.2,
  seed: 42,
};

export interface SpecIssue {
  path: string;
  message: string;
}

export class TrainingSpecError extends Error {
  override name = 'TrainingSpecError';
  constructor(readonly issues: SpecIssue[]) {
    super(
      `Invalid training spec: ${issues.map((i) => `${i.path || '/'} ${i.message}`).join('; ')}`,
    );
  }
}

/** Validates a spec from any source and fills defaults; throws TrainingSpecError saying why. */
export function resolveTrainingSpec(input: unknown): TrainingSpec {
  const raw = input ?? {};
  if (!Value.Check(TrainingSpecInput, raw)) {
    const issues = [...Value.Errors(TrainingSpecInput, raw)].map((error) => ({
      path: error.path,
      message: error.message,
    }));
    throw new TrainingSpecError(issues);
  }
  const defaults = TRAINING_SPEC_DEFAULTS;
  const spec: TrainingSpec = {
    ...(raw.baseModel ? { baseModel: raw.baseModel } : {}),
    featureExtraction: { ...defaults.featureExtraction, ...raw.featureExtraction },
    fineTuning: { ...defaults.fineTuning, ...raw.fineTuning },
    augmentation: { ...defaults.augmentation, ...raw.augmentation },
    search: { ...defaults.search, ...raw.search },
    baseline: { ...defaults.baseline, ...raw.baseline },
    classWeights: raw.classWeights ?? defaults.classWeights,
    validationSplit: raw.validationSplit ?? defaults.validationSplit,
    seed: raw.seed ?? defaults.seed,
  };
  const issues: SpecIssue[] = [];
  const head = spec.featureExtraction.learningRate;
  const fine = spec.fineTuning;
  if (fine.enabled && fine.learningRate >= head) {
    issues.push({
      path: '/fineTuning/learningRate',
      message:
        `must be lower than featureExtraction.learningRate (${fine.learningRate} >= ${head}): ` +
        `a high rate on unfrozen layers destroys the pretrained weights; ${head / 10} is a good start`,
    });
  }
  if (fine.unfreezeLayers !== undefined && fine.unfreezeFrom !== undefined) {
    issues.push({
      path: '/fineTuning',
      message: 'give unfreezeLayers or unfreezeFrom, not both',
    });
  }
  if (issues.length > 0) throw new TrainingSpecError(issues);
  return spec;
}
