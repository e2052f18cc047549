import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { parseModelJson, toArtifacts } from '../training/model-artifacts.js';
import type { ArtifactStore } from './artifact-store.js';
import { evictToBudget, readCached, usingFolder, writeCached } from './base-model-cache.js';

/** A model's ONNX graph beside its tfjs files (written at training time or on export). */
export const ONNX_FILE = 'model.onnx';

/**
 * Trained models' files on local disk, for the machine that runs them: one folder per model
 * (`<dir>/<modelId>`), filled from the artifact store on first use and checked against its
 * manifest on every read, the least recently used evicted above a byte budget (the same
 * folder-and-manifest cache as base models, `base-model-cache.ts`). The store stays the only
 * copy that matters: losing this folder costs a download.
 */
export class ModelFileCache {
  constructor(
    private readonly store: ArtifactStore,
    private readonly dir: string,
    private readonly budgetBytes: number,
  ) {}

  /** A model id is a UUID; anything else (a test's name) is hashed into a safe folder name. */
  private folder(modelId: string): string {
    const safe = /^[A-Za-z0-9_-]{1,64}$/.test(modelId)
      ? modelId
      : createHash('sha256').update(modelId).digest('hex').slice(0, 32);
    return join(this.dir, safe);
  }

  /** The model's model.json and weight shards, from local disk, else from the store (then kept). */
  async artifacts(modelId: string, artifactKey: string): Promise<tf.io.ModelArtifacts> {
    return (await this.files(modelId, artifactKey)).artifacts;
  }

  /**
   * What serving needs: the tfjs artifacts, and the model's ONNX graph (`model.onnx`) if the
   * store has one. Both from local disk, else from the store (then kept).
   */
  async files(
    modelId: string,
    artifactKey: string,
  ): Promise<{ artifacts: tf.io.ModelArtifacts; onnx?: Uint8Array }> {
    const dir = this.folder(modelId);
    const files = await usingFolder(dir, async () => {
      const cached = await readCached(dir);
      if (cached) return cached;
      const fetched = await this.fetch(artifactKey);
      // A disk that fails to keep a copy costs a download next time, not this prediction.
      await writeCached(dir, artifactKey, fetched)
        .then(() => evictToBudget(this.dir, this.budgetBytes))
        .catch(() => undefined);
      return fetched;
    });
    const source = `${artifactKey}/model.json`;
    const json = parseModelJson(Buffer.from(files.get('model.json')!).toString('utf8'), source);
    const shards = json.weightsManifest.flatMap((group) => group.paths);
    const artifacts = toArtifacts(
      json,
      shards.map((path) => {
        const shard = files.get(path);
        if (!shard) throw new Error(`${source}: weight file ${path} is not cached`);
        return shard;
      }),
    );
    return { artifacts, onnx: files.get(ONNX_FILE) };
  }

  private async fetch(artifactKey: string): Promise<Map<string, Uint8Array>> {
    const source = `${artifactKey}/model.json`;
    const modelJson = await this.store.get(source);
    const json = parseModelJson(modelJson.toString('utf8'), source);
    const paths = [...new Set(json.weightsManifest.flatMap((group) => group.paths))];
    if (paths.some((path) => path.includes('..') || path.startsWith('/'))) {
      throw new Error(`${source} names a weight file outside its folder`);
    }
    const shards = await Promise.all(paths.map((path) => this.store.get(`${artifactKey}/${path}`)));
    const files = new Map<string, Uint8Array>([
      ['model.json', modelJson],
      ...paths.map((path, i) => [path, shards[i]!] as const),
    ]);
    // Models trained before ONNX Runtime served them have none: the inference thread converts.
    const onnx = `${artifactKey}/${ONNX_FILE}`;
    if (await this.store.exists(onnx)) files.set(ONNX_FILE, await this.store.get(onnx));
    return files;
  }

  /** Drops a model's local copy (it was deleted); the next use fetches it again. */
  async forget(modelId: string): Promise<void> {
    await rm(this.folder(modelId), { recursive: true, force: true });
  }
}
