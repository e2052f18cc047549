import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { resolveTrainingSpec } from '../contracts/training-spec.js';
import { listImageFolder } from '../storage/image-folder.js';
import type { BackendInfo } from '../tfjs/tfjs-backend.js';
import type { TrainingProgress, TrainingReport } from '../training/training-types.js';
import { runTransfer } from './transfer-run.js';
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
  const examples = await listImageFolder(options.dataDir);
  const outDir = options.outDir;
  if (outDir) await mkdir(outDir, { recursive: true });
  const result = await runTransfer(
    {
      spec,
      config: options.config,
      examples,
      readImage: (key) => join(options.dataDir, key),
      onProgress: options.onProgress,
      signal: options.signal,
      ...(outDir ? { writeArtifact: (name, data) => writeFile(join(outDir, name), data) } : {}),
    },
    // The CLI's user runs the server: local folders and any URL are theirs to name.
    { trust: 'operator' },
  );
  return { ...result, wallSeconds: (performance.now() - started) / 1000 };
}
