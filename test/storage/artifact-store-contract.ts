import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ArtifactStore, StoredEntry } from '../../src/storage/artifact-store.js';

/** Bytes that tell their parts apart (a part sent twice or out of order changes the hash). */
const bigBody = (bytes: number) => randomBytes(bytes);
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Reads a stream to its end, or to its error. */
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `data` in chunks of `chunk` bytes, its length unknown to the reader. */
const chunked = (data: Buffer, chunk = 256 * 1024) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += chunk) yield data.subarray(at, at + chunk);
    })(),
  );

export interface ContractOptions {
  /**
   * Bytes of the "large" objects: the S3 store's tests use more than its part size, so puts go
   * up in several parts.
   */
  largeBytes?: number;
  /** Keys the many-keys removal writes: more than the store's delete batch and list page. */
  manyKeys?: number;
}

/**
 * What every ArtifactStore must do, whatever it stores on. A new backend (S3) runs these
 * against itself: `describeArtifactStore('s3', () => …)`. Each test gets an empty store.
 */
export function describeArtifactStore(
  name: string,
  emptyStore: () => Promise<ArtifactStore>,
  { largeBytes = 11 * 1024 ** 2, manyKeys = 60 }: ContractOptions = {},
) {
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

    it('rejects a missing key like a missing file (ENOENT), and says it does not exist', async () => {
      const store = await emptyStore();
      await store.put('models/m1/model.json', '{}');
      await expect(store.get('models/m1/weights.bin')).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(readAll(store.stream('models/m1/weights.bin'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
      expect(await store.exists('models/m1/weights.bin')).toBe(false);
      expect(await store.exists('models/m2')).toBe(false);
      // A prefix with keys below it exists, as a folder does.
      expect(await store.exists('models/m1')).toBe(true);
      await store.remove('models/m9'); // removing nothing is no error
      expect(await store.exists('models/m1/model.json')).toBe(true);
    });

    it('removes a prefix, not keys that merely start with its name', async () => {
      const store = await emptyStore();
      await store.put('datasets/d1/a/x.jpg', 'x');
      await store.put('datasets/d1/b.jpg', 'b');
      await store.put('datasets/d10/c.jpg', 'c');
      await store.put('datasets/d1.txt', 't');
      await store.remove('datasets/d1/');
      expect(byKey(await store.list('datasets'))).toEqual([
        { key: 'datasets/d1.txt', kind: 'object' },
        { key: 'datasets/d10', kind: 'prefix' },
      ]);
      await store.remove('datasets/d1.txt');
      expect(await store.exists('datasets/d1.txt')).toBe(false);
      expect(await store.exists('datasets/d10/c.jpg')).toBe(true);
    });

    it('removes a prefix with many keys below it, at every depth', async () => {
      const store = await emptyStore();
      const keys = Array.from(
        { length: manyKeys },
        (_, i) => `datasets/big/${i % 3 ? 'deep/' : ''}${String(i).padStart(5, '0')}.jpg`,
      );
      for (let at = 0; at < keys.length; at += 50) {
        await Promise.all(keys.slice(at, at + 50).map((key) => store.put(key, key)));
      }
      await store.put('datasets/keep/a.jpg', 'a');
      const top = await store.list('datasets/big');
      expect(top.filter((entry) => entry.kind === 'object')).toHaveLength(Math.ceil(manyKeys / 3));
      expect(top.filter((entry) => entry.kind === 'prefix').map((entry) => entry.key)).toEqual([
        'datasets/big/deep',
      ]);
      await store.remove('datasets/big');
      expect(await store.list('datasets/big')).toEqual([]);
      expect(byKey(await store.list('datasets'))).toEqual([
        { key: 'datasets/keep', kind: 'prefix' },
      ]);
    });

    it('puts and reads back large bodies whole, from bytes and from streams', async () => {
      const store = await emptyStore();
      const data = bigBody(largeBytes);
      await store.put('models/big/weights.bin', data);
      expect(sha(await store.get('models/big/weights.bin'))).toBe(sha(data));
      expect(sha(await readAll(store.stream('models/big/weights.bin')))).toBe(sha(data));
      // A stream of unknown length, and one whose size is told.
      await store.putStream('exports/a.zip', chunked(data));
      expect(sha(await store.get('exports/a.zip'))).toBe(sha(data));
      await store.putStream('exports/b.zip', chunked(data.subarray(0, 1000)), 1000);
      expect((await store.get('exports/b.zip')).equals(data.subarray(0, 1000))).toBe(true);
      await store.putStream('exports/empty', Readable.from([]), 0);
      expect((await store.get('exports/empty')).length).toBe(0);
      // Putting again replaces.
      await store.put('models/big/weights.bin', 'small now');
      expect((await store.get('models/big/weights.bin')).toString()).toBe('small now');
    });

    it('keeps nothing of a stream put that failed', async () => {
      const store = await emptyStore();
      const failing = Readable.from(
        (async function* () {
          yield bigBody(64 * 1024);
          await Promise.resolve();
          throw new Error('the upload went away');
        })(),
      );
      await expect(store.putStream('datasets/d1/a.jpg', failing)).rejects.toThrow(/went away/);
      expect(await store.exists('datasets/d1/a.jpg')).toBe(false);
      expect(await store.removeUnfinishedWrites(new Date(Date.now() + 60_000))).toBe(0);
    });

    it('lets a reader stop reading a stream early', async () => {
      const store = await emptyStore();
      await store.put('models/big/weights.bin', bigBody(largeBytes));
      const stream = store.stream('models/big/weights.bin');
      for await (const chunk of stream) {
        expect((chunk as Buffer).length).toBeGreaterThan(0);
        break; // destroys the stream
      }
      expect(stream.destroyed).toBe(true);
    });

    it('refuses keys that escape it', async () => {
      const store = await emptyStore();
      await expect(store.list('../..')).rejects.toThrow(/escapes the store/);
      await expect(store.put('a/../../x', 'x')).rejects.toThrow(/escapes the store/);
      await expect(store.get('../x')).rejects.toThrow(/escapes the store/);
      // '.' and '..' inside the store resolve as paths do.
      await store.put('a/./b/../c.txt', 'c');
      expect((await store.get('a/c.txt')).toString()).toBe('c');
    });

    it('finds no unfinished writes after puts that finished, and keeps what they wrote', async () => {
      const store = await emptyStore();
      await store.put('datasets/d1/a.jpg', 'pixels');
      expect(await store.removeUnfinishedWrites(new Date(Date.now() + 60_000))).toBe(0);
      expect((await store.get('datasets/d1/a.jpg')).toString()).toBe('pixels');
    });
  });
}
