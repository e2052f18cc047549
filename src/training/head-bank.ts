import * as tf from '@tensorflow/tfjs';

/*
 * Many small classifier heads trained at once on one feature matrix: a "bank". Every model of
 * a bank has the same shape (linear, or one hidden ReLU layer) and sees the same rows, but has
 * its own row weights (a cross-validation fold's training rows times class weights, mirrored
 * copies in or out) and its own L2 strength. One matrix product serves them all, so k folds ×
 * several settings cost little more than one model: this is what makes searching heads on
 * cached features take seconds. Full-batch Adam; softmax cross-entropy.
 */

export interface BankModel {
  /** Per-row weight in the training loss (0 leaves the row out). */
  rowWeights: Float32Array;
  /** Rows scored at each checkpoint (this model's held-out fold); may be empty. */
  heldOut: Int32Array;
  l2: number;
}

export interface BankOptions {
  /** N × D, already standardised. */
  x: tf.Tensor2D;
  /** Class per row. */
  y: Int32Array;
  classes: number;
  models: readonly BankModel[];
  hiddenUnits: number;
  dropout: number;
  learningRate: number;
  /** Iterations (full-batch steps) between checkpoints, and the most checkpoints. */
  checkpointEvery: number;
  maxCheckpoints: number;
  /** Models sharing a group id are judged together (one setting across folds). */
  groups: Int32Array;
  /** Stop when no group's held-out loss improved for this many checkpoints. */
  patience: number;
  seed: number;
  signal?: AbortSignal;
}

export interface GroupResult {
  /** Iterations at the checkpoint with the lowest held-out loss. */
  iterations: number;
  heldOutLoss: number;
  heldOutAccuracy: number;
  /** Softmax outputs of each model on its held-out rows at that checkpoint, N × C (0 elsewhere). */
  outOfFold: Float32Array;
}

export interface BankWeights {
  /** D × H (or D × C when linear), per model. */
  kernel1: Float32Array[];
  bias1: Float32Array[];
  /** H × C, per model; absent when linear. */
  kernel2?: Float32Array[];
  bias2?: Float32Array[];
}

interface Parameters {
  w1: tf.Variable;
  b1: tf.Variable;
  w2?: tf.Variable;
  b2?: tf.Variable;
}

/** A variable holding `initial`, which is freed (the variable keeps the data). */
function variableOf(initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial);
  initial.dispose();
  return variable;
}

function createParameters(d: number, m: number, c: number, h: number, seed: number): Parameters {
  if (h === 0) {
    return { w1: variableOf(tf.zeros([d, m * c])), b1: variableOf(tf.zeros([m * c])) };
  }
  return {
    w1: variableOf(tf.randomNormal([d, m * h], 0, Math.sqrt(2 / d), 'float32', seed)),
    b1: variableOf(tf.zeros([m * h])),
    w2: variableOf(tf.randomNormal([m, h, c], 0, Math.sqrt(1 / h), 'float32', seed + 1)),
    b2: variableOf(tf.zeros([m, 1, c])),
  };
}

/** Logits N × M × C. */
function forward(
  x: tf.Tensor2D,
  p: Parameters,
  m: number,
  c: number,
  dropout: number,
  seed?: number,
): tf.Tensor3D {
  const n = x.shape[0];
  const first = x.matMul(p.w1).add(p.b1);
  if (!p.w2) return first.reshape([n, m, c]);
  const h = p.w2.shape[1]!;
  let hidden = first.relu().reshape([n, m, h]);
  if (seed !== undefined && dropout > 0) hidden = tf.dropout(hidden, dropout, undefined, seed);
  const perModel = hidden
    .transpose([1, 0, 2])
    .matMul(p.w2 as tf.Tensor3D)
    .add(p.b2!);
  return perModel.transpose([1, 0, 2]);
}

function l2Penalty(p: Parameters, m: number, l2: tf.Tensor1D): tf.Scalar {
  const d = p.w1.shape[0];
  const perModel = p.w1.square().reshape([d, m, -1]).sum([0, 2]);
  const second = p.w2 ? p.w2.square().sum([1, 2]) : tf.zerosLike(perModel);
  return perModel.add(second).mul(l2).sum();
}

/**
 * Trains every model of the bank, checkpointing each group's held-out loss, and returns per
 * group the best checkpoint with its out-of-fold predictions; with `keepWeights` (final fits,
 * run for a fixed number of checkpoints) also every model's weights at the end.
 */
export async function trainBank(
  options: BankOptions,
  keepWeights = false,
): Promise<{ groups: Map<number, GroupResult>; weights?: BankWeights }> {
  const { x, y, classes: c, models, hiddenUnits: h } = options;
  const [n, d] = x.shape;
  const m = models.length;
  const p = createParameters(d, m, c, h, options.seed);
  const variables = [p.w1, p.b1, ...(p.w2 ? [p.w2, p.b2!] : [])];
  const optimizer = tf.train.adam(options.learningRate);
  const weightsData = new Float32Array(n * m);
  models.forEach((model, j) => {
    let total = 0;
    for (let i = 0; i < n; i++) total += model.rowWeights[i]!;
    for (let i = 0; i < n; i++)
      weightsData[i * m + j] = total > 0 ? model.rowWeights[i]! / total : 0;
  });
  const rowWeights = tf.tensor2d(weightsData, [n, m]);
  const l2 = tf.tensor1d(models.map((model) => model.l2));
  const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), c).toFloat().reshape([n, 1, c]));
  const groupIds = [...new Set(options.groups)];
  const best = new Map<number, GroupResult>();
  let stale = 0;
  try {
    for (let checkpoint = 1; checkpoint <= options.maxCheckpoints; checkpoint++) {
      for (let step = 0; step < options.checkpointEvery; step++) {
        options.signal?.throwIfAborted();
        const seed = options.seed + checkpoint * 1000 + step;
        optimizer.minimize(
          () =>
            tf.tidy(() => {
              const logp = tf.logSoftmax(forward(x, p, m, c, options.dropout, seed));
              const ce = logp.mul(oneHot).sum(-1).neg();
              return ce
                .mul(rowWeights)
                .sum()
                .add<tf.Scalar>(l2Penalty(p, m, l2));
            }),
          false,
          variables,
        );
      }
      await new Promise((resolve) => setImmediate(resolve));
      const outputs = tf.tidy(() => tf.softmax(forward(x, p, m, c, 0)));
      const probabilities = outputs.dataSync();
      outputs.dispose();
      let improved = false;
      for (const group of groupIds) {
        const outOfFold = new Float32Array(n * c);
        let loss = 0;
        let correct = 0;
        let count = 0;
        models.forEach((model, j) => {
          if (options.groups[j] !== group) return;
          for (const row of model.heldOut) {
            const offset = (row * m + j) * c;
            let predicted = 0;
            for (let k = 0; k < c; k++) {
              const value = probabilities[offset + k]!;
              outOfFold[row * c + k] = value;
              if (value > probabilities[offset + predicted]!) predicted = k;
            }
            loss -= Math.log(Math.max(probabilities[offset + y[row]!]!, 1e-7));
            correct += predicted === y[row] ? 1 : 0;
            count++;
          }
        });
        const heldOutLoss = count > 0 ? loss / count : 0;
        const previous = best.get(group);
        // A fixed-length fit (keepWeights) reports its last checkpoint, matching its weights.
        if (!previous || keepWeights || heldOutLoss < previous.heldOutLoss - 1e-4) {
          improved = true;
          best.set(group, {
            iterations: checkpoint * options.checkpointEvery,
            heldOutLoss,
            heldOutAccuracy: count > 0 ? correct / count : 0,
            outOfFold,
          });
        }
      }
      stale = improved ? 0 : stale + 1;
      if (stale >= options.patience) break;
    }
    if (!keepWeights) return { groups: best };
    const values = variables.map((v) => v.dataSync() as Float32Array);
    return { groups: best, weights: splitWeights(values, m, c, h, d) };
  } finally {
    optimizer.dispose();
    tf.dispose([rowWeights, l2, oneHot, ...variables]);
  }
}

/** Each model's own weights out of the bank's shared variables. */
function splitWeights(
  [w1, b1, w2, b2]: Float32Array[],
  m: number,
  c: number,
  h: number,
  d: number,
): BankWeights {
  const width = h === 0 ? c : h;
  const result: BankWeights = {
    kernel1: [],
    bias1: [],
    ...(h > 0 ? { kernel2: [], bias2: [] } : {}),
  };
  for (let j = 0; j < m; j++) {
    const kernel = new Float32Array(d * width);
    for (let i = 0; i < d; i++)
      kernel.set(
        w1!.subarray(i * m * width + j * width, i * m * width + (j + 1) * width),
        i * width,
      );
    result.kernel1.push(kernel);
    result.bias1.push(b1!.slice(j * width, (j + 1) * width));
    if (h > 0) {
      result.kernel2!.push(w2!.slice(j * h * c, (j + 1) * h * c));
      result.bias2!.push(b2!.slice(j * c, (j + 1) * c));
    }
  }
  return result;
}
