import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, type Dirent } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageSettings } from '../config/config.js';
import { S3ArtifactStore, s3ClientFor } from './s3-artifact-store.js';

/** One child of a prefix, as `ArtifactStore.list` gives it. */
export interface StoredEntry {
  /** Its whole key: `list('models')` gives `models/<id>`. */
  key: string;
  /** `prefix`: keys lie below it (a folder; S3's common prefix); `object`: stored bytes. */
  kind: 'object' | 'prefix';
  /** When it was last written; for a prefix, the newest write anywhere below it. */
  modifiedAt: Date;
}

/**
 * Where uploaded images and trained models live. Keys are '/'-separated relative paths.
 * Local disk today; an S3-compatible store implements the same interface.
 */
export interface ArtifactStore {
  put(key: string, data: Uint8Array | string): Promise<void>;
  /**
   * Puts what `body` gives until it ends; `size`, when known, is a hint (S3 picks part sizes
   * with it). Like `put`, readers see the whole object or none.
   */
  putStream(key: string, body: Readable, size?: number): Promise<void>;
  /** Rejects with `code` 'ENOENT' when nothing is stored under the key. */
  get(key: string): Promise<Buffer>;
  /** Fails (an 'error' event) with `code` 'ENOENT' when nothing is stored under the key. */
  stream(key: string): Readable;
  /** True for a stored object, and for a prefix with keys below it. */
  exists(key: string): Promise<boolean>;
  /** Removes the key and everything below it. */
  remove(prefix: string): Promise<void>;
  /**
   * The immediate children of `prefix` ('' for the top), in no order; none when nothing is
   * stored there. An S3 store lists every key below the prefix (no delimiter) and folds them into children.
   */
  list(prefix: string): Promise<StoredEntry[]>;
  /**
   * Removes writes that never finished (their writer died mid-put) begun before `olderThan`,
   * and says how many. Local disk: staging files; S3: incomplete multipart uploads.
   */
  removeUnfinishedWrites(olderThan: Date): Promise<number>;
}

/**
 * The local store's staging folder: writes land here, then move into place. One folder, so
 * what a killed writer leaves is found without walking the store; never a key's first part.
 */
const STAGING = '.staging';

/** Nothing there: no such file or folder, or a file where a folder would be. */
export const isMissing = (error: unknown) => {
  const { code } = error as { code?: unknown };
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/** The newest modification time of a file or folder and everything below it. */
async function newestWrite(path: string): Promise<number> {
  const stats = await lstat(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of await readdir(path)) {
    newest = Math.max(newest, await newestWrite(join(path, entry)).catch(() => 0));
  }
  return newest;
}

export class LocalArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const path = resolve(this.root, ...key.split('/'));
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new Error(`artifact key escapes the store: ${key}`);
    }
    return path;
  }

  put(key: string, data: Uint8Array | string): Promise<void> {
    return this.write(key, (staging) => writeFile(staging, data));
  }

  async putStream(key: string, body: Readable, _size?: number): Promise<void> {
    try {
      await this.write(key, (staging) => pipeline(body, createWriteStream(staging)));
    } catch (error) {
      body.destroy(); // nobody else reads what a failed put was given
      throw error;
    }
  }

  private async write(key: string, save: (staging: string) => Promise<void>): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Write then rename: readers never see a half-written file.
    const staging = join(this.root, STAGING, `${randomUUID()}.partial`);
    await mkdir(dirname(staging), { recursive: true });
    try {
      await save(staging);
      await rename(staging, path);
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  stream(key: string): Readable {
    return createReadStream(this.path(key));
  }

  async exists(key: string): Promise<boolean> {
    return existsSync(this.path(key));
  }

  async remove(prefix: string): Promise<void> {
    await rm(this.path(prefix), { recursive: true, force: true });
  }

  async list(prefix: string): Promise<StoredEntry[]> {
    const parts = prefix.split('/').filter(Boolean);
    let children: Dirent[];
    try {
      children = await readdir(this.path(parts.join('/')), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const entries: StoredEntry[] = [];
    for (const child of children) {
      if (parts.length === 0 && child.name === STAGING) continue;
      const key = [...parts, child.name].join('/');
      // A child removed while being looked at is simply not listed.
      const modified = await newestWrite(this.path(key)).catch(() => undefined);
      if (modified === undefined) continue;
      const kind = child.isDirectory() ? 'prefix' : 'object';
      entries.push({ key, kind, modifiedAt: new Date(modified) });
    }
    return entries;
  }

  async removeUnfinishedWrites(olderThan: Date): Promise<number> {
    const staging = join(this.root, STAGING);
    let names: string[];
    try {
      names = await readdir(staging);
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
    let removed = 0;
    for (const name of names) {
      const stats = await lstat(join(staging, name)).catch(() => undefined);
      if (!stats || stats.mtimeMs >= olderThan.getTime()) continue;
      await rm(join(staging, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}

/** The store GRAFT_STORAGE_URL names (`config.storage`): a folder, or an S3 bucket and prefix. */
export function artifactStoreFor(storage: StorageSettings): ArtifactStore {
  switch (storage.kind) {
    case 'file':
      return new LocalArtifactStore(storage.root);
    case 's3':
      return new S3ArtifactStore({
        client: s3ClientFor(storage),
        bucket: storage.bucket,
        prefix: storage.prefix,
      });
  }
}
