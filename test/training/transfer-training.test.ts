import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainingSpec } from '../../src/contracts/training-spec.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import { disposeModelWeights } from '../../src/training/model-surgery.js';
import { pixelsToBatch } from '../../src/training/preprocessing.js';
import type { TrainingProgress } from '../../src/training/training-types.js';
import { choosePhase, trainTransferModel } from '../../src/training/transfer-training.js';
import { createTinyBase, syntheticDataset, TINY_ENTRY } from '../helpers/tiny-base.js';

const spec = resolveTrainingSpec({
  featureExtraction: { learningRate: 0.05 },
  fineTuning: { epochs: 2, batchSize: 8, learningRate: 0.005 },
  search: { folds: 3 },
  validationSplit: 0.25,
  seed: 3,
});

/** The core on the tiny base and synthetic data, with the wasm backend. */
function trainTiny(
  base: tf.LayersModel,
  data: Pick<Parameters<typeof trainTransferModel>[0], 'examples' | 'loadPixels'>,
  trainingSpec: typeof spec,
) {
  return trainTransferModel({
    base,
    entry: TINY_ENTRY,
    ...data,
    spec: trainingSpec,
    backend: 'wasm',
  });
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('trainTransferModel', () => {
  it('runs both phases, reports both, keeps one, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const base = createTinyBase();
    const data = syntheticDataset(16);
    const events: TrainingProgress[] = [];
    const { report, classifier } = await trainTransferModel({
      base,
      entry: TINY_ENTRY,
      ...data,
      spec,
      backend: 'wasm',
      onProgress: (p) => events.push(p),
    });
    expect([...new Set(events.map((p) => p.stage))]).toEqual([
      'features',
      'featureExtraction',
      'fineTuning',
    ]);
    const progress = events.map((p) => p.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1);
    events.forEach((p) => {
      expect(p.etaSeconds).toBeGreaterThanOrEqual(0);
      expect(p.imagesPerSecond).toBeGreaterThan(0);
    });
    const epochEnds = events.filter((p) => p.val);
    // Phase 1 is the head search (one event with its held-out result), then fine-tuning epochs.
    expect(epochEnds.map((p) => `${p.stage}:${p.epoch}`)).toEqual([
      'featureExtraction:1',
      ...report.phases.fineTuning!.history.map((h) => `fineTuning:${h.epoch}`),
    ]);
    expect(epochEnds.every((p) => p.batch === p.batches && p.loss !== undefined)).toBe(true);
    expect(report.labels).toEqual(['cool', 'warm']);
    expect(report.split).toEqual({
      method: 'stratified',
      train: 24,
      val: 8,
      droppedFromValidation: 0,
    });
    // The search: every transfer feature set × the L2 grid, mirroring tried, and the baseline.
    const sets = new Set(report.search.tried.map((t) => t.features.join('+')));
    expect([...sets].sort()).toEqual(['colour', 'gray', 'top', 'top+gray']); // no mid layer in the tiny base
    expect(report.search.tried).toContainEqual(report.search.chosen);
    for (const t of report.search.tried) {
      expect(t.cvAccuracy).toBeGreaterThanOrEqual(0);
      expect(t.cvLoss).toBeGreaterThanOrEqual(0);
      expect(t.iterations % 10).toBe(0);
    }
    expect(report.baseline!.chosen.features).not.toContain('top');
    expect(report.baseline!.transferGain).toBeCloseTo(
      report.phases.featureExtraction.evaluation.accuracy - report.baseline!.evaluation.accuracy,
      9,
    );
    expect(report.classWeights).toEqual({ cool: 1, warm: 1 });
    expect(report.calibration.temperature).toBeGreaterThan(0);
    expect(report.calibration.fittedOn).toBe(
      report.kept === 'fineTuning' ? 'held-out fold' : 'out-of-fold',
    );
    expect(report.phases.fineTuning!.history.length).toBeGreaterThanOrEqual(1);
    expect(report.phases.fineTuning!.history.length).toBeLessThanOrEqual(2);
    expect(report.phases.fineTuning?.unfreezeFrom).toBe('block_2_expand');
    expect(report.evaluation.accuracy).toBeGreaterThan(0.8);
    expect(report.evaluation.confusionMatrix.flat().reduce((a, b) => a + b)).toBe(8);
    disposeModelWeights(classifier, base);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps the head-only model when fine-tuning validates worse (negative-transfer guard)', () => {
    const evaluation = (accuracy: number, loss: number) => ({
      accuracy,
      loss,
      perClass: [],
      confusionMatrix: [],
      count: 10,
    });
    expect(choosePhase(evaluation(0.9, 0.3), evaluation(0.8, 0.2))).toMatchObject({
      kept: 'featureExtraction',
      reason: expect.stringMatching(/^negative transfer/) as string,
    });
    expect(choosePhase(evaluation(0.9, 0.3), evaluation(0.9, 0.4)).kept).toBe('featureExtraction');
    expect(choosePhase(evaluation(0.9, 0.3), evaluation(0.9, 0.3)).kept).toBe('fineTuning');
    expect(choosePhase(evaluation(0.8, 0.1), evaluation(0.9, 0.5)).kept).toBe('fineTuning');
  });

  it('trains the head only when fine-tuning is disabled', async () => {
    const base = createTinyBase();
    const headOnly = resolveTrainingSpec({
      ...spec,
      fineTuning: { enabled: false },
      baseline: { enabled: false },
    });
    const { report, classifier } = await trainTiny(base, syntheticDataset(8), headOnly);
    expect(report.phases.fineTuning).toBeUndefined();
    expect(report).toMatchObject({
      kept: 'featureExtraction',
      keptReason: 'fine-tuning was disabled',
    });
    disposeModelWeights(classifier, base);
  });

  it('stops within one batch of an abort and frees everything', async () => {
    const before = tf.memory().numTensors;
    const base = createTinyBase();
    const data = syntheticDataset(16);
    const controller = new AbortController();
    const seen: TrainingProgress[] = [];
    const run = trainTransferModel({
      base,
      entry: TINY_ENTRY,
      ...data,
      spec,
      backend: 'wasm',
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.stage === 'fineTuning' && p.epoch === 1 && p.batch === 1) controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    const afterAbort = seen.slice(seen.findIndex((p) => p.stage === 'fineTuning') + 1);
    expect(afterAbort).toEqual([]);
    disposeModelWeights(base);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('exports a model that plain @tensorflow/tfjs loads and that predicts what the core predicts', async () => {
    const base = createTinyBase();
    const data = syntheticDataset(12);
    const files = new Map<string, Uint8Array | string>();
    const { report, classifier } = await trainTransferModel({
      base,
      entry: TINY_ENTRY,
      ...data,
      spec,
      backend: 'wasm',
      writeArtifact: (name, content) => {
        files.set(name, content);
        return Promise.resolve();
      },
    });
    expect([...files.keys()].sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const metadata = JSON.parse(files.get('metadata.json') as string) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      labels: ['cool', 'warm'],
      baseModel: 'tiny-test-base',
      inputSize: 24,
      kept: report.kept,
      backend: 'wasm',
    });

    const dir = mkdtempSync(join(tmpdir(), 'graft-export-'));
    for (const [name, content] of files) writeFileSync(join(dir, name), content);
    const pixels = await Promise.all(data.examples.slice(0, 6).map((e) => data.loadPixels(e.key)));
    const input = pixelsToBatch(pixels, TINY_ENTRY.preprocessing);
    writeFileSync(
      join(dir, 'input.json'),
      JSON.stringify({ shape: input.shape, values: Array.from(input.dataSync()) }),
    );
    const expected = tf.tidy(
      () => (classifier.predict(input) as tf.Tensor).arraySync() as number[][],
    );
    input.dispose();

    // Nothing from Graft here: plain tfjs, pure-JS cpu backend, a fresh process.
    const script = `
      const fs = require('fs'); const path = require('path'); const tf = require('@tensorflow/tfjs');
      const dir = process.argv[1];
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
      const input = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8'));
      tf.setBackend('cpu').then(async () => {
        const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest[0].weights,
          weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }));
        const out = model.predict(tf.tensor(input.values, input.shape));
        process.stdout.write(JSON.stringify(out.arraySync()));
      });`;
    const output = execFileSync(process.execPath, ['-e', script, dir], {
      cwd: process.cwd(),
      encoding: 'utf8',
    });
    const actual = JSON.parse(output) as number[][];
    expect(actual).toHaveLength(6);
    actual.forEach((row, i) =>
      row.forEach((value, j) => expect(Math.abs(value - expected[i]![j]!)).toBeLessThan(1e-4)),
    );
    disposeModelWeights(classifier, base);
  });
});

describe('choices made on the training split only', () => {
  /** Given train/val split; the validation labels can be corrupted without touching training. */
  function givenSplit(corruptVal: boolean) {
    const data = syntheticDataset(16);
    const examples = data.examples.map((e) => {
      const val = Number(e.key.split('/')[1]!.split('.')[0]) % 4 === 0;
      const flipped = e.label === 'cool' ? 'warm' : 'cool';
      return {
        ...e,
        split: val ? ('val' as const) : ('train' as const),
        label: val && corruptVal ? flipped : e.label,
      };
    });
    return { examples, loadPixels: data.loadPixels };
  }

  it('the search, early stopping, calibration and what ships ignore validation labels', async () => {
    const run = async (corrupt: boolean) => {
      const base = createTinyBase();
      const { report, classifier } = await trainTiny(base, givenSplit(corrupt), spec);
      disposeModelWeights(classifier, base);
      return report;
    };
    const honest = await run(false);
    const corrupted = await run(true);
    const choices = (r: typeof honest) => ({
      tried: r.search.tried,
      chosen: r.search.chosen,
      baseline: r.baseline?.chosen,
      kept: r.kept,
      bestEpoch: r.phases.fineTuning?.bestEpoch,
      temperature: r.calibration.temperature,
    });
    expect(choices(corrupted)).toEqual(choices(honest));
    // …while the validation report does see the corruption.
    expect(corrupted.evaluation.accuracy).toBeLessThan(0.5);
    expect(honest.evaluation.accuracy).toBeGreaterThan(0.8);
  });

  it('ships the raw-pixel baseline when the base sees nothing, unless the spec forbids it', async () => {
    // A blind base: all-zero weights give every image the same features.
    const blind = () => {
      const base = createTinyBase();
      for (const layer of base.layers)
        layer.setWeights(layer.getWeights().map((w) => tf.zerosLike(w)));
      return base;
    };
    const noFineTuning = resolveTrainingSpec({ ...spec, fineTuning: { enabled: false } });
    const base = blind();
    const { report, classifier } = await trainTiny(base, syntheticDataset(12), noFineTuning);
    expect(report.kept).toBe('baseline');
    expect(report.keptReason).toMatch(/base's features do not fit this data/);
    expect(report.baseline!.shipped).toBe(true);
    expect(report.evaluation.accuracy).toBe(1);
    expect(report.baseline!.transferGain).toBeLessThanOrEqual(0);
    // The shipped model reads only the thumbnail: no base layer left in it.
    expect(classifier.layers.some((l) => l.name.startsWith('block_'))).toBe(false);
    disposeModelWeights(classifier, base);

    const forbidden = blind();
    const kept = await trainTiny(
      forbidden,
      syntheticDataset(12),
      resolveTrainingSpec({ ...noFineTuning, baseline: { allowShip: false } }),
    );
    expect(kept.report.kept).toBe('featureExtraction');
    expect(kept.report.keptReason).toMatch(/spec forbids shipping it/);
    disposeModelWeights(kept.classifier, forbidden);
  });

  it('weights classes by their frequency when they are imbalanced (auto)', async () => {
    const data = syntheticDataset(16);
    const examples = data.examples.filter(
      (e) => e.label === 'cool' || Number(e.key.split('/')[1]!.split('.')[0]) < 6,
    );
    const base = createTinyBase();
    const { report, classifier } = await trainTransferModel({
      base,
      entry: TINY_ENTRY,
      examples,
      loadPixels: data.loadPixels,
      spec,
      backend: 'wasm',
    });
    // 12 cool and 4 or 5 warm training images: n / (2 × n_c).
    const train = report.split.train;
    const cool = 12;
    expect(report.classWeights.cool).toBeCloseTo(train / (2 * cool), 9);
    expect(report.classWeights.warm).toBeCloseTo(train / (2 * (train - cool)), 9);
    disposeModelWeights(classifier, base);
  });
});

describe('tiny datasets', () => {
  it('skips fine-tuning, saying why, when holding out a fold would leave a class unseen', async () => {
    const data = syntheticDataset(2);
    const examples = data.examples.map((e) => ({
      ...e,
      split: e.key.endsWith('/0.png') ? ('train' as const) : ('val' as const),
    }));
    const base = createTinyBase();
    const { report, classifier } = await trainTransferModel({
      base,
      entry: TINY_ENTRY,
      examples,
      loadPixels: data.loadPixels,
      spec: resolveTrainingSpec({ ...spec, baseline: { enabled: false } }),
      backend: 'wasm',
    });
    expect(report.split).toMatchObject({ method: 'given', train: 2, val: 2 });
    expect(report.phases.fineTuning).toBeUndefined();
    expect(report.keptReason).toMatch(/fine-tuning was skipped: .*no image of '(cool|warm)'/);
    disposeModelWeights(classifier, base);
  });
});

describe('class weights given by label', () => {
  it('refuses a label that is not a class, naming the classes', async () => {
    const base = createTinyBase();
    await expect(
      trainTiny(
        base,
        syntheticDataset(6),
        resolveTrainingSpec({ ...spec, classWeights: { cool: 1, hot: 3 } }),
      ),
    ).rejects.toThrow(
      /classWeights names 'hot', not a class of this dataset \(classes: cool, warm\)/,
    );
    disposeModelWeights(base);
  });
});

describe('trainTransferModel with unreadable images', () => {
  it('fails with a clear error, freeing every tensor, when a class has no readable image left', async () => {
    await selectBackend('wasm');
    const before = tf.memory().numTensors;
    const base = createTinyBase();
    const data = syntheticDataset(6);
    const run = trainTransferModel({
      base,
      entry: TINY_ENTRY,
      examples: data.examples,
      loadPixels: (key) =>
        key.startsWith('warm') ? Promise.reject(new Error('file is gone')) : data.loadPixels(key),
      spec,
      backend: 'wasm',
    });
    await expect(run).rejects.toThrow(
      /no usable training or validation images left for 'warm': 6 image\(s\) could not be read \(first: warm\/\d+\.png: file is gone\)/,
    );
    disposeModelWeights(base);
    expect(tf.memory().numTensors).toBe(before);
  });
});
