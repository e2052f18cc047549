import * as tf from '@tensorflow/tfjs';
import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs';

/*
 * The wasm backend ships no kernels for the filter/input gradients of convolutions, so `fit()`
 * through a conv layer throws there. These kernels build them from ops that wasm runs fast
 * (pad, reshape, slice, matMul, mul, sum); strided windows are taken with reshape + slice
 * because wasm's strided slice is ~8x slower. wasm's matMul with a transpose flag is also
 * ~10x slower than transposing first, so BatchMatMul is wrapped to do that.
 */

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Tensor4D = tf.Tensor4D;

/** A Tensor view of a kernel input that holds its own reference, so disposing it is safe. */
function wrap(info: TensorInfo): tf.Tensor {
  const engine = tf.engine();
  const tensor = engine.makeTensorFromTensorInfo(info);
  engine.backend.incRef(info.dataId);
  return tensor;
}

function input(inputs: NamedTensorInfoMap, name: string): tf.Tensor {
  const info = inputs[name];
  if (!info) throw new Error(`missing kernel input '${name}'`);
  return wrap(info);
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: NamedAttrMap,
  depthwise: boolean,
): Conv2DInfo {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`wasm training kernels support NHWC only`);
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    (attrs.dilations as [number, number] | number | undefined) ?? 1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

/** Pads x so that every filter tap (i, j) can take an outHeight x outWidth strided window. */
function padForWindows(x: Tensor4D, c: Conv2DInfo): Tensor4D {
  const needH = (c.filterHeight - 1) * c.dilationHeight + c.outHeight * c.strideHeight;
  const needW = (c.filterWidth - 1) * c.dilationWidth + c.outWidth * c.strideWidth;
  const bottom = Math.max(0, needH - c.inHeight - c.padInfo.top);
  const right = Math.max(0, needW - c.inWidth - c.padInfo.left);
  const top = c.padInfo.top;
  const left = c.padInfo.left;
  if (top + bottom + left + right === 0) return x;
  const cropH = Math.min(c.inHeight + top + bottom, needH);
  const cropW = Math.min(c.inWidth + left + right, needW);
  const padded = tf.pad(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
  return padded.slice([0, 0, 0, 0], [-1, cropH, cropW, -1]);
}

/** The input values that filter tap (i, j) multiplies: shape [batch, outH, outW, channels]. */
function window(padded: Tensor4D, c: Conv2DInfo, i: number, j: number): Tensor4D {
  const [batch, , , channels] = padded.shape;
  const sh = c.strideHeight;
  const sw = c.strideWidth;
  const region = padded.slice(
    [0, i * c.dilationHeight, j * c.dilationWidth, 0],
    [batch, c.outHeight * sh, c.outWidth * sw, channels],
  );
  if (sh === 1 && sw === 1) return region;
  return region
    .reshape([batch, c.outHeight, sh, c.outWidth, sw, channels])
    .slice([0, 0, 0, 0, 0, 0], [batch, c.outHeight, 1, c.outWidth, 1, channels])
    .reshape([batch, c.outHeight, c.outWidth, channels]);
}

function taps(c: Conv2DInfo): [number, number][] {
  const result: [number, number][] = [];
  for (let i = 0; i < c.filterHeight; i++) {
    for (let j = 0; j < c.filterWidth; j++) result.push([i, j]);
  }
  return result;
}

/** dW[i,j] = window(i,j)^T · dy, as one im2col matrix product. */
const conv2DBackpropFilter: KernelFunc = ({ inputs, attrs = {} }) =>
  tf.tidy(() => {
    const x = input(inputs, 'x') as Tensor4D;
    const dy = input(inputs, 'dy') as Tensor4D;
    const filterShape = attrs.filterShape as number[];
    const c = convInfo(x.shape, filterShape, attrs, false);
    const padded = padForWindows(x, c);
    const rows = x.shape[0] * c.outHeight * c.outWidth;
    const columns = taps(c).map(([i, j]) => window(padded, c, i, j));
    const im2col = (columns.length === 1 ? columns[0]! : tf.concat(columns, 3)).reshape([rows, -1]);
    const dyMatrix = dy.reshape([rows, c.outChannels]);
    return tf.matMul(im2col.transpose(), dyMatrix).reshape(filterShape);
  });

const depthwiseBackpropFilter: KernelFunc = ({ inputs, attrs = {} }) =>
  tf.tidy(() => {
    const x = input(inputs, 'x') as Tensor4D;
    const dy = input(inputs, 'dy') as Tensor4D;
    const filterShape = attrs.filterShape as [number, number, number, number];
    const c = convInfo(x.shape, filterShape, attrs, true);
    const multiplier = filterShape[3];
    const padded = padForWindows(x, c);
    const dy5 = dy.reshape([...dy.shape.slice(0, 3), c.inChannels, multiplier]);
    const perTap = taps(c).map(([i, j]) =>
      window(padded, c, i, j).expandDims(4).mul(dy5).sum([0, 1, 2]),
    );
    return tf.stack(perTap).reshape(filterShape);
  });

/**
 * Adds each filter tap's contribution (shape [batch, outH, outW, channels]) back onto the input
 * positions that tap read: dilate by the stride, shift by the tap offset, sum, crop the padding.
 */
function scatterTaps(
  c: Conv2DInfo,
  inputShape: [number, number, number, number],
  contribution: (i: number, j: number) => Tensor4D,
): Tensor4D {
  const [batch, , , channels] = inputShape;
  const { outHeight: outH, outWidth: outW, strideHeight: sh, strideWidth: sw } = c;
  const fullH = Math.max(
    (c.filterHeight - 1) * c.dilationHeight + outH * sh,
    c.padInfo.top + c.inHeight,
  );
  const fullW = Math.max(
    (c.filterWidth - 1) * c.dilationWidth + outW * sw,
    c.padInfo.left + c.inWidth,
  );
  const placed = taps(c).map(([i, j]) => {
    let spread = contribution(i, j);
    if (sh > 1 || sw > 1) {
      spread = spread
        .reshape([batch, outH, 1, outW, 1, channels])
        .pad([
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ])
        .reshape([batch, outH * sh, outW * sw, channels]);
    }
    const top = i * c.dilationHeight;
    const left = j * c.dilationWidth;
    return spread.pad([
      [0, 0],
      [top, fullH - top - outH * sh],
      [left, fullW - left - outW * sw],
      [0, 0],
    ]);
  });
  const sum = (placed.length === 1 ? placed[0]! : tf.addN(placed)) as Tensor4D;
  if (sum.shape[1] === c.inHeight && sum.shape[2] === c.inWidth) return sum;
  return sum.slice([0, c.padInfo.top, c.padInfo.left, 0], inputShape);
}

const depthwiseBackpropInput: KernelFunc = ({ inputs, attrs = {} }) =>
  tf.tidy(() => {
    const dy = input(inputs, 'dy') as Tensor4D;
    const filter = input(inputs, 'filter') as Tensor4D;
    const inputShape = attrs.inputShape as [number, number, number, number];
    const c = convInfo(inputShape, filter.shape, attrs, true);
    const multiplier = filter.shape[3];
    const dy5 = dy.reshape([...dy.shape.slice(0, 3), c.inChannels, multiplier]);
    return scatterTaps(c, inputShape, (i, j) => {
      const w = filter
        .slice([i, j, 0, 0], [1, 1, c.inChannels, multiplier])
        .reshape([c.inChannels, multiplier]);
      return dy5.mul(w).sum<Tensor4D>(4);
    });
  });

/** wasm has this kernel, but it is ~10x slower than one matrix product per filter tap. */
const conv2DBackpropInput: KernelFunc = ({ inputs, attrs = {} }) =>
  tf.tidy(() => {
    const dy = input(inputs, 'dy') as Tensor4D;
    const filter = input(inputs, 'filter') as Tensor4D;
    const inputShape = attrs.inputShape as [number, number, number, number];
    const c = convInfo(inputShape, filter.shape, attrs, false);
    const [batch, outH, outW] = dy.shape;
    const dyMatrix = dy.reshape([batch * outH * outW, c.outChannels]);
    return scatterTaps(c, inputShape, (i, j) => {
      const w = filter
        .slice([i, j, 0, 0], [1, 1, c.inChannels, c.outChannels])
        .reshape([c.inChannels, c.outChannels]);
      return tf.matMul(dyMatrix, w.transpose()).reshape([batch, outH, outW, c.inChannels]);
    });
  });

function transposeLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, axis) => axis);
  const last = perm.length - 1;
  [perm[last - 1], perm[last]] = [perm[last]!, perm[last - 1]!];
  return t.transpose(perm);
}

function fastTransposeMatMul(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs = {} } = args;
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    return tf.tidy(() => {
      let a = input(inputs, 'a');
      let b = input(inputs, 'b');
      if (attrs.transposeA) a = transposeLastTwo(a);
      if (attrs.transposeB) b = transposeLastTwo(b);
      return tf.matMul(a, b);
    });
  };
}

let registered = false;

/** Registers (once) the kernels that make `fit()` work, and fast, on the wasm backend. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: KernelConfig[] = [
    { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName: 'wasm',
      kernelFunc: depthwiseBackpropFilter,
    },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName: 'wasm',
      kernelFunc: depthwiseBackpropInput,
    },
  ];
  for (const kernel of kernels) {
    if (!tf.getKernel(kernel.kernelName, 'wasm')) tf.registerKernel(kernel);
  }
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: conv2DBackpropInput,
  });
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (matMul) {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ ...matMul, kernelFunc: fastTransposeMatMul(matMul.kernelFunc) });
  }
}
