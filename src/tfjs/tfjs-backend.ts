import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ORDER, type BackendName } from '../config/config.js';
import { registerWasmTrainingKernels } from './wasm-training-kernels.js';

export interface BackendAttempt {
  backend: BackendName;
  ok: boolean;
  reason?: string;
}

export interface BackendInfo {
  /** The backend Graft picked. */
  name: BackendName;
  /** tfjs's own name for it (`tensorflow` for both native builds). */
  tfjsBackend: string;
  /** Every backend tried, in order, with why the ones before `name` were passed over. */
  attempts: BackendAttempt[];
}

function hasNvidiaGpu(): boolean {
  const dir = '/proc/driver/nvidia/gpus';
  return existsSync(dir) && readdirSync(dir).length > 0;
}

function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * Loads an optional native binding by a computed name, so that bundlers and the TypeScript
 * compiler never require it to be installed (it cannot install without internet).
 */
async function importOptional(name: string): Promise<void> {
  await import(name);
}

async function activate(name: BackendName): Promise<void> {
  switch (name) {
    case 'tensorflow-gpu':
      if (!hasNvidiaGpu()) throw new Error('no NVIDIA GPU visible (/proc/driver/nvidia/gpus)');
      // tfjs-node-gpu otherwise reserves all GPU memory up front.
      process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
      await importOptional('@tensorflow/tfjs-node-gpu');
      break;
    case 'tensorflow':
      await importOptional('@tensorflow/tfjs-node');
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      break;
    case 'cpu':
      break;
  }
  const tfjsName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  if (!(await tf.setBackend(tfjsName))) throw new Error(`tfjs could not initialise '${tfjsName}'`);
  await tf.ready();
  if (name === 'wasm') registerWasmTrainingKernels();
}

let selected: BackendInfo | undefined;

/**
 * Picks the best tfjs backend present, or the forced one, once per process.
 * A forced backend that fails to start is an error: silently training 100x slower is worse.
 */
export async function selectBackend(forced?: BackendName): Promise<BackendInfo> {
  if (selected && (!forced || forced === selected.name)) return selected;
  const candidates = forced ? [forced] : BACKEND_ORDER;
  const attempts: BackendAttempt[] = [];
  for (const backend of candidates) {
    try {
      await activate(backend);
      attempts.push({ backend, ok: true });
      selected = { name: backend, tfjsBackend: tf.getBackend(), attempts };
      return selected;
    } catch (error) {
      attempts.push({ backend, ok: false, reason: errorMessage(error) });
    }
  }
  const tried = attempts.map((a) => `${a.backend}: ${a.reason ?? 'failed'}`).join('; ');
  throw new Error(`No tfjs backend could be started (${tried})`);
}
