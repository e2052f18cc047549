import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where uploaded images and trained models live. Keys are '/'-separated relative paths.
 * Local disk today; an S3-compatible store implements the same interface.
 */
export interface ArtifactStore {
  put(key: string, data: Uint8Array | string): Promise<void>;
  get(key: string): Promise<Buffer>;
  stream(key: string): Readable;
  exists(key: string): Promise<boolean>;
  /** Removes the key and everything below it. */
  remove(prefix: string): Promise<void>;
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

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Write then rename: readers never see a half-written file.
    const staging = `${path}.${process.pid}.partial`;
    await writeFile(staging, data);
    await rename(staging, path);
  }

  get(key: string): Promise<Buffer> {
    return readFile(this.path(key));
  }

  stream(key: string): Readable {
    return createReadStream(this.path(key));
  }

  exists(key: string): Promise<boolean> {
    return Promise.resolve(existsSync(this.path(key)));
  }

  async remove(prefix: string): Promise<void> {
    await rm(this.path(prefix), { recursive: true, force: true });
  }
}

export function artifactStoreFor(dataDir: string): ArtifactStore {
  return new LocalArtifactStore(join(dataDir, 'artifacts'));
}
