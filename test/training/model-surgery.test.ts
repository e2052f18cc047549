import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import {
  disposeModelWeights,
  lastFeatureMapLayer,
  planCut,
  rebuildTop,
  validUnfreezePoints,
} from '../../src/training/model-surgery.js';
import { createTinyBase, TINY_SIZE } from '../helpers/tiny-base.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('model surgery', () => {
  it('finds only the layers fed by a single tensor that nothing later reads around', () => {
    const base = createTinyBase();
    const points = validUnfreezePoints(base, 'out_relu');
    expect(points).toContain('block_1_expand'); // its input also feeds block_1_add: still one tensor
    expect(points).toContain('block_2_expand');
    expect(points).toContain('Conv_1');
    expect(points).not.toContain('block_1_depthwise_BN'); // block_1_add reads the block input around it
    expect(points).not.toContain('block_1_project');
    disposeModelWeights(base);
  });

  it('maps unfreezeLayers to the nearest cut that trains at least that many layers', () => {
    const base = createTinyBase();
    const names = base.layers.map((l) => l.name);
    const plan = planCut(base, 'out_relu', { unfreezeLayers: 4 });
    expect(plan.topLayers).toHaveLength(4);
    expect(
      planCut(base, 'out_relu', { unfreezeLayers: 9 }).topLayers.length,
    ).toBeGreaterThanOrEqual(9);
    expect(plan.unfreezeFrom).toBe('block_2_project_BN'); // exactly 4: it, Conv_1, Conv_1_bn, out_relu
    expect(names.indexOf(plan.unfreezeFrom)).toBeLessThan(names.indexOf('out_relu'));
    expect(planCut(base, 'out_relu', { unfreezeLayers: 3 }).unfreezeFrom).toBe('Conv_1');
    disposeModelWeights(base);
  });

  it('refuses a layer that cannot start fine-tuning, listing valid ones', () => {
    const base = createTinyBase();
    expect(() => planCut(base, 'out_relu', { unfreezeFrom: 'block_1_project' })).toThrow(
      /cannot unfreeze from 'block_1_project'.*valid: .*Conv_1/,
    );
    expect(() => planCut(base, 'out_relu', { unfreezeFrom: 'nope' })).toThrow(
      /cannot unfreeze from 'nope'/,
    );
    expect(() => planCut(base, 'missing', {})).toThrow(/no layer named 'missing'/);
    disposeModelWeights(base);
  });

  it('rebuilt top on cached activations computes what the whole base computes', () => {
    const base = createTinyBase();
    const plan = planCut(base, 'out_relu', { unfreezeFrom: 'block_1_expand' });
    const bottom = tf.model({ inputs: base.inputs, outputs: plan.boundary! });
    const top = rebuildTop(plan.boundary!, plan.features);
    const topModel = tf.model({ inputs: top.input, outputs: top.output });
    tf.tidy(() => {
      const x = tf.randomNormal([2, TINY_SIZE, TINY_SIZE, 3], 0, 1, 'float32', 5);
      const whole = (base.predict(x) as tf.Tensor).dataSync();
      const split = (topModel.predict(bottom.predict(x) as tf.Tensor) as tf.Tensor).dataSync();
      split.forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 5));
    });
    expect(lastFeatureMapLayer(base)).toBe('out_relu');
    disposeModelWeights(base);
  });
});
