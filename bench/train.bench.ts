/**
 * bench:train — a fixed transfer-learning workload, timed, next to the PyTorch tutorial recipe
 * run back to back on the same machine. Prints one JSON object on stdout (progress on stderr).
 *
 *   npm run bench:train -- [--json] [--data <dir>] [--base <id>] [--no-baseline]
 *
 * Defaults: ../shared/datasets/hymenoptera, mobilenet_v2_0.35; Graft runs its default job
 * spec (head search, baseline, fine-tuning, calibration), PyTorch its tutorial recipe with
 * 10 head epochs + 5 fine-tuning epochs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../src/config/config.js';
import { trainFromFolder } from '../src/services/folder-training.service.js';
import { loadBaseModel } from '../src/storage/base-model-store.js';
import { selectBackend } from '../src/tfjs/tfjs-backend.js';
import { freezeBatchNorm } from '../src/training/frozen-batch-norm.js';
import { disposeModelWeights } from '../src/training/model-surgery.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    data: { type: 'string', default: '../shared/datasets/hymenoptera' },
    base: { type: 'string', default: 'mobilenet_v2_0.35' },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const HEAD_EPOCHS = 10;
const FINE_EPOCHS = 5;

process.env.GRAFT_MODEL_MIRROR ??= existsSync('../shared/models')
  ? resolve('../shared/models')
  : '';
const config = loadConfig();
const dataDir = resolve(values.data);
if (!existsSync(dataDir)) {
  console.error(
    `bench:train needs a dataset at ${dataDir} (../shared/datasets/hymenoptera in dev)`,
  );
  process.exit(2);
}

/**
 * Forward passes of the frozen base alone on pre-made pixels (no decoding): the
 * feature-extraction rate as Graft runs it (BN as a folded affine map), and as stock tfjs runs
 * the same model, measured in the same process.
 */
async function extractionRate() {
  const { artifacts, entry } = await loadBaseModel(values.base, {
    mirrorDir: config.modelMirror,
    cacheDir: config.modelCacheDir,
  });
  const batchSize = 16;
  const rounds = 8;
  const size = entry.preprocessing.size;
  const input = tf.randomUniform([batchSize, size, size, 3], -1, 1, 'float32', 1);
  const rate = async (patchBatchNorm: boolean): Promise<number> => {
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    if (patchBatchNorm) freezeBatchNorm(model);
    const run = () => {
      // Outside tf.tidy, as the core runs it: predict frees activations as it goes.
      const output = model.predict(input) as tf.Tensor;
      output.dataSync();
      output.dispose();
    };
    run();
    run(); // warm-up
    const started = performance.now();
    for (let i = 0; i < rounds; i++) run();
    const seconds = (performance.now() - started) / 1000;
    disposeModelWeights(model);
    return (rounds * batchSize) / seconds;
  };
  const imagesPerSecond = await rate(true);
  const stockTfjsImagesPerSecond = await rate(false);
  input.dispose();
  return {
    imagesPerSecond,
    stockTfjsImagesPerSecond,
    images: rounds * batchSize,
    batchSize,
    inputSize: size,
  };
}

function pytorchBaseline(): Record<string, unknown> {
  const python = ['/usr/bin/python3', 'python3'].find((p) => !p.startsWith('/') || existsSync(p))!;
  const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { skipped: 'PyTorch not installed (apt-get install python3-torch python3-torchvision)' };
  }
  const run = spawnSync(
    python,
    ['bench/pytorch_transfer_baseline.py', dataDir, String(HEAD_EPOCHS), String(FINE_EPOCHS)],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (run.status !== 0) return { skipped: `baseline failed: ${run.stderr.slice(-500)}` };
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const backend = await selectBackend(config.tfjsBackend);
const extraction = await extractionRate();
const job = await trainFromFolder({
  dataDir,
  spec: { baseModel: values.base },
  config,
  onProgress: (p) => {
    if (p.val) console.error(`${p.stage} epoch ${p.epoch}: val acc ${p.val.accuracy.toFixed(3)}`);
  },
});
const { report } = job;
const graft = {
  backend: backend.name,
  base: values.base,
  dataset: dataDir,
  featureExtraction: extraction,
  featureCache: report.featureCache,
  phases: {
    featureExtraction: {
      epochs: report.phases.featureExtraction.bestEpoch,
      searchSeconds: report.search.seconds,
      settingsTried: report.search.tried.length,
      imagesPerSecond: report.phases.featureExtraction.imagesPerSecond,
      seconds: report.phases.featureExtraction.seconds,
      valAccuracy: report.phases.featureExtraction.evaluation.accuracy,
    },
    fineTuning: report.phases.fineTuning && {
      epochs: report.phases.fineTuning.history.length,
      bestEpoch: report.phases.fineTuning.bestEpoch,
      unfreezeFrom: report.phases.fineTuning.unfreezeFrom,
      imagesPerSecond: report.phases.fineTuning.imagesPerSecond,
      seconds: report.phases.fineTuning.seconds,
      valAccuracy: report.phases.fineTuning.evaluation.accuracy,
    },
  },
  baseline: report.baseline && {
    features: report.baseline.chosen.features,
    valAccuracy: report.baseline.evaluation.accuracy,
    transferGain: report.baseline.transferGain,
  },
  calibration: report.calibration,
  kept: report.kept,
  valAccuracy: report.evaluation.accuracy,
  wallSeconds: job.wallSeconds,
};
const pytorch = values['no-baseline'] ? { skipped: '--no-baseline' } : pytorchBaseline();
const baselineSeconds = typeof pytorch.wallSeconds === 'number' ? pytorch.wallSeconds : undefined;
const result = {
  bench: 'train',
  workload: {
    graft: 'default job spec',
    pytorch: { headEpochs: HEAD_EPOCHS, fineTuneEpochs: FINE_EPOCHS },
  },
  graft,
  pytorch,
  ...(baselineSeconds ? { wallTimeRatio: graft.wallSeconds / baselineSeconds } : {}),
};
// Always JSON; --json is accepted so every bench:* script takes the same flag.
console.log(JSON.stringify(result, null, 2));
