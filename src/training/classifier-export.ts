import type * as tf from '@tensorflow/tfjs';
import { modelToArtifacts, serializeArtifacts } from './model-artifacts.js';
import { selectionSummary } from './report-summary.js';
import type { TrainingReport } from './training-types.js';

/** What metadata.json holds beside an exported model. */
export function modelMetadata(report: TrainingReport) {
  const { featureExtraction, fineTuning } = report.phases;
  return {
    format: 'graft-model/1',
    labels: report.labels,
    baseModel: report.base.id,
    base: report.base,
    inputSize: report.base.preprocessing.size,
    preprocessing: report.base.preprocessing,
    backend: report.backend,
    spec: report.spec,
    split: report.split,
    kept: report.kept,
    keptReason: report.keptReason,
    metrics: {
      kept: report.evaluation,
      featureExtraction: featureExtraction.evaluation,
      ...(fineTuning ? { fineTuning: fineTuning.evaluation } : {}),
    },
    // Probabilities are calibrated: the temperature is already folded into the output layer.
    ...selectionSummary(report),
    history: [...featureExtraction.history, ...(fineTuning?.history ?? [])],
    timings: {
      featureCacheSeconds: report.featureCache.seconds,
      featureExtractionSeconds: featureExtraction.seconds,
      fineTuningSeconds: fineTuning?.seconds ?? 0,
      totalSeconds: report.totalSeconds,
    },
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
