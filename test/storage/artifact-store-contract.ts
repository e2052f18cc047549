import { describe, expect, it } from 'vitest';
import type { ArtifactStore, StoredEntry } from '../../src/storage/artifact-store.js';

/**
 * What every ArtifactStore must do, whatever it stores on. A new backend (S3) runs these
 * against itself: `describeArtifactStore('s3', () => …)`. Each test gets an empty store.
 */
export function describeArtifactStore(name: string, emptyStore: () => Promise<ArtifactStore>) {
  const byKey = (entries: StoredEntry[]) =>
    [...entries].sort((a, b) => a.key.localeCompare(b.key)).map(({ key, kind }) => ({ key, kind }));

  describe(`the ${name} artifact store`, () => {
    it('gives back what was put, and removes a key with everything below it', async () => {
      const store = await emptyStore();
      await store.put('a/b/c.txt', 'hello');
      await store.put('a/d.bin', new Uint8Array([1, 2, 3]));
      expect((await store.get('a/b/c.txt')).toString()).toBe('hello');
      expect([...(await store.get('a/d.bin'))]).toEqual([1, 2, 3]);
      expect(await store.exists('a/b/c.txt')).toBe(true);
      await store.remove('a/b');
      expect(await store.exists('a/b/c.txt')).toBe(false);
      expect(await store.exists('a/d.bin')).toBe(true);
    });

    it('lists the immediate children of a prefix: objects, and prefixes with keys below', async () => {
      const store = await emptyStore();
      await store.put('models/m1/model.json', '{}');
      await store.put('models/m1/weights/group1.bin', 'w');
      await store.put('models/m2/model.json', '{}');
      await store.put('models/readme.txt', 'r');
      await store.put('other/x', 'x');
      const expected = [
        { key: 'models/m1', kind: 'prefix' },
        { key: 'models/m2', kind: 'prefix' },
        { key: 'models/readme.txt', kind: 'object' },
      ];
      expect(byKey(await store.list('models'))).toEqual(expected);
      expect(byKey(await store.list('models/'))).toEqual(expected);
      expect(byKey(await store.list('models/m1'))).toEqual([
        { key: 'models/m1/model.json', kind: 'object' },
        { key: 'models/m1/weights', kind: 'prefix' },
      ]);
      expect(byKey(await store.list(''))).toEqual([
        { key: 'models', kind: 'prefix' },
        { key: 'other', kind: 'prefix' },
      ]);
    });

    it('lists nothing under a prefix that holds nothing, or under an object', async () => {
      const store = await emptyStore();
      expect(await store.list('')).toEqual([]);
      expect(await store.list('checkpoints')).toEqual([]);
      await store.put('checkpoints/j1/state.json', '{}');
      expect(await store.list('checkpoints/j1/state.json')).toEqual([]);
      await store.remove('checkpoints/j1');
      expect(await store.list('checkpoints')).toEqual([]);
    });

    it('dates each child by its last write; a prefix by the newest write below it', async () => {
      const store = await emptyStore();
      // File systems and object stores keep coarser times than Date.now(): allow a second.
      const before = Date.now() - 1000;
      await store.put('models/m1/model.json', '{}');
      await store.put('models/m1/deep/down/weights.bin', 'w');
      const after = Date.now() + 1000;
      const [m1] = await store.list('models');
      expect(m1?.modifiedAt).toBeInstanceOf(Date);
      expect(m1!.modifiedAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(m1!.modifiedAt.getTime()).toBeLessThanOrEqual(after);
      const children = await store.list('models/m1');
      const newestChild = Math.max(...children.map((entry) => entry.modifiedAt.getTime()));
      expect(m1!.modifiedAt.getTime()).toBeGreaterThanOrEqual(newestChild);
    });

    it('finds no unfinished writes after puts that finished, and keeps what they wrote', async () => {
      const store = await emptyStore();
      await store.put('datasets/d1/a.jpg', 'pixels');
      expect(await store.removeUnfinishedWrites(new Date(Date.now() + 60_000))).toBe(0);
      expect((await store.get('datasets/d1/a.jpg')).toString()).toBe('pixels');
    });
  });
}
