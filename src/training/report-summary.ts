import type { TrainingSummary } from '../contracts/training-summary.js';
import type { PhaseReport, TrainingReport } from './training-types.js';

/**
 * The one summary of a training report, in the API's published shape: the job's and the
 * model's `metrics`, the `--json` output of `npm run train` and metadata.json all spread it,
 * so each fact has one key everywhere. Stored rows hold it: renaming a key changes the API.
 * `satisfies`, not a return type: the contract keeps keys optional for rows written before
 * them, while a summary made now has every key.
 */
export function reportSummary(report: TrainingReport) {
  const { featureExtraction, fineTuning } = report.phases;
  return {
    kept: report.kept,
    keptReason: report.keptReason,
    evaluation: report.evaluation,
    featureExtraction: featureExtraction.evaluation,
    fineTuning: fineTuning?.evaluation ?? null,
    unfreezeFrom: fineTuning?.unfreezeFrom ?? null,
    split: report.split,
    skipped: report.skipped,
    ...selectionSummary(report),
    featureCache: {
      engine: report.featureCache.engine ?? 'tfjs',
      images: report.featureCache.images,
      fromEmbeddingCache: report.featureCache.fromEmbeddingCache ?? 0,
    },
    seconds: {
      featureCache: report.featureCache.seconds,
      search: report.search.seconds,
      featureExtraction: featureExtraction.seconds,
      fineTuning: fineTuning?.seconds ?? 0,
      total: report.totalSeconds,
    },
  } satisfies TrainingSummary;
}

/**
 * How the shipped model was chosen: the search, the baseline and the transfer gain, class
 * weights, early stopping and calibration.
 */
function selectionSummary(report: TrainingReport) {
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
    // Probabilities are calibrated: the temperature is already folded into the output layer.
    calibration: report.calibration,
  };
}

/**
 * How each stage ran — sizes, rates, throughput — for the CLI and metadata.json. None of it is
 * in the summary (the API leaves it out), so nothing here repeats a summary fact.
 */
export function stageDetails(report: TrainingReport) {
  const { featureExtraction, fineTuning } = report.phases;
  return {
    featureCache: {
      imagesPerSecond: report.featureCache.imagesPerSecond,
    },
    featureExtraction: phaseDetails(featureExtraction),
    fineTuning: fineTuning ? phaseDetails(fineTuning) : null,
  };
}

function phaseDetails(phase: PhaseReport) {
  return {
    epochs: phase.epochs,
    learningRate: phase.learningRate,
    batchSize: phase.batchSize,
    imagesPerSecond: phase.imagesPerSecond,
    trainableLayers: phase.trainableLayers ?? null,
  };
}
