import { parseModelJson } from '../training/model-artifacts.js';
import { sha256, MANIFEST } from './base-model-cache.js';
import { DownloadFailed, fencedDownload, type DownloadLimits } from './fenced-download.js';
import { UrlRefused, type UrlPolicy } from './url-fence.js';

/** What is wrong with the model itself; its message is safe to show the user who named it. */
export class ModelRefused extends Error {
  override name = 'ModelRefused';
}

type Pinned = Record<string, { bytes: number; sha256: string }>;

/** Names a weight file may not have: outside its folder, or one of the folder's own files. */
const RESERVED = new Set(['model.json', MANIFEST, 'graft-base.json']);
const badWeightPath = (path: string) =>
  !path || path.includes('/') || path.includes('\\') || path.startsWith('.') || RESERVED.has(path);

/**
 * Downloads a model.json and the weight files it names, within the fence and the limits: at
 * most `maxFiles` weight files, `maxFileBytes` each and `maxModelBytes` in all, pinned sizes and
 * sha256 checked. Returns every file's bytes by name, model.json first.
 */
export async function downloadModel(
  url: string,
  policy: UrlPolicy,
  limits: DownloadLimits,
  pinned: Pinned | undefined,
): Promise<Map<string, Uint8Array>> {
  const budget = { remaining: limits.maxModelBytes };
  const files = new Map<string, Uint8Array>();
  const modelJson = await fencedDownload(url, policy, limits, budget);
  let paths: string[];
  try {
    const json = parseModelJson(Buffer.from(modelJson).toString('utf8'), url);
    paths = [...new Set(json.weightsManifest.flatMap((group) => group.paths))];
  } catch {
    throw new ModelRefused('it is not a valid LayersModel model.json');
  }
  if (paths.length > limits.maxFiles) {
    throw new ModelRefused(`its model.json names more than ${limits.maxFiles} weight files`);
  }
  if (paths.some(badWeightPath)) {
    throw new ModelRefused('its model.json names a weight file outside its folder');
  }
  files.set('model.json', modelJson);
  for (const path of paths) {
    files.set(path, await fencedDownload(new URL(path, url).href, policy, limits, budget));
  }
  for (const [name, expected] of Object.entries(pinned ?? {})) {
    const bytes = files.get(name);
    if (!bytes || bytes.byteLength !== expected.bytes || sha256(bytes) !== expected.sha256) {
      throw new ModelRefused(`${name} does not match its pinned size and sha256`);
    }
  }
  return files;
}

const MiB = 1024 ** 2;
const size = (bytes: number) => (bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`);

/**
 * Why a download failed, in words for the user who named the URL: what they can change, never
 * what the network answered (a status, a timeout or a refused connection all read the same).
 */
export function failureReason(error: unknown, limits: DownloadLimits): string {
  if (error instanceof ModelRefused) return error.message;
  if ((error as NodeJS.ErrnoException).code === 'ERR_INVALID_URL') return 'it is not a valid URL';
  if (error instanceof UrlRefused) {
    switch (error.reason) {
      case 'scheme':
        return 'only https:// URLs are allowed';
      case 'credentials':
        return 'URLs with a user name or password are not allowed';
      case 'port':
        return 'only port 443, or 1024 and above, is allowed';
      case 'host':
      case 'address':
        return 'the host is not allowed';
    }
  }
  if (error instanceof DownloadFailed) {
    switch (error.kind) {
      case 'unreachable':
        return 'it is unreachable or not found';
      case 'redirects':
        return `it redirects more than ${limits.maxRedirects} times`;
      case 'file_too_large':
        return `one of its files is larger than ${size(limits.maxFileBytes)}`;
      case 'model_too_large':
        return `it is larger than ${size(limits.maxModelBytes)}`;
    }
  }
  return 'it could not be stored on the server (try again later)';
}
