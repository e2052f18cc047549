import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * Base models downloaded from URLs, one folder per URL under the cache folder, each with a
 * manifest of its files' sizes and sha256. The cache keeps to a byte budget by evicting the
 * least recently used folders; the manifest's mtime is the last use. A folder is replaced or
 * evicted by renaming it away first, and a reader that finds a file gone or changed treats the
 * folder as missing, so nobody ever loads half a model.
 */

interface CacheManifest {
  url: string;
  fetchedAt: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

export const MANIFEST = 'graft-cache.json';
const STALE_MS = 60 * 60 * 1000;

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The folder a URL's files are kept in. */
export const cacheFolder = (cacheDir: string, url: string): string =>
  join(cacheDir, sha256(Buffer.from(url)).slice(0, 24));

/** Folders this process is reading or writing: its own eviction leaves them alone. */
const inUse = new Map<string, number>();

export async function usingFolder<T>(dir: string, use: () => Promise<T>): Promise<T> {
  inUse.set(dir, (inUse.get(dir) ?? 0) + 1);
  try {
    return await use();
  } finally {
    const count = (inUse.get(dir) ?? 1) - 1;
    if (count > 0) inUse.set(dir, count);
    else inUse.delete(dir);
  }
}

/** Every file of a cached model, each checked against its manifest, or undefined. */
export async function readCached(dir: string): Promise<Map<string, Uint8Array> | undefined> {
  try {
    const manifestPath = join(dir, MANIFEST);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as CacheManifest;
    const files = new Map<string, Uint8Array>();
    for (const [name, expected] of Object.entries(manifest.files)) {
      const bytes = await readFile(join(dir, name));
      if (bytes.byteLength !== expected.bytes || sha256(bytes) !== expected.sha256)
        return undefined;
      files.set(name, bytes);
    }
    const now = new Date();
    await utimes(manifestPath, now, now);
    return files;
  } catch {
    return undefined;
  }
}

/** Writes a model's files into a fresh folder and renames it into place. */
export async function writeCached(
  dir: string,
  url: string,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<void> {
  const staging = `${dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging, { recursive: true });
  try {
    const manifest: CacheManifest = { url, fetchedAt: new Date().toISOString(), files: {} };
    for (const [name, bytes] of files) {
      manifest.files[name] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
      await writeFile(join(staging, name), bytes);
    }
    await writeFile(join(staging, MANIFEST), JSON.stringify(manifest, null, 2));
    await removeFolder(dir);
    // Another worker may have put the same URL in place meanwhile: theirs is as good.
    await rename(staging, dir).catch(() => undefined);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function removeFolder(dir: string): Promise<void> {
  const away = `${dir}.evicting-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(dir, away);
  } catch {
    return;
  }
  await rm(away, { recursive: true, force: true });
}

interface CachedEntry {
  dir: string;
  bytes: number;
  lastUsed: number;
}

async function entry(dir: string): Promise<CachedEntry> {
  try {
    const manifestPath = join(dir, MANIFEST);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as CacheManifest;
    const bytes = Object.values(manifest.files).reduce((sum, file) => sum + file.bytes, 0);
    return { dir, bytes, lastUsed: (await stat(manifestPath)).mtimeMs };
  } catch {
    // No readable manifest: not a model anyone can use, first to go.
    return { dir, bytes: 0, lastUsed: 0 };
  }
}

/**
 * Evicts least recently used models until the cache holds at most `budgetBytes`, never one
 * this process is using. Leftovers of crashed downloads and evictions older than an hour go too.
 */
export async function evictToBudget(cacheDir: string, budgetBytes: number): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const entries: CachedEntry[] = [];
  for (const name of names) {
    const dir = join(cacheDir, name);
    if (/\.(partial|evicting)-/.test(name)) {
      const age = Date.now() - (await stat(dir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > STALE_MS) await rm(dir, { recursive: true, force: true });
      continue;
    }
    entries.push(await entry(dir));
  }
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  const evicted: string[] = [];
  for (const candidate of entries.sort((a, b) => a.lastUsed - b.lastUsed)) {
    if (total <= budgetBytes && candidate.lastUsed > 0) break;
    if (inUse.has(candidate.dir)) continue;
    await removeFolder(candidate.dir);
    total -= candidate.bytes;
    evicted.push(candidate.dir);
  }
  return evicted;
}
