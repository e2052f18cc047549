import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { trainFromFolder } from '../../src/services/folder-training.service.js';

// Real photos and a real ImageNet base, from ../shared beside the checkout (dev and CI); a
// user's fresh clone has neither, so this test skips there.
const DATA = resolve('../shared/datasets/hymenoptera');
const MODELS = resolve('../shared/models');
const available = existsSync(DATA) && existsSync(resolve(MODELS, 'mobilenet_v2_0.35_224_imagenet'));

describe.skipIf(!available)(
  'transfer learning on real photos (hymenoptera, MobileNetV2-0.35)',
  () => {
    it('reaches at least 0.90 validation accuracy with the default recipe and frees every tensor', async () => {
      const before = tf.memory().numTensors;
      const result = await trainFromFolder({
        dataDir: DATA,
        spec: { baseModel: 'mobilenet_v2_0.35' },
        config: loadConfig({ GRAFT_MODEL_MIRROR: MODELS, GRAFT_TFJS_BACKEND: 'wasm' }),
      });
      const { report } = result;
      expect(result.backend.name).toBe('wasm');
      expect(report.split).toEqual({
        method: 'given',
        train: 245,
        val: 153,
        droppedFromValidation: 0,
      });
      // One "ant" is a GIF placeholder of another size; it still decodes, nothing is skipped.
      expect(report.skipped).toEqual([]);
      const fine = report.phases.fineTuning!;
      expect(fine.history.length).toBeLessThanOrEqual(5);
      expect(fine.history.length).toBe(fine.stoppedEarly ? fine.bestEpoch + 2 : 5);
      expect(report.search.chosen.features[0]).toBe('top');
      expect(report.baseline!.transferGain).toBeGreaterThan(0.2);
      expect(report.kept).not.toBe('baseline');
      expect(report.evaluation.accuracy).toBeGreaterThanOrEqual(0.9);
      expect(report.evaluation.perClass.map((c) => c.label)).toEqual(['ants', 'bees']);
      expect(tf.memory().numTensors).toBe(before);
    });
  },
);
