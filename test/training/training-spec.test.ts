import { describe, expect, it } from 'vitest';
import {
  resolveTrainingSpec,
  TRAINING_SPEC_DEFAULTS,
  TrainingSpecError,
} from '../../src/contracts/training-spec.js';

describe('resolveTrainingSpec', () => {
  it('fills documented defaults', () => {
    expect(resolveTrainingSpec({})).toEqual(TRAINING_SPEC_DEFAULTS);
    expect(resolveTrainingSpec(undefined).fineTuning.learningRate).toBeLessThan(
      TRAINING_SPEC_DEFAULTS.featureExtraction.learningRate,
    );
  });

  it('rejects a fine-tuning learning rate that is not lower than the head rate, saying why', () => {
    const attempt = () =>
      resolveTrainingSpec({
        featureExtraction: { learningRate: 0.001 },
        fineTuning: { learningRate: 0.001 },
      });
    expect(attempt).toThrow(TrainingSpecError);
    expect(attempt).toThrow(
      /fineTuning\/learningRate must be lower than featureExtraction\.learningRate.*destroys the pretrained weights/,
    );
  });

  it('accepts a higher fine-tuning rate when fine-tuning is disabled', () => {
    const spec = resolveTrainingSpec({ fineTuning: { enabled: false, learningRate: 0.5 } });
    expect(spec.fineTuning.enabled).toBe(false);
  });

  it('lists every invalid field with its path', () => {
    try {
      resolveTrainingSpec({ featureExtraction: { epochs: 0 }, seed: 'x', colour: 'blue' });
      expect.unreachable();
    } catch (error) {
      const paths = (error as TrainingSpecError).issues.map((i) => i.path);
      expect(paths).toContain('/featureExtraction/epochs');
      expect(paths).toContain('/seed');
      expect(paths.some((p) => p === '/colour' || p === '')).toBe(true);
    }
  });

  it('refuses unfreezeLayers and unfreezeFrom together', () => {
    expect(() =>
      resolveTrainingSpec({ fineTuning: { unfreezeLayers: 3, unfreezeFrom: 'block_16_expand' } }),
    ).toThrow(/not both/);
  });
});
