import { resolve } from 'node:path';
import { BACKEND_ORDER, isBackendName, type BackendName } from '../tfjs/tfjs-backend.js';

/** Every setting Graft reads from the environment, parsed once. */
export interface Config {
  /** Forces a tfjs backend instead of picking the best one present. */
  tfjsBackend?: BackendName;
  /** Folder with local copies of catalog bases (`<mirrorName>/model.json`). */
  modelMirror?: string;
  dataDir: string;
  modelCacheDir: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const backend = env.GRAFT_TFJS_BACKEND?.trim() || undefined;
  if (backend !== undefined && !isBackendName(backend)) {
    throw new ConfigError(
      `GRAFT_TFJS_BACKEND='${backend}' is not one of: ${BACKEND_ORDER.join(', ')}`,
    );
  }
  const dataDir = resolve(env.GRAFT_DATA_DIR?.trim() || './data');
  const mirror = env.GRAFT_MODEL_MIRROR?.trim();
  return {
    ...(backend !== undefined ? { tfjsBackend: backend } : {}),
    ...(mirror ? { modelMirror: resolve(mirror) } : {}),
    dataDir,
    modelCacheDir: resolve(dataDir, 'model-cache'),
  };
}
