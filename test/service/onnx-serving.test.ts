import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InferenceService } from '../../src/inference/inference.service.js';
import type { Logger } from '../../src/observability/logger.js';
import { ONNX_CONVERTER_VERSION } from '../../src/onnx/layers-to-onnx.js';
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
 * model ONNX Runtime cannot take (a layer the converter refuses, a damaged model.onnx, a stored
 * graph an older converter wrote, a session that fails a batch) still predicts, on tfjs or on a
 * fresh conversion, and says why. Sessions are counted at more than their file's bytes, and no
 * more than 16 live at once.
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

beforeEach(() => {
  warnings.length = 0;
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

type ModelProto = InstanceType<typeof onnxProto.onnx.ModelProto>;

/** A copy of the trained model whose stored model.onnx is the trained one, edited. */
async function withEditedOnnx(id: string, edit: (model: ModelProto) => void) {
  const copy = { ...ref, id, artifactKey: `models/${id}` };
  await copyModel(ref.artifactKey, copy.artifactKey, ['model.json', 'weights.bin']);
  const model = onnxProto.onnx.ModelProto.decode(
    await h.store.get(`${ref.artifactKey}/model.onnx`),
  );
  edit(model);
  await h.store.put(
    `${copy.artifactKey}/model.onnx`,
    Buffer.from(onnxProto.onnx.ModelProto.encode(model).finish()),
  );
  return copy;
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

describe('serving through ONNX Runtime, when it goes wrong', () => {
  it('trusts a stored model.onnx only from this converter version, else converts the model again', async () => {
    expect(
      onnxProto.onnx.ModelProto.decode(await h.store.get(`${ref.artifactKey}/model.onnx`))
        .producerVersion,
    ).toBe(ONNX_CONVERTER_VERSION);
    // As if an older converter had a bug: its graph scores the classes wrongly.
    const stale = await withEditedOnnx('stale-onnx', (model) => {
      model.producerVersion = 'graft-onnx/0';
      const bias = model.graph!.initializer!.find(
        (tensor) =>
          tensor.dataType === onnxProto.onnx.TensorProto.DataType.FLOAT &&
          tensor.dims?.length === 1 &&
          Number(tensor.dims[0]) === 2,
      )!;
      bias.rawData = new Uint8Array(Float32Array.from([30, -30]).buffer);
    });
    await withRunners(async (ort, tfjs) => {
      expectClose(await ort.predict(stale, pixels()), await tfjs.predict(ref, pixels()));
      expect((await ort.cachedModels()).find((m) => m.id === stale.id)).toMatchObject({
        engine: 'onnxruntime',
        onnxGraph: 'converted',
      });
    });
    expect(warnings).toEqual([]);
  });

  it('moves a model whose session fails a batch to tfjs, answers that batch there, and says why once', async () => {
    // A stored graph that takes one image at a time: the warm-up passes, a batch of 3 fails.
    const single = await withEditedOnnx('single-image-onnx', (model) => {
      for (const value of [...model.graph!.input!, ...model.graph!.output!])
        value.type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    });
    await withRunners(async (ort, tfjs) => {
      const expected = await tfjs.predict(ref, pixels());
      expectClose(await ort.predict(single, pixels().slice(0, 1)), expected.slice(0, 1));
      // A wrong request is refused as such; it does not count against the session.
      await expect(ort.predict(single, [new Uint8Array(5)])).rejects.toThrow(/image 0 has 5 bytes/);
      expect((await ort.cachedModels())[0]).toMatchObject({
        engine: 'onnxruntime',
        onnxGraph: 'stored',
      });
      expectClose(await ort.predict(single, pixels()), expected);
      const [held] = await ort.cachedModels();
      expect(held).toMatchObject({
        id: single.id,
        engine: 'tfjs',
        fallback: expect.stringMatching(/^ONNX Runtime failed a batch: /) as string,
      });
      // It stays there: later batches neither fail nor go back to ONNX Runtime.
      expectClose(await ort.predict(single, pixels()), expected);
      expect((await ort.cachedModels()).map((m) => m.engine)).toEqual(['tfjs']);
    });
    expect(warnings).toEqual([
      expect.stringMatching(/^model single-image-onnx runs on tfjs: ONNX Runtime failed a batch/),
    ]);
  });

  it('counts a session above its file size and keeps at most 16 sessions, least recently used out', async () => {
    const MAX_SESSIONS = 16; // inference.thread.ts
    const copies = Array.from({ length: MAX_SESSIONS + 1 }, (_, i) => ({
      ...ref,
      id: `session-${i}`,
      artifactKey: `models/session-${i}`,
    }));
    for (const copy of copies)
      await copyModel(ref.artifactKey, copy.artifactKey, [
        'model.json',
        'weights.bin',
        'model.onnx',
      ]);
    const file = (await h.store.get(`${ref.artifactKey}/model.onnx`)).byteLength;
    const ort = runner('auto');
    try {
      for (const copy of copies) await ort.predict(copy, pixels().slice(0, 1));
      const held = await ort.cachedModels();
      expect(held.map((m) => m.id).sort()).toEqual(
        copies
          .slice(1)
          .map((copy) => copy.id)
          .sort(),
      );
      for (const model of held) {
        expect(model.engine).toBe('onnxruntime');
        expect(model.bytes).toBeGreaterThan(file + 4 * 1024 ** 2);
      }
    } finally {
      await ort.close();
    }
  });
});
