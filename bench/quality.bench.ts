/**
 * `npm run bench:quality -- [--json]`: Graft's default job against the obvious alternative on
 * data nobody tuned for. For each set (synthetic glyphs and patterns, and hymenoptera when
 * ../shared has it) it trains with the default spec through `trainFromFolder`, then scores the
 * exported model on held-out images the job never saw, next to a raw-pixel logistic
 * regression (grey 28×28, L2 chosen by 5-fold CV) trained on the same images. Prints JSON.
 * `-- --sets positions,glyphs` runs only some sets.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.js';
import { trainFromFolder } from '../src/services/folder-training.service.js';
import { decodeImage } from '../src/storage/image-decoder.js';
import { parseModelJson, toArtifacts } from '../src/training/model-artifacts.js';
import { predictAll } from '../src/training/phase-trainer.js';
import { pixelsToBatch } from '../src/training/preprocessing.js';
import { SYNTHETIC_SETS, writeSyntheticSet } from './synthetic-datasets.js';

interface Labelled {
  path: string;
  label: number;
}

async function listSet(dir: string, classes: string[]): Promise<Labelled[]> {
  const items: Labelled[] = [];
  for (const [label, name] of classes.entries())
    for (const file of (await readdir(join(dir, name))).sort())
      items.push({ path: join(dir, name, file), label });
  return items;
}

async function greyPixels(items: Labelled[]): Promise<tf.Tensor2D> {
  const rows = await Promise.all(
    items.map((item) =>
      sharp(item.path).greyscale().resize(28, 28, { fit: 'fill' }).raw().toBuffer(),
    ),
  );
  return tf.tensor2d(Float32Array.from(rows.flatMap((r) => [...r].map((v) => v / 255))), [
    items.length,
    784,
  ]);
}

/** Multinomial logistic regression, full batch, L2 = 1 / (2 C n). */
function logisticRegression(x: tf.Tensor2D, y: number[], classes: number, c: number) {
  const w = tf.variable(tf.zeros([x.shape[1], classes]));
  const b = tf.variable(tf.zeros([classes]));
  const oneHot = tf.oneHot(tf.tensor1d(y, 'int32'), classes).toFloat();
  const optimizer = tf.train.adam(0.05);
  const l2 = 1 / (2 * c * y.length);
  for (let i = 0; i < 300; i++)
    optimizer.minimize(() =>
      tf.tidy(() =>
        tf.losses
          .softmaxCrossEntropy(oneHot, x.matMul(w).add(b))
          .add<tf.Scalar>(w.square().sum().mul(l2)),
      ),
    );
  optimizer.dispose();
  oneHot.dispose();
  return {
    predict: (z: tf.Tensor2D) => tf.tidy(() => z.matMul(w).add(b).argMax(1).dataSync()),
    dispose: () => tf.dispose([w, b]),
  };
}

async function rawPixelBaseline(train: Labelled[], test: Labelled[], classes: number) {
  const xTrain = await greyPixels(train);
  const xTest = await greyPixels(test);
  const { mean, variance } = tf.moments(xTrain, 0);
  const std = variance.sqrt().add(1e-3);
  const norm = (x: tf.Tensor2D) => x.sub(mean).div<tf.Tensor2D>(std);
  const [a, b] = [norm(xTrain), norm(xTest)];
  const y = train.map((t) => t.label);
  let best = { c: 1, accuracy: -1 };
  for (const c of [0.01, 0.1, 1]) {
    let correct = 0;
    for (let fold = 0; fold < 5; fold++) {
      const inFold = y.map((_, i) => i % 5 === fold);
      const idx = (keep: boolean) =>
        tf.tensor1d(
          y.flatMap((_, i) => (inFold[i] === keep ? [i] : [])),
          'int32',
        );
      const [trainIdx, testIdx] = [idx(false), idx(true)];
      const model = logisticRegression(
        tf.gather(a, trainIdx),
        y.filter((_, i) => !inFold[i]),
        classes,
        c,
      );
      const predicted = model.predict(tf.gather(a, testIdx));
      y.filter((_, i) => inFold[i]).forEach(
        (label, i) => (correct += predicted[i] === label ? 1 : 0),
      );
      model.dispose();
    }
    if (correct / y.length > best.accuracy) best = { c, accuracy: correct / y.length };
  }
  const model = logisticRegression(a, y, classes, best.c);
  const predicted = model.predict(b);
  return test.filter((t, i) => predicted[i] === t.label).length / test.length;
}

async function exportedAccuracy(
  outDir: string,
  test: Labelled[],
  classes: string[],
): Promise<number> {
  const json = parseModelJson(readFileSync(join(outDir, 'model.json'), 'utf8'), outDir);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory(toArtifacts(json, [readFileSync(join(outDir, 'weights.bin'))])),
  );
  const metadata = JSON.parse(readFileSync(join(outDir, 'metadata.json'), 'utf8')) as {
    preprocessing: Parameters<typeof decodeImage>[1];
    labels: string[];
  };
  const pixels = await Promise.all(test.map((t) => decodeImage(t.path, metadata.preprocessing)));
  const batch = pixelsToBatch(pixels, metadata.preprocessing);
  const probabilities = predictAll(model, batch);
  batch.dispose();
  const k = metadata.labels.length;
  return (
    test.filter((t, i) => {
      const row = probabilities.subarray(i * k, (i + 1) * k);
      return metadata.labels[row.indexOf(Math.max(...row))] === classes[t.label];
    }).length / test.length
  );
}

async function main(): Promise<void> {
  // `--sets a,b` runs only those (hymenoptera included by name).
  const only = process.argv.find((a, i) => process.argv[i - 1] === '--sets')?.split(',');
  const root = mkdtempSync(join(tmpdir(), 'graft-quality-'));
  const sets: { name: string; train: string; test: string; classes: string[] }[] = [];
  for (const set of SYNTHETIC_SETS.filter((s) => !only || only.includes(s.name))) {
    const perClass = set.name === 'patterns' ? 60 : 30;
    await writeSyntheticSet(set, join(root, set.name, 'train'), perClass, 1);
    await writeSyntheticSet(set, join(root, set.name, 'test'), 20, 2);
    sets.push({
      name: set.name,
      train: join(root, set.name, 'train'),
      test: join(root, set.name, 'test'),
      classes: set.classes,
    });
  }
  const shared = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'hymenoptera');
  if (existsSync(shared) && (!only || only.includes('hymenoptera')))
    sets.push({
      name: 'hymenoptera',
      train: join(shared, 'train'),
      test: join(shared, 'val'),
      classes: ['ants', 'bees'],
    });
  const results = [];
  for (const set of sets) {
    const outDir = join(root, set.name, 'model');
    const trained = await trainFromFolder({
      dataDir: set.train,
      spec: {},
      outDir,
      config: loadConfig(),
    });
    const train = await listSet(set.train, set.classes);
    const test = await listSet(set.test, set.classes);
    const graft = await exportedAccuracy(outDir, test, set.classes);
    const rawPixels = await rawPixelBaseline(train, test, set.classes.length);
    const { report } = trained;
    results.push({
      set: set.name,
      trainImages: train.length,
      heldOutImages: test.length,
      graftHeldOutAccuracy: graft,
      rawPixelLogRegHeldOutAccuracy: rawPixels,
      gainPoints: Number(((graft - rawPixels) * 100).toFixed(1)),
      kept: report.kept,
      keptReason: report.keptReason,
      chosen: report.search.chosen,
      baselineChosen: report.baseline?.chosen ?? null,
      calibration: report.calibration,
      jobSeconds: trained.wallSeconds,
    });
    console.error(JSON.stringify(results.at(-1)));
  }
  console.log(JSON.stringify({ backend: tf.getBackend(), results }, null, 2));
}

await main();
