import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceService } from '../../src/inference/inference.service.js';
import type { Logger } from '../../src/observability/logger.js';
import { decodeImage } from '../../src/storage/image-decoder.js';
import type { Preprocessing } from '../../src/training/base-model-catalog.js';
import { modelToArtifacts, serializeArtifacts } from '../../src/training/model-artifacts.js';
import { injectClient } from '../client/graft-client.js';
import { photo } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { trainColourModel } from '../helpers/trained-model.js';

/*
 * Predictions through ONNX Runtime (GRAFT_ONNX=auto) and through tfjs (off) agree within 1e-4
 * for the same trained model, from its stored model.onnx or from a graph converted on load; a
 * model ONNX Runtime cannot take (a layer the converter refuses, a damaged model.onnx) still
 * predicts, on tfjs, and says why.
 */

const TOLERANCE = 1e-4;

let h: Harness;
let ref: { id: string; artifactKey: string; preprocessing: Preprocessing };
let decoded: Uint8Array[];
/** Fresh copies: predict() transfers its images to the inference thread. */
const pixels = () => decoded.map((image) => image.slice());
const warnings: string[] = [];
const logger = { warn: (_fields: unknown, message?: string) => void warnings.push(message ?? '') };

beforeAll(async () => {
  h = await startHarness({ worker: true });
  const api = injectClient(h.app, await h.newKey('acme'));
  const { modelId } = await trainColourModel(api);
  const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
  ref = {
    id: modelId,
    artifactKey: row.artifactKey,
    preprocessing: row.preprocessing as unknown as Preprocessing,
  };
  const colours: [number, number, number][] = [
    [215, 35, 45],
    [35, 55, 215],
    [120, 130, 90],
  ];
  decoded = await Promise.all(
    colours.map(async (rgb, i) => decodeImage(await photo(rgb, 90 + i), ref.preprocessing)),
  );
});

afterAll(async () => {
  await h?.close();
});

function runner(onnx: 'auto' | 'off') {
  return new InferenceService({ ...h.config, engines: { ...h.config.engines, onnx } }, h.store, {
    cacheBytes: 512 * 1024 ** 2,
    maxBatch: 8,
    logger: logger as unknown as Logger,
  });
}

async function withRunners<T>(
  use: (ort: InferenceService, tfjs: InferenceService) => Promise<T>,
): Promise<T> {
  const [ort, tfjs] = [runner('auto'), runner('off')];
  try {
    return await use(ort, tfjs);
  } finally {
    await Promise.all([ort.close(), tfjs.close()]);
  }
}

function expectClose(actual: Float32Array[], expected: Float32Array[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, i) => {
    const want = expected[i]!;
    expect(row).toHaveLength(want.length);
    const worst = Math.max(...Array.from(row, (v, j) => Math.abs(v - want[j]!)));
    expect(worst).toBeLessThan(TOLERANCE);
    expect(row.indexOf(Math.max(...row))).toBe(want.indexOf(Math.max(...want)));
  });
}

async function copyModel(fromKey: string, toKey: string, names: string[]) {
  for (const name of names)
    await h.store.put(`${toKey}/${name}`, await h.store.get(`${fromKey}/${name}`));
}

describe('serving through ONNX Runtime', () => {
  it('predicts what tfjs predicts (within 1e-4), from the stored model.onnx or a graph converted on load', async () => {
    // A model trained before training wrote model.onnx: the inference thread converts it.
    const converted = { ...ref, id: 'no-stored-onnx', artifactKey: 'models/no-stored-onnx' };
    await copyModel(ref.artifactKey, converted.artifactKey, ['model.json', 'weights.bin']);
    await withRunners(async (ort, tfjs) => {
      const expected = await tfjs.predict(ref, pixels());
      expectClose(await ort.predict(ref, pixels()), expected);
      expectClose(await ort.predict(converted, pixels()), expected);
      // One image alone scores as it does in a batch.
      expectClose(await ort.predict(ref, pixels().slice(1, 2)), expected.slice(1, 2));
      const held = await ort.cachedModels();
      // Training stored the model's graph beside it (src/services/transfer-run.ts).
      expect(
        held.map(({ id, engine, onnxGraph, fallback }) => [id, engine, onnxGraph, fallback]),
      ).toEqual([
        [ref.id, 'onnxruntime', 'stored', undefined],
        [converted.id, 'onnxruntime', 'converted', undefined],
      ]);
      expect(held.every((model) => model.bytes > 100_000)).toBe(true);
      expect((await tfjs.cachedModels()).map((model) => model.engine)).toEqual(['tfjs']);
    });
    expect(warnings).toEqual([]);
  });

  it('keeps a model ONNX Runtime cannot take on tfjs, with the reason, and its predictions right', async () => {
    // A layer the converter refuses (a recurrent one), in a model that is otherwise fine.
    const pre: Preprocessing = { size: 8, resize: 'fill', valueRange: [0, 1], channelOrder: 'RGB' };
    const model = tf.sequential({
      layers: [
        tf.layers.reshape({ inputShape: [8, 8, 3], targetShape: [8, 24] }),
        tf.layers.simpleRNN({ units: 4, kernelInitializer: 'glorotNormal' }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const { modelJson, weights } = serializeArtifacts(await modelToArtifacts(model));
    const rnn = { id: 'rnn', artifactKey: 'models/rnn', preprocessing: pre };
    await h.store.put(`${rnn.artifactKey}/model.json`, modelJson);
    await h.store.put(`${rnn.artifactKey}/weights.bin`, weights);
    const images = [0, 1].map((seed) =>
      Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 31 + seed * 97) % 256),
    );
    const input = tf.tensor4d(
      Float32Array.from(
        images.flatMap((image) => [...image]),
        (v) => v / 255,
      ),
      [2, 8, 8, 3],
    );
    const output = model.predict(input) as tf.Tensor;
    const values = output.dataSync() as Float32Array;
    const expected = [values.slice(0, 2), values.slice(2, 4)];
    tf.dispose([input, output]);
    model.dispose();

    // A damaged model.onnx beside a model that converts: converted on load instead.
    const damaged = { ...ref, id: 'damaged-onnx', artifactKey: 'models/damaged-onnx' };
    await copyModel(ref.artifactKey, damaged.artifactKey, ['model.json', 'weights.bin']);
    await h.store.put(`${damaged.artifactKey}/model.onnx`, 'not a protobuf at all');

    await withRunners(async (ort, tfjs) => {
      expectClose(await ort.predict(rnn, images), expected);
      expectClose(await ort.predict(damaged, pixels()), await tfjs.predict(ref, pixels()));
      const held = await ort.cachedModels();
      expect(held.find((m) => m.id === 'rnn')).toMatchObject({
        engine: 'tfjs',
        fallback: expect.stringMatching(/SimpleRNN/) as string,
      });
      expect(held.find((m) => m.id === 'damaged-onnx')).toMatchObject({
        engine: 'onnxruntime',
        onnxGraph: 'converted',
      });
    });
    expect(warnings).toEqual([expect.stringMatching(/^model rnn runs on tfjs: .*SimpleRNN/)]);
  });
});
