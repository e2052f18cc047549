import type * as tf from '@tensorflow/tfjs';
import { modelToArtifacts, serializeArtifacts } from './model-artifacts.js';
import { reportSummary, stageDetails } from './report-summary.js';
import type { TrainingReport } from './training-types.js';

/**
 * What metadata.json holds beside an exported model: what loading it needs (labels in output
 * order, preprocessing), the spec and backend, the report summary, how each stage ran and the
 * per-epoch history. Format 2: the summary's keys replaced format 1's `metrics` and `timings`;
 * format 3: the cached-image count moved from `stages.featureCache` to the summary's
 * `featureCache`, beside what ran the frozen part.
 */
export function modelMetadata(report: TrainingReport) {
  const { featureExtraction, fineTuning } = report.phases;
  return {
    format: 'graft-model/3',
    labels: report.labels,
    baseModel: report.base.id,
    base: report.base,
    inputSize: report.base.preprocessing.size,
    preprocessing: report.base.preprocessing,
    backend: report.backend,
    spec: report.spec,
    ...reportSummary(report),
    stages: stageDetails(report),
    history: [...featureExtraction.history, ...(fineTuning?.history ?? [])],
    createdAt: new Date().toISOString(),
  };
}

/** Writes model.json + weights.bin (a plain TF.js LayersModel) and metadata.json. */
export async function exportClassifier(
  classifier: tf.LayersModel,
  report: TrainingReport,
  write: (name: string, data: Uint8Array | string) => Promise<void>,
): Promise<void> {
  const { modelJson, weights } = serializeArtifacts(await modelToArtifacts(classifier));
  await write('weights.bin', weights);
  await write('model.json', modelJson);
  await write('metadata.json', JSON.stringify(modelMetadata(report), null, 2));
}
