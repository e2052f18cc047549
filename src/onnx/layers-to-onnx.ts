import type * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';

/*
 * A tfjs LayersModel (or any set of tensors inside one) as an ONNX graph, for ONNX Runtime.
 *
 * Keras keeps images NHWC, ONNX's Conv and pooling want NCHW: the graph transposes its NHWC
 * input once, keeps every rank-4 tensor NCHW inside, and transposes rank-4 outputs back, so
 * callers see exactly the shapes tfjs gives. TensorFlow's `same` padding puts the odd pixel
 * at the end (bottom/right); it is written as explicit pads computed from the static input
 * size. A BatchNormalization right after a convolution is folded into the convolution's
 * weights (in float64, then rounded once); elsewhere it becomes ONNX's BatchNormalization.
 * A layer this file does not know is refused with OnnxConversionError naming it: callers then
 * stay on tfjs.
 */

const { onnx } = onnxProto;

export class OnnxConversionError extends Error {
  override name = 'OnnxConversionError';
}

/** A LayersModel (or part of one) as an ONNX graph: NHWC float32 in, NHWC/plain outputs. */
export interface OnnxGraph {
  /** The serialised ModelProto. */
  bytes: Uint8Array;
  inputName: string;
  /** Input shape without the batch axis: [height, width, channels]. */
  inputShape: number[];
  /** One per requested output, in order. */
  outputNames: string[];
  /** Output shapes without the batch axis, as tfjs gives them (rank-4 tensors NHWC). */
  outputShapes: number[][];
}

export interface ConvertOptions {
  /** Tensors of the model's graph to expose as outputs (default: the model's outputs). */
  outputs?: readonly tf.SymbolicTensor[];
  /** The graph's name in the ModelProto. */
  name?: string;
}

export const ONNX_OPSET = 13;
/**
 * Written as every graph's producerVersion. Raise it whenever a change here changes the
 * graphs this file writes: a stored model.onnx of another version is converted again.
 */
export const ONNX_CONVERTER_VERSION = 'graft-onnx/1';
const INPUT_NAME = 'input';
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

type Attr = number | number[] | string;

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  name: string;
}

interface Initializer {
  dims: number[];
  /** float32 values, or int64 values when `int64` is set. */
  values: Float32Array | number[];
  int64?: boolean;
}

/** A tensor of the ONNX graph; rank-4 tensors are NCHW inside the graph. */
interface Value {
  name: string;
  /** The Keras (NHWC) shape, batch first. */
  shape: (number | null)[];
}

type Config = Record<string, unknown>;

/** Keras's dim ordering names for 2-D pairs ([h, w]) given as a number or a pair. */
function pair(value: unknown, what: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number'))
    return [value[0] as number, value[1] as number];
  throw new OnnxConversionError(`${what} must be a number or a pair, got ${JSON.stringify(value)}`);
}

function paddingOf(value: unknown): string {
  if (typeof value !== 'string')
    throw new OnnxConversionError(`padding ${JSON.stringify(value)} is not supported`);
  return value;
}

/**
 * TensorFlow's padding for one spatial axis: `same` pads so that out = ceil(in / stride), the
 * odd pixel after (bottom/right); `valid` pads nothing.
 */
export function tfPadding(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: string,
): [number, number] {
  if (padding === 'valid') return [0, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Initializer>();
  private counter = 0;

  unique(base: string): string {
    return `${base.replace(/[^A-Za-z0-9_./-]/g, '_')}__${this.counter++}`;
  }

  constant(base: string, dims: number[], values: Float32Array | number[], int64 = false): string {
    const name = this.unique(base);
    this.initializers.set(name, { dims, values, ...(int64 ? { int64 } : {}) });
    return name;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, base = op): string {
    const output = this.unique(base);
    this.nodes.push({ op, inputs, outputs: [output], attrs, name: output });
    return output;
  }
}

const isFourD = (value: Value) => value.shape.length === 4;

function weightsOf(layer: tf.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => w.dataSync() as Float32Array);
}

/** The NCHW axis of a Keras (NHWC) axis of a rank-4 tensor. */
function nchwAxis(axis: number, rank: number): number {
  const a = axis < 0 ? rank + axis : axis;
  return rank === 4 ? [0, 2, 3, 1][a]! : a;
}

class Converter {
  readonly g = new GraphBuilder();

  constructor(private readonly input: tf.SymbolicTensor) {}

  /** The graph value of a tensor, converting whatever it depends on first. */
  valueOf(tensor: tf.SymbolicTensor, scope: Map<number, Value>): Value {
    const known = scope.get(tensor.id);
    if (known) return known;
    const layer = tensor.sourceLayer;
    const node = layer.inboundNodes[tensor.nodeIndex];
    if (!node || node.inboundLayers.length === 0) {
      throw new OnnxConversionError(
        `tensor '${tensor.name}' comes from an input other than the model's first input`,
      );
    }
    const inputs = node.inputTensors.map((t) => this.valueOf(t, scope));
    const value = isLayersModel(layer)
      ? this.nested(layer, inputs, tensor)
      : this.layer(layer, inputs, tensor, node.callArgs);
    scope.set(tensor.id, value);
    return value;
  }

  private activation(name: string | undefined, x: string, rank: number, base: string): string {
    const g = this.g;
    switch (name ?? 'linear') {
      case 'linear':
        return x;
      case 'relu':
        return g.node('Relu', [x], {}, base);
      case 'relu6':
        return this.clip(x, 0, 6, base);
      case 'sigmoid':
        return g.node('Sigmoid', [x], {}, base);
      case 'tanh':
        return g.node('Tanh', [x], {}, base);
      case 'elu':
        return g.node('Elu', [x], { alpha: 1 }, base);
      case 'selu':
        return g.node('Selu', [x], {}, base);
      case 'softplus':
        return g.node('Softplus', [x], {}, base);
      case 'softsign':
        return g.node('Softsign', [x], {}, base);
      case 'hard_sigmoid':
      case 'hardSigmoid':
        return g.node('HardSigmoid', [x], { alpha: 0.2, beta: 0.5 }, base);
      case 'swish':
        return g.node('Mul', [x, g.node('Sigmoid', [x], {}, base)], {}, base);
      case 'softmax':
        return g.node('Softmax', [x], { axis: rank === 4 ? 1 : -1 }, base);
      default:
        throw new OnnxConversionError(`activation '${name}' is not supported`);
    }
  }

  private clip(x: string, min: number, max: number, base: string): string {
    const lo = this.g.constant(`${base}_min`, [], Float32Array.of(min));
    const hi = this.g.constant(`${base}_max`, [], Float32Array.of(max));
    return this.g.node('Clip', [x, lo, hi], {}, base);
  }

  private toNhwc(value: Value, base: string): string {
    return isFourD(value)
      ? this.g.node('Transpose', [value.name], { perm: TO_NHWC }, base)
      : value.name;
  }

  private spatialPads(
    x: Value,
    kernel: [number, number],
    strides: [number, number],
    dilation: [number, number],
    padding: string,
    layerName: string,
  ): number[] {
    if (padding !== 'same' && padding !== 'valid')
      throw new OnnxConversionError(`${layerName}: padding '${padding}' is not supported`);
    const [h, w] = [x.shape[1], x.shape[2]];
    if (padding === 'same' && (typeof h !== 'number' || typeof w !== 'number'))
      throw new OnnxConversionError(`${layerName}: 'same' padding needs a fixed input size`);
    const [top, bottom] = tfPadding(h ?? 0, kernel[0], strides[0], dilation[0], padding);
    const [left, right] = tfPadding(w ?? 0, kernel[1], strides[1], dilation[1], padding);
    return [top, left, bottom, right];
  }

  private requireChannelsLast(config: Config, layerName: string): void {
    const format = config.dataFormat;
    if (format !== undefined && format !== 'channelsLast' && format !== 'channels_last')
      throw new OnnxConversionError(`${layerName}: only channels-last data is supported`);
  }

  private layer(
    layer: tf.layers.Layer,
    inputs: Value[],
    output: tf.SymbolicTensor,
    callArgs: Config | undefined,
  ): Value {
    const g = this.g;
    const config = layer.getConfig() as Config;
    const kind = layer.getClassName();
    const name = layer.name;
    const shape = output.shape;
    const x = inputs[0]!;
    const done = (value: string): Value => ({ name: value, shape });
    if (callArgs?.mask !== undefined && callArgs.mask !== null)
      throw new OnnxConversionError(`${name}: masks are not supported`);

    switch (kind) {
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        if (!isFourD(x)) throw new OnnxConversionError(`${name}: expects a 4-D input`);
        this.requireChannelsLast(config, name);
        const kernel = pair(config.kernelSize, `${name}.kernelSize`);
        const strides = pair(config.strides ?? 1, `${name}.strides`);
        const dilation = pair(config.dilationRate ?? 1, `${name}.dilationRate`);
        const pads = this.spatialPads(
          x,
          kernel,
          strides,
          dilation,
          paddingOf(config.padding),
          name,
        );
        const [w, b] = weightsOf(layer);
        const channels = x.shape[3]!;
        let weight: Float32Array;
        let dims: number[];
        let group = 1;
        if (kind === 'Conv2D') {
          const filters = Number(config.filters);
          weight = transposeKernel(w!, kernel, channels, filters);
          dims = [filters, channels, kernel[0], kernel[1]];
        } else {
          const multiplier = Number(config.depthMultiplier ?? 1);
          weight = transposeKernel(w!, kernel, channels, multiplier, true);
          dims = [channels * multiplier, 1, kernel[0], kernel[1]];
          group = channels;
        }
        const convInputs = [x.name, g.constant(`${name}_W`, dims, weight)];
        if (config.useBias !== false && b) convInputs.push(g.constant(`${name}_B`, [dims[0]!], b));
        const conv = g.node(
          'Conv',
          convInputs,
          { kernel_shape: kernel, strides, dilations: dilation, pads, group },
          name,
        );
        return done(this.activation(config.activation as string, conv, 4, name));
      }
      case 'BatchNormalization': {
        const axis = Number(config.axis ?? -1);
        const rank = x.shape.length;
        // ONNX normalises axis 1: the channels of an NCHW tensor, or the features of [n, c].
        if (rank !== 2 && rank !== 4)
          throw new OnnxConversionError(
            `${name}: BatchNormalization on a ${rank}-D input is not supported`,
          );
        if ((axis < 0 ? rank + axis : axis) !== rank - 1)
          throw new OnnxConversionError(
            `${name}: only BatchNormalization over the last axis is supported`,
          );
        const weights = weightsOf(layer);
        const channels = x.shape[rank - 1]!;
        const gamma =
          config.scale === false ? new Float32Array(channels).fill(1) : weights.shift()!;
        const beta = config.center === false ? new Float32Array(channels) : weights.shift()!;
        const [mean, variance] = weights as [Float32Array, Float32Array];
        const c = (label: string, values: Float32Array) =>
          g.constant(`${name}_${label}`, [channels], values);
        const bn = g.node(
          'BatchNormalization',
          [x.name, c('scale', gamma), c('bias', beta), c('mean', mean), c('var', variance)],
          { epsilon: Number(config.epsilon ?? 1e-3) },
          name,
        );
        return done(bn);
      }
      case 'ReLU': {
        const max = config.maxValue;
        if (typeof max === 'number') return done(this.clip(x.name, 0, max, name));
        return done(g.node('Relu', [x.name], {}, name));
      }
      case 'LeakyReLU':
        return done(g.node('LeakyRelu', [x.name], { alpha: Number(config.alpha ?? 0.3) }, name));
      case 'Activation':
        return done(this.activation(config.activation as string, x.name, x.shape.length, name));
      case 'Softmax': {
        if (Array.isArray(config.axis))
          throw new OnnxConversionError(`${name}: Softmax over several axes is not supported`);
        const axis = Number(config.axis ?? -1);
        return done(g.node('Softmax', [x.name], { axis: nchwAxis(axis, x.shape.length) }, name));
      }
      case 'Add':
      case 'Multiply':
      case 'Maximum':
      case 'Minimum':
      case 'Subtract':
      case 'Average': {
        const op = {
          Add: 'Add',
          Multiply: 'Mul',
          Maximum: 'Max',
          Minimum: 'Min',
          Subtract: 'Sub',
          Average: 'Add',
        }[kind];
        if (inputs.some((v) => v.shape.length !== x.shape.length))
          throw new OnnxConversionError(`${name}: inputs of different ranks`);
        let result = inputs
          .slice(1)
          .reduce((acc, v) => g.node(op, [acc, v.name], {}, name), x.name);
        if (kind === 'Average') {
          const scale = g.constant(`${name}_n`, [], Float32Array.of(1 / inputs.length));
          result = g.node('Mul', [result, scale], {}, name);
        }
        return done(result);
      }
      case 'Concatenate': {
        const rank = x.shape.length;
        if (inputs.some((v) => v.shape.length !== rank))
          throw new OnnxConversionError(`${name}: inputs of different ranks`);
        const axis = nchwAxis(Number(config.axis ?? -1), rank);
        return done(
          g.node(
            'Concat',
            inputs.map((v) => v.name),
            { axis },
            name,
          ),
        );
      }
      case 'ZeroPadding2D': {
        if (!isFourD(x)) throw new OnnxConversionError(`${name}: expects a 4-D input`);
        this.requireChannelsLast(config, name);
        const raw = config.padding;
        const both: unknown[] = Array.isArray(raw) ? raw : [raw, raw];
        if (both.length !== 2) throw new OnnxConversionError(`${name}: padding must be a pair`);
        const [top, bottom] = pair(both[0], `${name}.padding[0]`);
        const [left, right] = pair(both[1], `${name}.padding[1]`);
        const pads = g.constant(`${name}_pads`, [8], [0, 0, top, left, 0, 0, bottom, right], true);
        return done(g.node('Pad', [x.name, pads], { mode: 'constant' }, name));
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        if (!isFourD(x)) throw new OnnxConversionError(`${name}: expects a 4-D input`);
        this.requireChannelsLast(config, name);
        const kernel = pair(config.poolSize ?? 2, `${name}.poolSize`);
        const strides = pair(config.strides ?? kernel, `${name}.strides`);
        const pads = this.spatialPads(
          x,
          kernel,
          strides,
          [1, 1],
          paddingOf(config.padding ?? 'valid'),
          name,
        );
        const op = kind === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        // TensorFlow's average pooling leaves the padding out of the count.
        const attrs: Record<string, Attr> = { kernel_shape: kernel, strides, pads };
        if (op === 'AveragePool') attrs.count_include_pad = 0;
        return done(g.node(op, [x.name], attrs, name));
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        if (!isFourD(x)) throw new OnnxConversionError(`${name}: expects a 4-D input`);
        this.requireChannelsLast(config, name);
        const op = kind === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool';
        const pooled = g.node(op, [x.name], {}, name);
        if (shape.length === 4) return done(pooled);
        return done(g.node('Flatten', [pooled], { axis: 1 }, name));
      }
      case 'Dense': {
        if (x.shape.length !== 2)
          throw new OnnxConversionError(
            `${name}: Dense on a ${x.shape.length}-D input is not supported`,
          );
        const [kernel, bias] = weightsOf(layer);
        const units = Number(config.units);
        const gemmInputs = [x.name, g.constant(`${name}_W`, [x.shape[1]!, units], kernel!)];
        if (config.useBias !== false && bias)
          gemmInputs.push(g.constant(`${name}_B`, [units], bias));
        const gemm = g.node('Gemm', gemmInputs, {}, name);
        return done(this.activation(config.activation as string, gemm, 2, name));
      }
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        // Inference: the identity.
        return { name: x.name, shape };
      case 'Flatten': {
        if (x.shape.length === 2) return { name: x.name, shape };
        return done(g.node('Flatten', [this.toNhwc(x, name)], { axis: 1 }, name));
      }
      case 'Reshape': {
        const target = (config.targetShape as number[]).map(Number);
        const shapeConst = g.constant(`${name}_shape`, [target.length + 1], [0, ...target], true);
        const reshaped = g.node('Reshape', [this.toNhwc(x, name), shapeConst], {}, name);
        const value =
          target.length === 3 ? g.node('Transpose', [reshaped], { perm: TO_NCHW }, name) : reshaped;
        return done(value);
      }
      case 'InputLayer':
        throw new OnnxConversionError(`${name}: a second input is not supported`);
      default:
        throw new OnnxConversionError(
          `layer '${name}' of class ${kind} has no ONNX conversion (supported: Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation, Add, Concatenate, ZeroPadding2D, pooling, Dense, Dropout, Flatten, Reshape)`,
        );
    }
  }

  /** A model used as a layer: its own graph, fed with this node's inputs. */
  private nested(model: tf.LayersModel, inputs: Value[], output: tf.SymbolicTensor): Value {
    if (model.inputs.length !== inputs.length)
      throw new OnnxConversionError(
        `nested model '${model.name}' takes ${model.inputs.length} inputs`,
      );
    const scope = new Map<number, Value>(model.inputs.map((t, i) => [t.id, inputs[i]!]));
    const inner = model.outputs[output.tensorIndex];
    if (!inner)
      throw new OnnxConversionError(
        `nested model '${model.name}' has no output ${output.tensorIndex}`,
      );
    const value = this.valueOf(inner, scope);
    return { name: value.name, shape: output.shape };
  }

  start(): Map<number, Value> {
    const nchw = this.g.node('Transpose', [INPUT_NAME], { perm: TO_NCHW }, 'input_nchw');
    return new Map([[this.input.id, { name: nchw, shape: this.input.shape }]]);
  }
}

function isLayersModel(layer: tf.layers.Layer): layer is tf.LayersModel {
  const candidate = layer as unknown as { inputs?: unknown; outputs?: unknown; layers?: unknown };
  return (
    Array.isArray(candidate.layers) &&
    Array.isArray(candidate.inputs) &&
    Array.isArray(candidate.outputs)
  );
}

/**
 * Keras kernels to ONNX's: Conv2D [kh, kw, in, out] → [out, in, kh, kw]; DepthwiseConv2D
 * [kh, kw, in, m] → [in·m, 1, kh, kw] (output channel c·m + j).
 */
function transposeKernel(
  w: Float32Array,
  [kh, kw]: [number, number],
  channels: number,
  outer: number,
  depthwise = false,
): Float32Array {
  const result = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let o = 0; o < outer; o++) {
          const from = ((y * kw + x) * channels + c) * outer + o;
          const to = depthwise
            ? ((c * outer + o) * kh + y) * kw + x
            : ((o * channels + c) * kh + y) * kw + x;
          result[to] = w[from]!;
        }
  return result;
}

/**
 * Folds each BatchNormalization whose input is a Conv used by nothing else into that Conv:
 * W' = W · γ/√(var+ε) per output channel, b' = (b − mean) · γ/√(var+ε) + β.
 */
function foldBatchNorms(g: GraphBuilder, outputs: ReadonlySet<string>): void {
  const consumers = new Map<string, number>();
  for (const node of g.nodes)
    for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  const producer = new Map(g.nodes.map((node) => [node.outputs[0]!, node]));
  const removed = new Set<Node>();
  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNormalization') continue;
    const conv = producer.get(bn.inputs[0]!);
    if (!conv || conv.op !== 'Conv' || consumers.get(conv.outputs[0]!) !== 1) continue;
    if (outputs.has(conv.outputs[0]!)) continue;
    const get = (name: string) => g.initializers.get(name)!.values as Float32Array;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map<Float32Array>(get);
    const epsilon = bn.attrs.epsilon as number;
    const weight = g.initializers.get(conv.inputs[1]!)!;
    const w = weight.values as Float32Array;
    const channels = weight.dims[0]!;
    const perChannel = w.length / channels;
    const folded = new Float32Array(w.length);
    const bias = new Float32Array(channels);
    const oldBias = conv.inputs[2] ? get(conv.inputs[2]) : undefined;
    for (let o = 0; o < channels; o++) {
      const scale = gamma![o]! / Math.sqrt(variance![o]! + epsilon);
      for (let i = 0; i < perChannel; i++)
        folded[o * perChannel + i] = w[o * perChannel + i]! * scale;
      bias[o] = ((oldBias?.[o] ?? 0) - mean![o]!) * scale + beta![o]!;
    }
    weight.values = folded;
    const biasName = g.constant(`${conv.name}_folded_B`, [channels], bias);
    conv.inputs = [conv.inputs[0]!, conv.inputs[1]!, biasName];
    // The BN's output is now the conv's.
    conv.outputs = bn.outputs;
    removed.add(bn);
  }
  const kept = g.nodes.filter((node) => !removed.has(node));
  g.nodes.length = 0;
  g.nodes.push(...kept);
  const used = new Set(kept.flatMap((node) => node.inputs));
  for (const name of [...g.initializers.keys()]) if (!used.has(name)) g.initializers.delete(name);
}

function attribute(name: string, value: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string')
    return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return Number.isInteger(value) && name !== 'epsilon' && name !== 'alpha' && name !== 'beta'
    ? { name, type: T.INT, i: value }
    : { name, type: T.FLOAT, f: value };
}

function tensorProto(name: string, init: Initializer): onnxProto.onnx.ITensorProto {
  const D = onnx.TensorProto.DataType;
  if (init.int64) {
    const data = BigInt64Array.from(init.values as number[], (v) => BigInt(v));
    return { name, dims: init.dims, dataType: D.INT64, rawData: new Uint8Array(data.buffer) };
  }
  const data = Float32Array.from(init.values);
  return { name, dims: init.dims, dataType: D.FLOAT, rawData: new Uint8Array(data.buffer) };
}

function valueInfo(name: string, shape: (number | null)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: 'batch' })),
        },
      },
    },
  };
}

/**
 * Converts a LayersModel to ONNX (opset 13): its outputs, or any tensors of its graph (an
 * intermediate layer's output, the input of a layer). Throws OnnxConversionError for a layer
 * it does not know, a second input, or a shape it cannot handle.
 */
export function layersModelToOnnx(model: tf.LayersModel, options: ConvertOptions = {}): OnnxGraph {
  if (model.inputs.length !== 1)
    throw new OnnxConversionError(
      `the model has ${model.inputs.length} inputs; one image input is supported`,
    );
  const input = model.inputs[0]!;
  const inputShape = input.shape.slice(1);
  if (inputShape.length !== 3 || inputShape.some((d) => typeof d !== 'number'))
    throw new OnnxConversionError(
      `the model's input must be [height, width, channels], got ${JSON.stringify(input.shape)}`,
    );
  const converter = new Converter(input);
  const scope = converter.start();
  const requested = options.outputs ?? model.outputs;
  const g = converter.g;
  const outputNames: string[] = [];
  const internal = new Set<string>();
  requested.forEach((tensor, i) => {
    const value =
      tensor.id === input.id
        ? { name: INPUT_NAME, shape: input.shape }
        : converter.valueOf(tensor, scope);
    const name = `output_${i}`;
    internal.add(value.name);
    if (value.name === INPUT_NAME)
      g.nodes.push({ op: 'Identity', inputs: [INPUT_NAME], outputs: [name], attrs: {}, name });
    else if (isFourD(value))
      g.nodes.push({
        op: 'Transpose',
        inputs: [value.name],
        outputs: [name],
        attrs: { perm: TO_NHWC },
        name,
      });
    else g.nodes.push({ op: 'Identity', inputs: [value.name], outputs: [name], attrs: {}, name });
    outputNames.push(name);
  });
  foldBatchNorms(g, internal);
  const graph: onnxProto.onnx.IGraphProto = {
    name: options.name ?? model.name,
    node: g.nodes.map((node) => ({
      name: node.name,
      opType: node.op,
      input: node.inputs,
      output: node.outputs,
      attribute: Object.entries(node.attrs).map(([key, value]) => attribute(key, value)),
    })),
    initializer: [...g.initializers].map(([name, init]) => tensorProto(name, init)),
    input: [valueInfo(INPUT_NAME, input.shape)],
    output: requested.map((tensor, i) => valueInfo(outputNames[i]!, tensor.shape)),
  };
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'graft',
    producerVersion: ONNX_CONVERTER_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph,
  });
  return {
    bytes: onnx.ModelProto.encode(proto).finish(),
    inputName: INPUT_NAME,
    inputShape: inputShape as number[],
    outputNames,
    outputShapes: requested.map((tensor) => tensor.shape.slice(1) as number[]),
  };
}
