import onnxProto from 'onnx-proto';
import { ONNX_CONVERTER_VERSION, type OnnxGraph } from './layers-to-onnx.js';

const { onnx } = onnxProto;

export class OnnxModelUnreadable extends Error {
  override name = 'OnnxModelUnreadable';
}

/** A stored graph's interface, and which converter wrote it (its ModelProto's producerVersion). */
export interface StoredOnnxGraph extends OnnxGraph {
  /** `ONNX_CONVERTER_VERSION` of the converter that wrote it; '' when it says none. */
  producerVersion: string;
}

/** A dimension as a number, or -1 where the graph leaves it open (the batch axis). */
function dims(value: InstanceType<typeof onnx.ValueInfoProto>): number[] {
  const shape = value.type?.tensorType?.shape?.dim ?? [];
  return shape.map((dim) =>
    dim.dimValue === null || dim.dimValue === undefined ? -1 : Number(dim.dimValue),
  );
}

/**
 * Reads a stored model.onnx's interface (its first non-initializer input, its outputs), so a
 * graph saved beside a model can be run and documented without converting the model again.
 * Shapes drop the batch axis, as `OnnxGraph` has them.
 */
export function describeOnnxModel(bytes: Uint8Array): StoredOnnxGraph {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OnnxModelUnreadable(`not an ONNX model: ${reason}`);
  }
  const graph = model.graph;
  const initializers = new Set((graph?.initializer ?? []).map((tensor) => tensor.name));
  const inputs = (graph?.input ?? []).filter((input) => !initializers.has(input.name ?? ''));
  const input = inputs[0] as InstanceType<typeof onnx.ValueInfoProto> | undefined;
  const outputs = (graph?.output ?? []) as InstanceType<typeof onnx.ValueInfoProto>[];
  if (!input || outputs.length === 0) {
    throw new OnnxModelUnreadable('the ONNX model has no input or no output');
  }
  const inputShape = dims(input).slice(1);
  if (inputShape.length !== 3 || inputShape.some((dim) => dim <= 0)) {
    throw new OnnxModelUnreadable(
      `the ONNX model's input is [${dims(input).join(', ')}], not [n, height, width, channels]`,
    );
  }
  return {
    bytes,
    producerVersion: model.producerVersion ?? '',
    inputName: input.name,
    inputShape,
    outputNames: outputs.map((output) => output.name),
    outputShapes: outputs.map((output) => dims(output).slice(1)),
  };
}

/**
 * The stored graph, if this build's converter wrote it: one written by another converter
 * version (or none, or unreadable) may carry a bug fixed since, and is converted again.
 */
export function currentOnnxModel(bytes: Uint8Array): StoredOnnxGraph | undefined {
  try {
    const graph = describeOnnxModel(bytes);
    return graph.producerVersion === ONNX_CONVERTER_VERSION ? graph : undefined;
  } catch (error) {
    if (error instanceof OnnxModelUnreadable) return undefined;
    throw error;
  }
}
