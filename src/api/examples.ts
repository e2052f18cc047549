import type { Static } from '@sinclair/typebox';
import { TRAINING_SPEC_DEFAULTS } from '../contracts/training-spec.js';
import type { TrainingSummary } from '../contracts/training-summary.js';
import type {
  Dataset,
  DatasetImagePage,
  Job,
  Model,
  PredictResponse,
} from '../contracts/resource-views.js';
import type {
  WebhookDeliveryView,
  WebhookPayloadView,
  WebhookView,
} from '../contracts/webhook-views.js';
import type { CreateJobBody, Ready } from './schemas.js';

/*
 * Examples for the API document, typed by the schemas they illustrate (so they cannot drift):
 * a two-class dataset like the README's hymenoptera sample, trained with the default spec.
 */

const DATASET_ID = '6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70';
const JOB_ID = '0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b';
const MODEL_ID = '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7';
const AT = '2026-11-28T10:00:00.000Z';

export const exampleDataset: Static<typeof Dataset> = {
  id: DATASET_ID,
  name: 'hymenoptera',
  status: 'ready',
  imageCount: 397,
  split: 'given',
  classes: [
    { name: 'ants', count: 194 },
    { name: 'bees', count: 203 },
  ],
  rejected: [{ path: 'train/ants/notes.txt', reason: 'not a decodable image' }],
  rejectedCount: 1,
  report: {
    images: 397,
    duplicateGroups: 0,
    leakedValImages: 0,
    imbalanceRatio: 1.05,
    greyImages: 2,
    colourImages: 395,
    smallImages: 0,
    warnings: [
      {
        code: 'mixed_colour',
        message: '2 of 397 images are greyscale, the rest colour',
        examples: ['train/bees/2962405283_22718d9617.jpg'],
      },
    ],
  },
  createdAt: AT,
};

const IMAGE_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

export const exampleDatasetImages: Static<typeof DatasetImagePage> = {
  items: [
    {
      id: IMAGE_ID,
      class: 'ants',
      split: 'train',
      path: 'hymenoptera_data/train/ants/0013035.jpg',
      width: 768,
      height: 512,
      bytes: 117_624,
      thumbnailUrl: `/v1/datasets/${DATASET_ID}/images/${IMAGE_ID}/thumbnail`,
    },
  ],
  total: 124,
  limit: 60,
  offset: 0,
};

const evaluation = (accuracy: number, loss: number) => ({
  accuracy,
  loss,
  count: 153,
  perClass: [
    { label: 'ants', precision: accuracy, recall: accuracy, f1: accuracy, support: 70 },
    { label: 'bees', precision: accuracy, recall: accuracy, f1: accuracy, support: 83 },
  ],
  confusionMatrix: [
    [66, 4],
    [4, 79],
  ],
});

const chosen = {
  features: ['top' as const, 'gray' as const],
  hiddenUnits: 0,
  dropout: 0,
  l2: 0.204,
  mirror: true,
  learningRate: 0.05,
  maxEpochs: 100,
  cvAccuracy: 0.898,
  cvLoss: 0.205,
  iterations: 100,
};

export const exampleSummary: TrainingSummary = {
  kept: 'fineTuning',
  keptReason:
    'fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)',
  evaluation: evaluation(0.948, 0.171),
  featureExtraction: evaluation(0.928, 0.201),
  fineTuning: evaluation(0.948, 0.171),
  unfreezeFrom: 'Conv_1',
  split: { method: 'given', train: 244, val: 153, droppedFromValidation: 0 },
  skipped: [],
  search: { enabled: true, folds: 5, seconds: 3.3, chosen, tried: [chosen] },
  baseline: {
    chosen: { ...chosen, features: ['colour'], mirror: false, cvAccuracy: 0.669, cvLoss: 0.643 },
    evaluation: evaluation(0.582, 0.69),
    shipped: false,
  },
  transferGain: 0.366,
  classWeights: { ants: 1.0082, bees: 0.9919 },
  earlyStopping: {
    featureExtraction: { steps: 100 },
    fineTuning: { bestEpoch: 5, stoppedEarly: false },
  },
  calibration: {
    temperature: 0.875,
    fittedOn: 'held-out fold',
    eceBefore: 0.0457,
    eceAfter: 0.0341,
  },
  featureCache: { engine: 'onnxruntime (2 threads)', images: 397, fromEmbeddingCache: 0 },
  seconds: {
    featureCache: 2.6,
    search: 2.0,
    featureExtraction: 2.2,
    fineTuning: 5.7,
    total: 10.7,
  },
};

export const exampleCreateJob: Static<typeof CreateJobBody> = {
  datasetId: DATASET_ID,
  fineTuning: { epochs: 5 },
};

export const exampleJob: Static<typeof Job> = {
  id: JOB_ID,
  status: 'succeeded',
  datasetId: DATASET_ID,
  baseModel: 'mobilenet_v2_0.35',
  spec: TRAINING_SPEC_DEFAULTS,
  phase: 'export',
  progress: 1,
  epoch: 5,
  epochs: 5,
  etaSeconds: 0,
  history: [
    {
      phase: 'fineTuning',
      epoch: 1,
      loss: 0.061,
      accuracy: 0.985,
      valLoss: 0.141,
      valAccuracy: 0.939,
    },
  ],
  metrics: exampleSummary,
  modelId: MODEL_ID,
  error: null,
  backend: 'wasm',
  cancelRequested: false,
  attempt: 2,
  resumes: [
    {
      attempt: 2,
      fromAttempt: 1,
      stage: 'fineTuning',
      epoch: 3,
      at: '2026-11-28T10:01:02.000Z',
    },
  ],
  createdAt: AT,
  startedAt: AT,
  finishedAt: '2026-11-28T10:00:25.000Z',
};

export const exampleModel: Static<typeof Model> = {
  id: MODEL_ID,
  jobId: JOB_ID,
  datasetId: DATASET_ID,
  baseModel: 'mobilenet_v2_0.35',
  labels: ['ants', 'bees'],
  inputSize: 224,
  preprocessing: { size: 224, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' },
  kept: 'fineTuning',
  keptReason: exampleSummary.keptReason,
  metrics: { accuracy: 0.948, ...exampleSummary },
  createdAt: AT,
};

export const examplePrediction: Static<typeof PredictResponse> = {
  modelId: MODEL_ID,
  predictions: [
    { label: 'bees', score: 0.97 },
    { label: 'ants', score: 0.03 },
  ],
  latencyMs: 24.6,
};

export const exampleReady: Static<typeof Ready> = {
  status: 'ready',
  postgres: true,
  redis: true,
  workers: 2,
  underPressure: false,
};

const WEBHOOK_ID = '7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e';
const DELIVERY_ID = '2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b';

export const exampleWebhook: WebhookView = {
  id: WEBHOOK_ID,
  url: 'https://hooks.example.com/graft',
  events: ['state', 'report'],
  description: 'CI notifications',
  createdAt: AT,
  disabledAt: null,
  disabledReason: null,
};

/** What a delivery of a job's `state` event POSTs. */
export const exampleWebhookPayload: WebhookPayloadView = {
  id: DELIVERY_ID,
  type: 'job.state',
  createdAt: '2026-11-28T10:00:25.120Z',
  data: {
    type: 'state',
    jobId: JOB_ID,
    at: '2026-11-28T10:00:25.000Z',
    status: 'succeeded',
    cancelRequested: false,
    error: null,
    modelId: MODEL_ID,
  },
};

export const exampleDelivery: WebhookDeliveryView = {
  id: DELIVERY_ID,
  eventType: 'state',
  jobId: JOB_ID,
  status: 'succeeded',
  attempts: 2,
  lastStatusCode: 200,
  lastError: null,
  body: JSON.stringify(exampleWebhookPayload),
  createdAt: '2026-11-28T10:00:25.120Z',
  deliveredAt: '2026-11-28T10:00:35.410Z',
};
