import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { parseModelJson, toArtifacts } from '../training/model-artifacts.js';

/** Reads model.json and its weight shards from a directory (tfjs can't without tfjs-node). */
export async function readLayersModelDir(dir: string): Promise<tf.io.ModelArtifacts> {
  const modelPath = join(dir, 'model.json');
  const json = parseModelJson(await readFile(modelPath, 'utf8'), modelPath);
  const paths = json.weightsManifest.flatMap((group) => group.paths);
  const files = await Promise.all(paths.map((path) => readFile(join(dir, path))));
  return toArtifacts(json, files);
}
