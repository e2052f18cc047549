import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import {
  BASE_MODEL_CATALOG,
  DEFAULT_BASE_ID,
  findBaseModel,
  type BaseModelEntry,
} from '../training/base-model-catalog.js';
import { parseModelJson, toArtifacts } from '../training/model-artifacts.js';
import { readLayersModelDir } from './layers-model-files.js';

export interface BaseModelStoreOptions {
  /** GRAFT_MODEL_MIRROR: a folder holding `<mirrorName>/model.json` copies of catalog bases. */
  mirrorDir?: string;
  /** Where weights fetched from URLs are kept. */
  cacheDir: string;
  fetchImpl?: typeof fetch;
  /** Per-request timeout for downloads. */
  timeoutMs?: number;
}

export interface ResolvedBaseModel {
  entry: BaseModelEntry;
  artifacts: tf.io.ModelArtifacts;
  /** Where the weights were actually read from (mirror dir, cache dir, npm package…). */
  loadedFrom: string;
}

export class BaseModelError extends Error {
  override name = 'BaseModelError';
}

interface CacheManifest {
  url: string;
  fetchedAt: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function customEntry(reference: string, source: BaseModelEntry['source']): BaseModelEntry {
  return {
    id: reference,
    description: `LayersModel from ${reference}`,
    architecture: 'custom',
    // Unknown bases get the most common convention; a graft-base.json beside model.json overrides.
    preprocessing: { size: 224, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' },
    source,
    license: 'unknown (user supplied)',
    trainedOn: 'unknown (user supplied)',
    featureLayer: '',
    cutLayers: [],
    unfreezePoints: [],
    defaultUnfreezeFrom: '',
  };
}

async function withDescriptor(entry: BaseModelEntry, dir: string): Promise<BaseModelEntry> {
  const path = join(dir, 'graft-base.json');
  if (!existsSync(path)) return entry;
  const descriptor = JSON.parse(await readFile(path, 'utf8')) as Partial<BaseModelEntry>;
  return {
    ...entry,
    ...descriptor,
    preprocessing: { ...entry.preprocessing, ...descriptor.preprocessing },
    id: entry.id,
    source: entry.source,
  };
}

/** models/ at the top of the checkout (or of the installed package). */
const BUNDLED_MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

/** A model committed under models/, each file checked against its pinned size and sha256. */
export async function loadBundled(
  dir: string,
  pinned: Record<string, { bytes: number; sha256: string }>,
): Promise<{ artifacts: tf.io.ModelArtifacts; dir: string }> {
  for (const [name, expected] of Object.entries(pinned)) {
    const bytes = await readFile(join(dir, name)).catch(() => undefined);
    if (!bytes || bytes.byteLength !== expected.bytes || sha256(bytes) !== expected.sha256)
      throw new BaseModelError(
        `the bundled base model file ${join(dir, name)} is ${bytes ? 'damaged (size or sha256 differs)' : 'missing'}: restore it from the repository (git checkout -- models/)`,
      );
  }
  return { artifacts: await readLayersModelDir(dir), dir };
}

/** nsfwjs ships its models as UMD scripts: the topology object and base64 weight shards. */
function loadNsfwjsArtifacts(model: string): { artifacts: tf.io.ModelArtifacts; dir: string } {
  const require = createRequire(import.meta.url);
  const dist = resolve(dirname(require.resolve('nsfwjs')), '..');
  const dir = join(dist, 'models', model);
  const json = parseModelJson(JSON.stringify(require(join(dir, 'model.min.js'))), dir);
  const shards = json.weightsManifest
    .flatMap((group) => group.paths)
    .map((path) => Buffer.from(require(join(dir, `${path}.min.js`)) as string, 'base64'));
  return { artifacts: toArtifacts(json, shards), dir };
}

async function fetchBytes(url: string, options: BaseModelStoreOptions): Promise<Uint8Array> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const response = await fetchImpl(url, {
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const declared = response.headers.get('content-length');
  if (declared !== null && response.headers.get('content-encoding') === null) {
    if (Number(declared) !== bytes.byteLength) {
      throw new Error(`${url}: got ${bytes.byteLength} bytes, expected ${declared}`);
    }
  }
  return bytes;
}

async function verifiedCache(dir: string): Promise<CacheManifest | undefined> {
  const manifestPath = join(dir, 'graft-cache.json');
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as CacheManifest;
  for (const [name, expected] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    if (!existsSync(path) || (await stat(path)).size !== expected.bytes) return undefined;
    if (sha256(await readFile(path)) !== expected.sha256) return undefined;
  }
  return manifest;
}

/**
 * Downloads model.json and its shards into a fresh folder, checks sizes and any pinned
 * sha256, records every file's size + sha256, then renames the folder into place so that
 * concurrent workers never see half a model.
 */
async function downloadToCache(
  url: string,
  dir: string,
  pinned: Record<string, { bytes: number; sha256: string }> | undefined,
  options: BaseModelStoreOptions,
): Promise<void> {
  const staging = `${dir}.partial-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    const files: CacheManifest['files'] = {};
    const save = async (name: string, bytes: Uint8Array): Promise<void> => {
      const expected = pinned?.[name];
      const digest = sha256(bytes);
      if (expected && (expected.bytes !== bytes.byteLength || expected.sha256 !== digest)) {
        throw new Error(`${name} from ${url} does not match its pinned size/sha256`);
      }
      files[name] = { bytes: bytes.byteLength, sha256: digest };
      await writeFile(join(staging, name), bytes);
    };
    const modelJsonBytes = await fetchBytes(url, options);
    const json = parseModelJson(Buffer.from(modelJsonBytes).toString('utf8'), url);
    await save('model.json', modelJsonBytes);
    for (const path of json.weightsManifest.flatMap((group) => group.paths)) {
      if (path.includes('/') || path.includes('\\') || path.startsWith('.')) {
        throw new Error(`${url} names a weight file outside its folder: ${path}`);
      }
      await save(path, await fetchBytes(new URL(path, url).toString(), options));
    }
    const manifest: CacheManifest = { url, fetchedAt: new Date().toISOString(), files };
    await writeFile(join(staging, 'graft-cache.json'), JSON.stringify(manifest, null, 2));
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function offlineAdvice(entry: BaseModelEntry | undefined): string {
  const mirror = entry?.mirrorName
    ? `set GRAFT_MODEL_MIRROR to a folder holding ${entry.mirrorName}/model.json (a copy of that URL's files), `
    : '';
  return `If this machine is offline: ${mirror}pass a local folder with model.json as the base, or use the offline default '${DEFAULT_BASE_ID}'.`;
}

async function loadFromUrl(
  url: string,
  entry: BaseModelEntry | undefined,
  options: BaseModelStoreOptions,
): Promise<{ artifacts: tf.io.ModelArtifacts; dir: string }> {
  const dir = join(options.cacheDir, sha256(Buffer.from(url)).slice(0, 24));
  if (!(await verifiedCache(dir))) {
    const pinned = entry?.source.kind === 'url' ? entry.source.pinned : undefined;
    try {
      await downloadToCache(url, dir, pinned, options);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BaseModelError(
        `Could not download base model ${entry ? `'${entry.id}' ` : ''}from ${url}: ${reason}. ${offlineAdvice(entry)}`,
      );
    }
  }
  return { artifacts: await readLayersModelDir(dir), dir };
}

/**
 * Resolves a base reference — a catalog id, a local folder, a file:// or https:// URL of a
 * model.json — to its catalog entry and weights.
 */
export async function loadBaseModel(
  reference: string,
  options: BaseModelStoreOptions,
): Promise<ResolvedBaseModel> {
  const entry = findBaseModel(reference);
  if (entry) {
    const mirrored =
      options.mirrorDir && entry.mirrorName && join(options.mirrorDir, entry.mirrorName);
    if (mirrored && existsSync(join(mirrored, 'model.json'))) {
      return { entry, artifacts: await readLayersModelDir(mirrored), loadedFrom: mirrored };
    }
    switch (entry.source.kind) {
      case 'npm': {
        const { artifacts, dir } = loadNsfwjsArtifacts(entry.source.model);
        return { entry, artifacts, loadedFrom: dir };
      }
      case 'bundled': {
        const { artifacts, dir } = await loadBundled(
          join(BUNDLED_MODELS, entry.source.folder),
          entry.source.pinned,
        );
        return { entry, artifacts, loadedFrom: dir };
      }
      case 'url': {
        const { artifacts, dir } = await loadFromUrl(entry.source.url, entry, options);
        return { entry, artifacts, loadedFrom: dir };
      }
      case 'local':
        return {
          entry,
          artifacts: await readLayersModelDir(entry.source.dir),
          loadedFrom: entry.source.dir,
        };
    }
  }
  if (/^https?:\/\//.test(reference)) {
    const { artifacts, dir } = await loadFromUrl(reference, undefined, options);
    const custom = await withDescriptor(
      customEntry(reference, { kind: 'url', url: reference }),
      dir,
    );
    return { entry: custom, artifacts, loadedFrom: dir };
  }
  const dir = reference.startsWith('file://') ? fileURLToPath(reference) : resolve(reference);
  const folder = dir.endsWith('model.json') ? dirname(dir) : dir;
  if (existsSync(join(folder, 'model.json'))) {
    const custom = await withDescriptor(
      customEntry(reference, { kind: 'local', dir: folder }),
      folder,
    );
    return { entry: custom, artifacts: await readLayersModelDir(folder), loadedFrom: folder };
  }
  const known = BASE_MODEL_CATALOG.map((e) => e.id).join(', ');
  throw new BaseModelError(
    `Unknown base model '${reference}': not a catalog id (${known}), nor a folder with model.json, nor a file:// or https:// URL`,
  );
}
