import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import { BASE_DOWNLOAD_DEFAULTS } from '../config/config.js';
import {
  BASE_MODEL_CATALOG,
  DEFAULT_BASE_ID,
  findBaseModel,
  type BaseModelEntry,
} from '../training/base-model-catalog.js';
import { parseModelJson, toArtifacts } from '../training/model-artifacts.js';
import {
  cacheFolder,
  evictToBudget,
  readCached,
  sha256,
  usingFolder,
  writeCached,
} from './base-model-cache.js';
import { downloadModel, failureReason } from './base-model-download.js';
import type { DownloadLimits } from './fenced-download.js';
import { readLayersModelDir } from './layers-model-files.js';
import type { FenceTestOptions, UrlPolicy } from './url-fence.js';

export interface BaseModelStoreOptions {
  /** GRAFT_MODEL_MIRROR: a folder holding `<mirrorName>/model.json` copies of catalog bases. */
  mirrorDir?: string;
  /** Where weights fetched from URLs are kept. */
  cacheDir: string;
  /**
   * Who named the base. 'tenant' (an API job, the default): catalog ids, and https URLs on
   * `allowHosts` within the fence. 'operator' (the CLI): also local folders and any http(s) URL.
   */
  trust?: 'tenant' | 'operator';
  /** Hosts a tenant's URL may name (GRAFT_ALLOW_BASE_URLS); empty: none. */
  allowHosts?: readonly string[];
  /** Caps on a download; unset ones take BASE_DOWNLOAD_DEFAULTS. */
  limits?: Partial<Omit<DownloadLimits, 'maxRedirects'>>;
  /** Byte budget of the download cache; least recently used models are evicted beyond it. */
  cacheBytes?: number;
  /** Test-only: a local https server, a test CA, a fake resolver. Never set from the environment. */
  fence?: FenceTestOptions;
}

export interface ResolvedBaseModel {
  entry: BaseModelEntry;
  artifacts: tf.io.ModelArtifacts;
  /** Where the weights were actually read from (mirror dir, cache dir, npm package…). */
  loadedFrom: string;
}

/**
 * A base model that cannot be used. Its message is for the user who named it; `detail`, when
 * set, says what the network answered and is for the server's log only.
 */
export class BaseModelError extends Error {
  override name = 'BaseModelError';
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

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

function offlineAdvice(entry: BaseModelEntry | undefined): string {
  const mirror = entry?.mirrorName
    ? `set GRAFT_MODEL_MIRROR to a folder holding ${entry.mirrorName}/model.json (a copy of that URL's files), `
    : '';
  return `If this machine is offline: ${mirror}pass a local folder with model.json as the base, or use the offline default '${DEFAULT_BASE_ID}'.`;
}

const MAX_REDIRECTS = 3;

function downloadLimits(options: BaseModelStoreOptions): DownloadLimits {
  const limits = { ...BASE_DOWNLOAD_DEFAULTS, ...options.limits, maxRedirects: MAX_REDIRECTS };
  // A model the cache could not hold is refused rather than evicting everything for it.
  const cacheBytes = options.cacheBytes ?? BASE_DOWNLOAD_DEFAULTS.cacheBytes;
  return { ...limits, maxModelBytes: Math.min(limits.maxModelBytes, cacheBytes) };
}

function urlPolicy(options: BaseModelStoreOptions, entry: BaseModelEntry | undefined): UrlPolicy {
  // A catalog entry's own host is trusted for that entry, whatever the allow-list says.
  const catalogHost = entry?.source.kind === 'url' ? [new URL(entry.source.url).hostname] : [];
  return {
    ...options.fence,
    trust: options.trust ?? 'tenant',
    allowHosts: [...catalogHost, ...(options.allowHosts ?? [])],
  };
}

async function loadFromUrl(
  url: string,
  entry: BaseModelEntry | undefined,
  options: BaseModelStoreOptions,
): Promise<{ artifacts: tf.io.ModelArtifacts; dir: string }> {
  const dir = cacheFolder(options.cacheDir, url);
  const limits = downloadLimits(options);
  const files = await usingFolder(dir, async () => {
    const cached = await readCached(dir);
    if (cached) return cached;
    const pinned = entry?.source.kind === 'url' ? entry.source.pinned : undefined;
    let downloaded: Map<string, Uint8Array>;
    try {
      downloaded = await downloadModel(url, urlPolicy(options, entry), limits, pinned);
      await writeCached(dir, url, downloaded);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const what = entry ? `'${entry.id}' at ${url}` : `at ${url}`;
      const message = `the base model ${what} could not be downloaded: ${failureReason(error, limits)}`;
      throw new BaseModelError(
        [
          message + (options.trust === 'operator' ? ` (${detail})` : ''),
          ...(entry ? [offlineAdvice(entry)] : []),
        ].join('. '),
        detail,
      );
    }
    const budget = options.cacheBytes ?? BASE_DOWNLOAD_DEFAULTS.cacheBytes;
    // Over budget for a while is better than failing a job that has its model.
    await evictToBudget(options.cacheDir, budget).catch(() => undefined);
    return downloaded;
  });
  const json = parseModelJson(Buffer.from(files.get('model.json')!).toString('utf8'), url);
  const shards = json.weightsManifest.flatMap((group) => group.paths).map((p) => files.get(p)!);
  return { artifacts: toArtifacts(json, shards), dir };
}

/** Anything with a scheme: for a tenant, only https:// gets past the fence. */
const URL_LIKE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * Resolves a base reference — a catalog id, an https:// URL of a model.json, and for an
 * operator also a local folder, a file:// or http:// URL — to its catalog entry and weights.
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
  const operator = options.trust === 'operator';
  if (operator ? /^https?:\/\//i.test(reference) : URL_LIKE.test(reference)) {
    const { artifacts, dir } = await loadFromUrl(reference, undefined, options);
    // No graft-base.json here: preprocessing from a downloaded file is not to be trusted.
    return {
      entry: customEntry(reference, { kind: 'url', url: reference }),
      artifacts,
      loadedFrom: dir,
    };
  }
  const known = BASE_MODEL_CATALOG.map((e) => e.id).join(', ');
  if (!operator) {
    throw new BaseModelError(
      `Unknown base model '${reference}': not a catalog id (${known}) nor an https:// URL`,
    );
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
  throw new BaseModelError(
    `Unknown base model '${reference}': not a catalog id (${known}), nor a folder with model.json, nor a file:// or https:// URL`,
  );
}
