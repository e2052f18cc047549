import * as tf from '@tensorflow/tfjs';
import { serializeArtifacts } from './model-artifacts.js';
import { splitDataset, type LabelledExample } from './dataset-split.js';
import { cacheFrozenOutputs } from './feature-cache.js';
import { freezeBatchNorm } from './frozen-batch-norm.js';
import { lastFeatureMapLayer, planCut, rebuildTop } from './model-surgery.js';
import { trainPhase, type PhaseOutcome } from './phase-trainer.js';
import { ProgressTracker } from './progress-tracker.js';
import type { Evaluation } from './evaluation-metrics.js';
import type {
  PhaseName,
  PhaseReport,
  TrainingReport,
  TransferTrainingInput,
  TransferTrainingResult,
} from './training-types.js';

const EXTRACT_BATCH = 16;

/** The new classification head: GAP → [dense(relu) → dropout] → dropout → dense(softmax). */
function createHead(classes: number, dropout: number, hiddenUnits: number, seed: number) {
  const pool = tf.layers.globalAveragePooling2d({ name: 'graft_pool' });
  const layers: tf.layers.Layer[] = [];
  if (hiddenUnits > 0) {
    layers.push(
      tf.layers.dense({
        units: hiddenUnits,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed }),
        name: 'graft_hidden',
      }),
    );
  }
  layers.push(tf.layers.dropout({ rate: dropout, seed, name: 'graft_dropout' }));
  layers.push(
    tf.layers.dense({
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      name: 'graft_predictions',
    }),
  );
  const apply = (features: tf.SymbolicTensor): tf.SymbolicTensor =>
    layers.reduce((x, layer) => layer.apply(x) as tf.SymbolicTensor, features);
  return { pool, layers, apply };
}

function snapshot(layers: readonly tf.layers.Layer[]): Map<tf.layers.Layer, tf.Tensor[]> {
  return new Map(layers.map((layer) => [layer, layer.getWeights().map((w) => w.clone())]));
}

function restore(saved: Map<tf.layers.Layer, tf.Tensor[]>): void {
  for (const [layer, weights] of saved) layer.setWeights(weights);
}

function phaseReport(
  phase: PhaseReport['phase'],
  settings: { epochs: number; learningRate: number; batchSize: number },
  outcome: PhaseOutcome,
  seconds: number,
): PhaseReport {
  return {
    phase,
    ...settings,
    seconds,
    imagesPerSecond: outcome.imagesTrained / Math.max(outcome.trainSeconds, 1e-9),
    history: outcome.history,
    evaluation: outcome.evaluation,
  };
}

/**
 * The negative-transfer guard: fine-tuning is kept only if it validates at least as well as
 * the head alone (higher accuracy, or equal accuracy and no higher loss).
 */
export function choosePhase(
  headOnly: Evaluation,
  fineTuned: Evaluation,
): { kept: PhaseName; reason: string } {
  const describe = (e: Evaluation) =>
    `${e.accuracy.toFixed(4)} accuracy (loss ${e.loss.toFixed(4)})`;
  const better =
    fineTuned.accuracy > headOnly.accuracy ||
    (fineTuned.accuracy === headOnly.accuracy && fineTuned.loss <= headOnly.loss);
  return better
    ? {
        kept: 'fineTuning',
        reason: `fine-tuning validated at ${describe(fineTuned)}, head-only at ${describe(headOnly)}`,
      }
    : {
        kept: 'featureExtraction',
        reason: `negative transfer: fine-tuning validated at ${describe(fineTuned)}, worse than head-only ${describe(headOnly)}; the head-only weights were restored`,
      };
}

/**
 * The transfer-learning cycle: cache the frozen base's outputs once, train a new head on
 * them, unfreeze the top of the base and fine-tune it at a lower rate on cached activations
 * of the still-frozen bottom, keep whichever phase validates better, and export the result.
 */
export async function trainTransferModel(
  input: TransferTrainingInput,
): Promise<TransferTrainingResult> {
  const started = performance.now();
  const { base, entry, spec, signal } = input;
  const split = splitDataset(input.examples, spec.validationSplit, spec.seed);
  const { labels } = split;
  const featureLayer = entry.featureLayer || lastFeatureMapLayer(base);
  freezeBatchNorm(base);
  base.layers.forEach((layer) => (layer.trainable = false));
  const fine = spec.fineTuning;
  const cut = planCut(base, featureLayer, {
    unfreezeFrom: fine.unfreezeFrom,
    unfreezeLayers: fine.unfreezeLayers,
    fallback: entry.defaultUnfreezeFrom,
  });
  const head = createHead(
    labels.length,
    spec.featureExtraction.dropout,
    spec.featureExtraction.hiddenUnits,
    spec.seed,
  );
  const pooled = head.pool.apply(cut.features) as tf.SymbolicTensor;
  const extractor = tf.model({
    inputs: base.inputs,
    outputs: fine.enabled ? [pooled, cut.boundary!] : [pooled],
  });
  const tracker = new ProgressTracker(spec, split.train.length, split.val.length, input.onProgress);
  const skipped: TrainingReport['skipped'] = [];
  const owned: tf.Tensor[] = [];
  let succeeded = false;
  try {
    const cacheStart = performance.now();
    const cache = async (examples: readonly LabelledExample[], mirror: boolean) => {
      const result = await cacheFrozenOutputs(
        extractor,
        examples,
        entry.preprocessing,
        input.loadPixels,
        {
          batchSize: EXTRACT_BATCH,
          mirror,
          signal,
          onBatch: (done) => tracker.extracted(done),
          onSkip: (key, reason) => skipped.push({ key, reason }),
        },
      );
      owned.push(...result.outputs);
      const y = result.examples.map((example) => labels.indexOf(example.label));
      return { pooled: { x: result.outputs[0]!, y }, boundary: { x: result.outputs[1]!, y } };
    };
    const train = await cache(split.train, spec.augmentation.horizontalFlip);
    const val = await cache(split.val, false);
    const cacheSeconds = (performance.now() - cacheStart) / 1000;
    const cachedImages = train.pooled.y.length + val.pooled.y.length + skipped.length;

    const featureInput = tf.input({
      shape: pooled.shape.slice(1),
      name: 'graft_features',
    });
    const headModel = tf.model({ inputs: featureInput, outputs: head.apply(featureInput) });
    const fe = spec.featureExtraction;
    const phaseStart = performance.now();
    const headOutcome = await trainPhase({
      phase: 'featureExtraction',
      model: headModel,
      train: train.pooled,
      val: val.pooled,
      labels,
      epochs: fe.epochs,
      batchSize: fe.batchSize,
      learningRate: fe.learningRate,
      seed: spec.seed,
      signal,
      onBatch: (info) => tracker.trained('featureExtraction', fe.epochs, info),
    });
    const headReport = phaseReport(
      'featureExtraction',
      fe,
      headOutcome,
      (performance.now() - phaseStart) / 1000,
    );

    let fineReport: PhaseReport | undefined;
    let kept: TrainingReport['kept'] = 'featureExtraction';
    let keptReason = 'fine-tuning was disabled';
    if (fine.enabled) {
      const topLayers = base.layers.filter((layer) => cut.topLayers.includes(layer.name));
      const trainable = topLayers.filter((layer) => layer.getClassName() !== 'BatchNormalization');
      const saved = snapshot([...trainable, ...head.layers]);
      try {
        trainable.forEach((layer) => (layer.trainable = true));
        const top = rebuildTop(cut.boundary!, cut.features);
        const fineModel = tf.model({
          inputs: top.input,
          outputs: head.apply(head.pool.apply(top.output) as tf.SymbolicTensor),
        });
        const fineStart = performance.now();
        const fineOutcome = await trainPhase({
          phase: 'fineTuning',
          model: fineModel,
          train: train.boundary,
          val: val.boundary,
          labels,
          epochs: fine.epochs,
          batchSize: fine.batchSize,
          learningRate: fine.learningRate,
          seed: spec.seed + 1,
          signal,
          onBatch: (info) => tracker.trained('fineTuning', fine.epochs, info),
        });
        fineReport = {
          ...phaseReport('fineTuning', fine, fineOutcome, (performance.now() - fineStart) / 1000),
          unfreezeFrom: cut.unfreezeFrom,
          trainableLayers: trainable.length,
        };
        const decision = choosePhase(headReport.evaluation, fineReport.evaluation);
        kept = decision.kept;
        keptReason = decision.reason;
        if (kept === 'featureExtraction') restore(saved);
      } finally {
        trainable.forEach((layer) => (layer.trainable = false));
        for (const weights of saved.values()) weights.forEach((w) => w.dispose());
      }
    }

    const classifier = tf.model({
      inputs: base.inputs,
      outputs: head.apply(pooled),
      name: 'graft_classifier',
    });
    const report: TrainingReport = {
      labels,
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
        train: train.pooled.y.length / (spec.augmentation.horizontalFlip ? 2 : 1),
        val: val.pooled.y.length,
      },
      skipped,
      featureCache: {
        images: cachedImages,
        seconds: cacheSeconds,
        imagesPerSecond: cachedImages / Math.max(cacheSeconds, 1e-9),
      },
      phases: { featureExtraction: headReport, ...(fineReport ? { fineTuning: fineReport } : {}) },
      kept,
      keptReason,
      evaluation: (kept === 'fineTuning' ? fineReport! : headReport).evaluation,
      totalSeconds: 0,
    };
    if (input.writeArtifact) {
      tracker.exporting();
      await exportClassifier(classifier, report, input.writeArtifact);
    }
    report.totalSeconds = (performance.now() - started) / 1000;
    succeeded = true;
    tracker.finished();
    return { report, classifier };
  } finally {
    owned.forEach((tensor) => tensor.dispose());
    if (!succeeded) {
      head.layers.forEach((layer) => layer.weights.forEach((weight) => weight.dispose()));
    }
  }
}

async function exportClassifier(
  classifier: tf.LayersModel,
  report: TrainingReport,
  write: (name: string, data: Uint8Array | string) => Promise<void>,
): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await classifier.save(
    tf.io.withSaveHandler((saved) => {
      artifacts = saved;
      return Promise.resolve({
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
      });
    }),
  );
  const { modelJson, weights } = serializeArtifacts(artifacts!);
  await write('weights.bin', weights);
  await write('model.json', modelJson);
  await write('metadata.json', JSON.stringify(modelMetadata(report), null, 2));
}

export function modelMetadata(report: TrainingReport) {
  return {
    format: 'graft-model/1',
    labels: report.labels,
    baseModel: report.base.id,
    base: report.base,
    inputSize: report.base.preprocessing.size,
    preprocessing: report.base.preprocessing,
    backend: report.backend,
    spec: report.spec,
    split: report.split,
    kept: report.kept,
    keptReason: report.keptReason,
    metrics: {
      kept: report.evaluation,
      featureExtraction: report.phases.featureExtraction.evaluation,
      ...(report.phases.fineTuning ? { fineTuning: report.phases.fineTuning.evaluation } : {}),
    },
    history: [
      ...report.phases.featureExtraction.history,
      ...(report.phases.fineTuning?.history ?? []),
    ],
    timings: {
      featureCacheSeconds: report.featureCache.seconds,
      featureExtractionSeconds: report.phases.featureExtraction.seconds,
      fineTuningSeconds: report.phases.fineTuning?.seconds ?? 0,
    },
    createdAt: new Date().toISOString(),
  };
}
