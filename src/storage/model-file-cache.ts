import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { parseModelJson, toArtifacts } from '../training/model-artifacts.js';
import type { ArtifactStore } from './artifact-store.js';
import { evictToBudget, readCached, usingFolder, writeCached } from './base-model-cache.js';

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
    return toArtifacts(
      json,
      shards.map((path) => {
        const shard = files.get(path);
        if (!shard) throw new Error(`${source}: weight file ${path} is not cached`);
        return shard;
      }),
    );
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
    return new Map<string, Uint8Array>([
      ['model.json', modelJson],
      ...paths.map((path, i) => [path, shards[i]!] as const),
    ]);
  }

  /** Drops a model's local copy (it was deleted); the next use fetches it again. */
  async forget(modelId: string): Promise<void> {
    await rm(this.folder(modelId), { recursive: true, force: true });
  }
}
