/*
 * Calibration: one softmax temperature fitted on out-of-fold predictions (never the
 * validation split), and the expected calibration error to report before and after.
 */

/** Softmax of log(p) / temperature, row by row. */
export function withTemperature(
  probabilities: Float32Array,
  classes: number,
  temperature: number,
): Float32Array {
  const result = new Float32Array(probabilities.length);
  for (let row = 0; row < probabilities.length; row += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      const z = Math.log(Math.max(probabilities[row + c]!, 1e-12)) / temperature;
      result[row + c] = z;
      max = Math.max(max, z);
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      result[row + c] = Math.exp(result[row + c]! - max);
      sum += result[row + c]!;
    }
    for (let c = 0; c < classes; c++) result[row + c] = result[row + c]! / sum;
  }
  return result;
}

function negativeLogLikelihood(
  probabilities: Float32Array,
  truth: ArrayLike<number>,
  classes: number,
): number {
  let total = 0;
  for (let i = 0; i < truth.length; i++)
    total -= Math.log(Math.max(probabilities[i * classes + truth[i]!]!, 1e-12));
  return total / Math.max(truth.length, 1);
}

/**
 * The temperature in [0.05, 20] that minimises the NLL of the given predictions (golden
 * section on log T), with a log-normal prior centred on T = 1 (σ = 0.5 in log T): on a few
 * dozen held-out images a single unlucky one should not swing the temperature, on hundreds
 * the data decide.
 */
export function fitTemperature(
  probabilities: Float32Array,
  truth: ArrayLike<number>,
  classes: number,
): number {
  if (truth.length === 0) return 1;
  const prior = 1 / (2 * 0.5 ** 2 * truth.length);
  const loss = (logT: number) =>
    negativeLogLikelihood(withTemperature(probabilities, classes, Math.exp(logT)), truth, classes) +
    prior * logT * logT;
  const phi = (Math.sqrt(5) - 1) / 2;
  let [a, b] = [Math.log(0.05), Math.log(20)];
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let [fc, fd] = [loss(c), loss(d)];
  for (let i = 0; i < 40; i++) {
    if (fc < fd) {
      [b, d, fd] = [d, c, fc];
      c = b - phi * (b - a);
      fc = loss(c);
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + phi * (b - a);
      fd = loss(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/** Expected calibration error: confidence vs accuracy over equal-width confidence bins. */
export function expectedCalibrationError(
  probabilities: Float32Array,
  truth: ArrayLike<number>,
  classes: number,
  bins = 15,
): number {
  const count = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  for (let i = 0; i < truth.length; i++) {
    let predicted = 0;
    for (let c = 1; c < classes; c++)
      if (probabilities[i * classes + c]! > probabilities[i * classes + predicted]!) predicted = c;
    const p = probabilities[i * classes + predicted]!;
    const bin = Math.min(bins - 1, Math.floor(p * bins));
    count[bin]!++;
    confidence[bin]! += p;
    correct[bin]! += predicted === truth[i] ? 1 : 0;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++)
    if (count[b]! > 0) ece += Math.abs(correct[b]! - confidence[b]!) / Math.max(truth.length, 1);
  return ece;
}
