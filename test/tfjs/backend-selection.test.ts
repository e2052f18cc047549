import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';

describe('selectBackend', () => {
  it('falls through tfjs-node-gpu and tfjs-node to wasm here, and says why', async () => {
    const info = await selectBackend();
    const native = info.attempts.filter((a) => a.backend.startsWith('tensorflow'));
    // This machine has neither native binding (they need internet to install) nor a GPU.
    expect(native.map((a) => a.ok)).toEqual([false, false]);
    native.forEach((a) => expect(a.reason).toBeTruthy());
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.attempts.at(-1)).toEqual({ backend: 'wasm', ok: true });
  });

  it('honours a forced backend', async () => {
    const info = await selectBackend('cpu');
    expect(info).toMatchObject({ name: 'cpu', tfjsBackend: 'cpu' });
    expect(info.attempts).toEqual([{ backend: 'cpu', ok: true }]);
  });

  it('fails loudly when a forced backend cannot start', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow(/tensorflow: .*tfjs-node/);
  });

  it('reads GRAFT_TFJS_BACKEND and rejects unknown names', () => {
    expect(loadConfig({ GRAFT_TFJS_BACKEND: 'wasm' }).tfjsBackend).toBe('wasm');
    expect(loadConfig({}).tfjsBackend).toBeUndefined();
    expect(() => loadConfig({ GRAFT_TFJS_BACKEND: 'webgpu' })).toThrow(ConfigError);
  });
});
