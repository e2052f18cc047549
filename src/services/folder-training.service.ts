import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config/config.js';
import { resolveTrainingSpec } from '../contracts/training-spec.js';
import { loadBaseModel } from '../storage/base-model-store.js';
import { decodeImage } from '../storage/image-decoder.js';
import { listImageFolder } from '../storage/image-folder.js';
import { DEFAULT_BASE_ID } from '../training/base-model-catalog.js';
import { disposeModelWeights } from '../training/model-surgery.js';
import type { TrainingProgress, TrainingReport } from '../training/training-types.js';
import { trainTransferModel } from '../training/transfer-training.js';
import { selectBackend, type BackendInfo } from '../tfjs/tfjs-backend.js';

export interface FolderTrainingOptions {
  dataDir: string;
  /** Raw spec (from a file or the API); validated here. */
  spec: unknown;
  outDir?: string;
  config: Config;
  onProgress?: (progress: TrainingProgress) => void;
  signal?: AbortSignal;
}

export interface FolderTrainingResult {
  report: TrainingReport;
  backend: BackendInfo;
  loadedFrom: string;
  wallSeconds: number;
}

/** Trains on an image folder with the best backend present: what `npm run train` runs. */
export async function trainFromFolder(
  options: FolderTrainingOptions,
): Promise<FolderTrainingResult> {
  const started = performance.now();
  const spec = resolveTrainingSpec(options.spec);
  const backend = await selectBackend(options.config.tfjsBackend);
  const resolved = await loadBaseModel(spec.baseModel ?? DEFAULT_BASE_ID, {
    mirrorDir: options.config.modelMirror,
    cacheDir: options.config.modelCacheDir,
  });
  const examples = await listImageFolder(options.dataDir);
  const base = await tf.loadLayersModel(tf.io.fromMemory(resolved.artifacts));
  const outDir = options.outDir;
  if (outDir) await mkdir(outDir, { recursive: true });
  let disposed = false;
  try {
    const { report, classifier } = await trainTransferModel({
      base,
      entry: resolved.entry,
      examples,
      loadPixels: (key) => decodeImage(join(options.dataDir, key), resolved.entry.preprocessing),
      spec,
      backend: backend.name,
      onProgress: options.onProgress,
      signal: options.signal,
      ...(outDir ? { writeArtifact: (name, data) => writeFile(join(outDir, name), data) } : {}),
    });
    disposeModelWeights(classifier, base);
    disposed = true;
    return {
      report,
      backend,
      loadedFrom: resolved.loadedFrom,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (!disposed) disposeModelWeights(base);
  }
}
