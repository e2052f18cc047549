import type { EvaluationView } from '../contracts/training-summary.js';

/** The API's shape (contracts/training-summary.ts): what is computed here is what is served. */
export type Evaluation = EvaluationView;
export type ClassMetrics = Evaluation['perClass'][number];

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/**
 * Accuracy, cross-entropy, per-class precision/recall/F1 and the confusion matrix from
 * softmax outputs (row-major, one row of `labels.length` scores per example).
 */
export function evaluatePredictions(
  probabilities: Float32Array,
  truth: readonly number[],
  labels: readonly string[],
): Evaluation {
  const k = labels.length;
  const matrix = labels.map(() => new Array<number>(k).fill(0));
  let lossSum = 0;
  truth.forEach((actual, i) => {
    const row = probabilities.subarray(i * k, (i + 1) * k);
    let predicted = 0;
    for (let c = 1; c < k; c++) if (row[c]! > row[predicted]!) predicted = c;
    matrix[actual]![predicted]!++;
    lossSum -= Math.log(Math.max(row[actual]!, 1e-7));
  });
  const correct = matrix.reduce((sum, row, i) => sum + row[i]!, 0);
  const perClass = labels.map((label, c) => {
    const truePositives = matrix[c]![c]!;
    const predictedAs = matrix.reduce((sum, row) => sum + row[c]!, 0);
    const support = matrix[c]!.reduce((sum, n) => sum + n, 0);
    const precision = ratio(truePositives, predictedAs);
    const recall = ratio(truePositives, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    return { label, precision, recall, f1, support };
  });
  return {
    accuracy: ratio(correct, truth.length),
    loss: ratio(lossSum, truth.length),
    perClass,
    confusionMatrix: matrix,
    count: truth.length,
  };
}
