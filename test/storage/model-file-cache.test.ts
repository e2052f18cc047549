import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalArtifactStore, type ArtifactStore } from '../../src/storage/artifact-store.js';
import { ModelFileCache } from '../../src/storage/model-file-cache.js';

const temp = (name: string) => mkdtempSync(join(tmpdir(), `graft-${name}-`));

/** A model's files as a run stores them: model.json naming one shard, and the shard. */
async function storeModel(store: ArtifactStore, key: string, weightBytes: number, fill: number) {
  const modelJson = {
    modelTopology: { class_name: 'Fake' },
    format: 'layers-model',
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [{ name: 'w', shape: [weightBytes / 4], dtype: 'float32' }],
      },
    ],
  };
  await store.put(`${key}/model.json`, JSON.stringify(modelJson));
  await store.put(`${key}/weights.bin`, new Uint8Array(weightBytes).fill(fill));
  await store.put(`${key}/metadata.json`, '{"labels":[]}');
}

/** Counts the store's reads, by key. */
function counting(store: ArtifactStore): { store: ArtifactStore; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    store: Object.assign(Object.create(store) as ArtifactStore, {
      get: (key: string) => {
        reads.push(key);
        return store.get(key);
      },
    }),
  };
}

const weights = (artifacts: { weightData?: unknown }) =>
  new Uint8Array(artifacts.weightData as ArrayBuffer);

describe('the local model file cache', () => {
  it('reads a model from the store once, then from disk, even after the store lost it', async () => {
    const inner = new LocalArtifactStore(temp('store'));
    await storeModel(inner, 'models/m1', 4096, 7);
    const { store, reads } = counting(inner);
    const dir = temp('model-files');
    const cache = new ModelFileCache(store, dir, 1024 ** 2);

    const first = await cache.artifacts('m1', 'models/m1');
    expect(reads.sort()).toEqual(['models/m1/model.json', 'models/m1/weights.bin']);
    expect(first.modelTopology).toEqual({ class_name: 'Fake' });
    expect(first.weightSpecs).toEqual([{ name: 'w', shape: [1024], dtype: 'float32' }]);
    expect(weights(first)).toEqual(new Uint8Array(4096).fill(7));
    // Only what inference needs is kept, with a manifest of sizes and hashes.
    expect(readdirSync(join(dir, 'm1')).sort()).toEqual([
      'graft-cache.json',
      'model.json',
      'weights.bin',
    ]);

    await inner.remove('models/m1');
    const again = await cache.artifacts('m1', 'models/m1');
    expect(reads).toHaveLength(2);
    expect(weights(again)).toEqual(weights(first));
  });

  it('fetches again when its copy is lost or damaged, and forgets a deleted model', async () => {
    const inner = new LocalArtifactStore(temp('store'));
    await storeModel(inner, 'models/m1', 4096, 7);
    const { store, reads } = counting(inner);
    const dir = temp('model-files');
    const cache = new ModelFileCache(store, dir, 1024 ** 2);
    await cache.artifacts('m1', 'models/m1');

    // A flipped byte fails the manifest's hash: the store's copy is read again.
    writeFileSync(join(dir, 'm1', 'weights.bin'), new Uint8Array(4096).fill(8));
    expect(weights(await cache.artifacts('m1', 'models/m1'))).toEqual(new Uint8Array(4096).fill(7));
    expect(reads).toHaveLength(4);

    await cache.forget('m1');
    expect(existsSync(join(dir, 'm1'))).toBe(false);
    await cache.artifacts('m1', 'models/m1');
    expect(reads).toHaveLength(6);
  });

  it('keeps to its byte budget, least recently used first', async () => {
    const store = new LocalArtifactStore(temp('store'));
    for (const [i, id] of ['a', 'b', 'c'].entries())
      await storeModel(store, `models/${id}`, 40_000, i);
    const dir = temp('model-files');
    // Room for two models of ~40 kB, not three.
    const cache = new ModelFileCache(store, dir, 100_000);
    await cache.artifacts('a', 'models/a');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.artifacts('b', 'models/b');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.artifacts('a', 'models/a'); // a is now the more recently used
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.artifacts('c', 'models/c');
    expect(readdirSync(dir).sort()).toEqual(['a', 'c']);
  });

  it('names a folder safely whatever the model id, and fails when the store has no model', async () => {
    const store = new LocalArtifactStore(temp('store'));
    await storeModel(store, 'models/m1', 400, 1);
    const dir = temp('model-files');
    const cache = new ModelFileCache(store, dir, 1024 ** 2);
    await cache.artifacts('../escape', 'models/m1');
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/)]);
    await expect(cache.artifacts('gone', 'models/gone')).rejects.toThrow();
    expect(readdirSync(dir)).toHaveLength(1);
  });
});
