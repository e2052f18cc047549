import type { TrainingReport } from './training-types.js';

/**
 * What a report says about how the shipped model was chosen — the search, the baseline and
 * the transfer gain, class weights, early stopping and calibration — in one shape for the
 * job's metrics, the model's metrics and metadata.json.
 */
export function selectionSummary(report: TrainingReport) {
  const { featureExtraction, fineTuning } = report.phases;
  return {
    search: report.search,
    baseline: report.baseline
      ? {
          chosen: report.baseline.chosen,
          evaluation: report.baseline.evaluation,
          shipped: report.baseline.shipped,
        }
      : null,
    transferGain: report.baseline?.transferGain ?? null,
    classWeights: report.classWeights,
    earlyStopping: {
      featureExtraction: { steps: featureExtraction.bestEpoch },
      fineTuning: fineTuning
        ? { bestEpoch: fineTuning.bestEpoch, stoppedEarly: fineTuning.stoppedEarly }
        : null,
    },
    calibration: report.calibration,
  };
}
