import * as tf from '@tensorflow/tfjs';
import { savedTensor, tensorOf } from './checkpoint-tensors.js';
import type { FeaturesCheckpoint, SavedRows } from './checkpoint-types.js';
import { exportClassifier } from './classifier-export.js';
import { splitDataset, type LabelledExample } from './dataset-split.js';
import { cacheFrozenOutputs } from './feature-cache.js';
import { BLOCK_ORDER, featureBlocks } from './feature-blocks.js';
import { freezeBatchNorm } from './frozen-batch-norm.js';
import type { BlockName } from './head-search.js';
import { lastFeatureMapLayer, planCut } from './model-surgery.js';
import { ProgressTracker } from './progress-tracker.js';
import { searchAndFit, type CachedRows } from './transfer-heads.js';
import type {
  FrozenPartRunner,
  TrainingReport,
  TransferTrainingInput,
  TransferTrainingResult,
} from './training-types.js';

export { choosePhase } from './transfer-heads.js';

const EXTRACT_BATCH = 16;

const tensorsOf = (rows: CachedRows): tf.Tensor[] => [
  ...Object.values(rows.blocks),
  ...(rows.boundary ? [rows.boundary] : []),
];

/** Refuses to train when unreadable images left a class with nothing to train or validate on. */
function requireImages(
  labels: readonly string[],
  train: readonly number[],
  val: readonly number[],
  skipped: TrainingReport['skipped'],
  leaked: number,
): void {
  const missing = labels.filter((_, c) => !train.includes(c) || !val.includes(c));
  if (missing.length === 0) return;
  const first = skipped[0];
  throw new Error(
    `no usable training or validation images left for ${missing.map((l) => `'${l}'`).join(', ')}: ` +
      `${skipped.length} image(s) could not be read` +
      (first ? ` (first: ${first.key}: ${first.reason})` : '') +
      (leaked > 0
        ? `, and ${leaked} validation image(s) were copies of training images (left out so the evaluation stays honest)`
        : ''),
  );
}

function savedRows(rows: CachedRows): SavedRows {
  const blocks: SavedRows['blocks'] = {};
  for (const [name, tensor] of Object.entries(rows.blocks))
    blocks[name as BlockName] = savedTensor(tensor);
  return {
    blocks,
    ...(rows.boundary ? { boundary: savedTensor(rows.boundary) } : {}),
    y: rows.y,
    keys: rows.keys,
    groups: rows.groups,
    mirrored: rows.mirrored,
  };
}

/**
 * What the extractor computes from an image, besides the base's weights: how images are
 * prepared, where the base is cut (its feature layer, the fine-tuning boundary when there is
 * one), which blocks are cached. The embedding cache's context; part of the checkpoint's.
 */
interface ExtractorCut {
  preprocessing: TransferTrainingInput['entry']['preprocessing'];
  featureLayer: string;
  boundaryFrom: string | null;
  blocks: readonly string[];
  mid: string | null;
}

/**
 * What the cached outputs of a checkpoint depend on beyond the job's spec and images: the base
 * (its catalog entry, and a probe of its last weights, so other weights under the same name
 * do not pass) and the cut.
 */
function featuresContext(input: TransferTrainingInput, cut: ExtractorCut): string {
  const { entry, base } = input;
  const probe = tf.tidy(() =>
    base.weights.slice(-4).map((w) => w.read().abs().sum().dataSync()[0]!.toPrecision(9)),
  );
  return JSON.stringify({
    format: 2,
    base: [entry.id, entry.source, base.countParams(), probe],
    cut,
  });
}

/**
 * An earlier run's cached outputs, if they are those this run would compute: the same blocks
 * of the same widths, a boundary exactly when fine-tuning, the same examples in each split.
 */
function restoredRows(
  saved: SavedRows,
  blocks: Partial<Record<BlockName, tf.SymbolicTensor>>,
  boundary: tf.SymbolicTensor | undefined,
  examples: readonly LabelledExample[],
): CachedRows | undefined {
  const names = Object.keys(blocks) as BlockName[];
  const rows = saved.y.length;
  const known = new Set(examples.map((e) => e.key));
  const fits =
    Object.keys(saved.blocks).length === names.length &&
    names.every(
      (n) =>
        saved.blocks[n]?.shape[0] === rows && saved.blocks[n]?.shape[1] === blocks[n]!.shape[1],
    ) &&
    (boundary === undefined) === (saved.boundary === undefined) &&
    (!boundary ||
      (saved.boundary!.shape[0] === rows &&
        saved.boundary!.shape.slice(1).every((d, i) => d === boundary.shape[i + 1]))) &&
    saved.keys.length === rows &&
    saved.keys.every((key) => known.has(key));
  if (!fits) return undefined;
  const restored: CachedRows['blocks'] = {};
  for (const n of names) restored[n] = tensorOf(saved.blocks[n]!) as tf.Tensor2D;
  return {
    blocks: restored,
    ...(saved.boundary ? { boundary: tensorOf(saved.boundary) } : {}),
    y: saved.y,
    keys: saved.keys,
    groups: saved.groups,
    mirrored: saved.mirrored,
  };
}

/**
 * The transfer-learning cycle: cache the frozen base's outputs once (pooled top, an earlier
 * depth, raw-pixel thumbnails, and the fine-tuning boundary), choose and train the head by
 * cross-validation on the training split, fine-tune the top of the base at a lower rate on
 * cached activations, train a raw-pixel baseline alongside, keep whichever does best on
 * held-out training data, calibrate it, and report it once on the validation split.
 */
export async function trainTransferModel(
  input: TransferTrainingInput,
): Promise<TransferTrainingResult> {
  const started = performance.now();
  const { base, entry, spec } = input;
  const split = splitDataset(input.examples, spec.validationSplit, spec.seed);
  const featureLayer = entry.featureLayer || lastFeatureMapLayer(base);
  freezeBatchNorm(base);
  base.layers.forEach((layer) => (layer.trainable = false));
  const cut = planCut(base, featureLayer, {
    unfreezeFrom: spec.fineTuning.unfreezeFrom,
    unfreezeLayers: spec.fineTuning.unfreezeLayers,
    fallback: entry.defaultUnfreezeFrom,
  });
  // An earlier depth is a feature only where fine-tuning leaves it frozen.
  const midName =
    entry.midFeatureLayer &&
    base.layers.some((l) => l.name === entry.midFeatureLayer) &&
    !(spec.fineTuning.enabled && cut.topLayers.includes(entry.midFeatureLayer))
      ? entry.midFeatureLayer
      : undefined;
  const pool = tf.layers.globalAveragePooling2d({ name: 'graft_pool' });
  const blocks = featureBlocks(
    base,
    cut.features,
    midName ? (base.getLayer(midName).output as tf.SymbolicTensor) : undefined,
    pool,
  );
  const blockNames = BLOCK_ORDER.filter((name) => blocks[name] !== undefined);
  const extractor = tf.model({
    inputs: base.inputs,
    outputs: [
      ...blockNames.map((name) => blocks[name]!),
      ...(spec.fineTuning.enabled ? [cut.boundary!] : []),
    ],
  });
  const tracker = new ProgressTracker(spec, split.train.length, split.val.length, input.onProgress);
  const skipped: TrainingReport['skipped'] = [];
  const owned: tf.Tensor[] = [];
  let shipped: tf.LayersModel | undefined;
  let candidate: tf.LayersModel | undefined;
  // The frozen part's runner, started on the first image that needs extracting (none when
  // every image comes from the embedding cache); once it fails, tfjs runs the rest.
  let runner: Promise<FrozenPartRunner | undefined> | undefined;
  let runnerFailed = false;
  const startRunner = () => {
    if (runnerFailed) return Promise.resolve(undefined);
    runner ??= input.frozenRunner?.(extractor) ?? Promise.resolve(undefined);
    return runner;
  };
  const stopRunner = async () => {
    const started = runner;
    runner = undefined;
    await (await started?.catch(() => undefined))?.dispose().catch(() => undefined);
  };
  const extraction = { engines: [] as string[], fromCache: 0 };
  const extractorCut: ExtractorCut = {
    preprocessing: entry.preprocessing,
    featureLayer,
    boundaryFrom: spec.fineTuning.enabled ? cut.unfreezeFrom : null,
    blocks: blockNames,
    mid: midName ?? null,
  };
  const embeddings = input.embeddings && {
    cache: input.embeddings,
    context: JSON.stringify({ format: 1, ...extractorCut }),
  };
  const cache = async (examples: readonly LabelledExample[], mirror: boolean) => {
    const result = await cacheFrozenOutputs(
      extractor,
      examples,
      entry.preprocessing,
      input.loadPixels,
      {
        batchSize: EXTRACT_BATCH,
        mirror,
        signal: input.signal,
        onBatch: (done) => tracker.extracted(done),
        onSkip: (key, reason) => skipped.push({ key, reason }),
        runner: startRunner,
        onRunnerFailed: () => {
          runnerFailed = true;
          void stopRunner();
        },
        ...(embeddings ? { embeddings } : {}),
      },
    );
    owned.push(...result.outputs);
    if (result.engine && !extraction.engines.includes(result.engine))
      extraction.engines.push(result.engine);
    extraction.fromCache += result.fromCache;
    const named = Object.fromEntries(
      blockNames.map((name, i) => [name, result.outputs[i] as tf.Tensor2D]),
    ) as Partial<Record<BlockName, tf.Tensor2D>>;
    const rows: CachedRows = {
      blocks: named,
      boundary: spec.fineTuning.enabled ? result.outputs[blockNames.length] : undefined,
      y: Int32Array.from(result.examples.map((e) => split.labels.indexOf(e.label))),
      keys: result.examples.map((e) => e.key),
      groups: result.examples.map((e) => e.contentHash ?? e.key),
      mirrored: Uint8Array.from(result.mirrored.map((m) => (m ? 1 : 0))),
    };
    return rows;
  };
  const boundary = spec.fineTuning.enabled ? cut.boundary : undefined;
  const presentBlocks = Object.fromEntries(
    blockNames.map((name) => [name, blocks[name]!]),
  ) as Partial<Record<BlockName, tf.SymbolicTensor>>;
  const checkpointContext = input.checkpoints ? featuresContext(input, extractorCut) : '';
  const restoreFeatures = (saved: FeaturesCheckpoint | undefined) => {
    if (!saved || saved.context !== checkpointContext) return undefined;
    const train = restoredRows(saved.train, presentBlocks, boundary, split.train);
    const val = train && restoredRows(saved.val, presentBlocks, boundary, split.val);
    if (!train || !val) {
      if (train) tf.dispose(tensorsOf(train));
      return undefined;
    }
    return { train, val, skipped: saved.skipped, cacheSeconds: saved.cacheSeconds };
  };
  try {
    const mirror = spec.augmentation.horizontalFlip !== false;
    const cacheStarted = performance.now();
    const restored = restoreFeatures(input.checkpoints?.features);
    const train = restored?.train ?? (await cache(split.train, mirror));
    const val = restored?.val ?? (await cache(split.val, false));
    await stopRunner();
    const cacheSeconds = restored?.cacheSeconds ?? (performance.now() - cacheStarted) / 1000;
    if (restored) {
      owned.push(...tensorsOf(train), ...tensorsOf(val));
      skipped.push(...restored.skipped);
      tracker.extracted(split.train.length + split.val.length);
      input.checkpoints?.restored?.({ stage: 'features' });
    } else {
      await input.checkpoints?.saveFeatures({
        context: checkpointContext,
        train: savedRows(train),
        val: savedRows(val),
        skipped,
        cacheSeconds,
      });
    }
    const originals = (rows: CachedRows) => [...rows.y].filter((_, i) => !rows.mirrored[i]);
    requireImages(split.labels, originals(train), [...val.y], skipped, split.droppedFromValidation);
    const outcome = await searchAndFit({
      input,
      labels: split.labels,
      base,
      cut,
      pool,
      blocks,
      train,
      val,
      tracker,
      checkpointContext,
    });
    candidate = outcome.classifier;
    const passes = originals(train).length + val.y.length;
    const report: TrainingReport = {
      labels: split.labels,
      base: {
        id: entry.id,
        description: entry.description,
        license: entry.license,
        trainedOn: entry.trainedOn,
        preprocessing: entry.preprocessing,
        featureLayer,
      },
      backend: input.backend,
      spec,
      split: {
        method: split.method,
        train: originals(train).length,
        val: val.y.length,
        droppedFromValidation: split.droppedFromValidation,
      },
      skipped,
      featureCache: {
        images: passes,
        seconds: cacheSeconds,
        imagesPerSecond: passes / cacheSeconds,
        engine: restored
          ? 'checkpoint'
          : extraction.engines.join('; ') || 'none: every image came from the embedding cache',
        fromEmbeddingCache: extraction.fromCache,
      },
      ...outcome.report,
      totalSeconds: (performance.now() - started) / 1000,
    };
    if (input.writeArtifact) {
      tracker.exporting();
      await exportClassifier(outcome.classifier, report, input.writeArtifact);
    }
    report.totalSeconds = (performance.now() - started) / 1000;
    tracker.finished();
    shipped = outcome.classifier;
    return { report, classifier: outcome.classifier };
  } finally {
    await stopRunner();
    owned.forEach((tensor) => tensor.dispose());
    // Feature-block layers (thumbnails) the shipped model does not use own weights too, and
    // a model that failed to export is not shipped.
    const keep = new Set([...base.layers, ...(shipped?.layers ?? [])]);
    for (const layer of new Set([...extractor.layers, ...(candidate?.layers ?? [])]))
      if (!keep.has(layer)) layer.weights.forEach((w) => w.dispose());
  }
}
