/**
 * The pretrained bases Graft can transfer from. Pure data: where weights come from is
 * resolved by storage/base-model-store.ts, how images are prepared by preprocessing.ts.
 */

export interface Preprocessing {
  /** Input height and width in pixels. */
  size: number;
  /** How an image of another aspect ratio is fitted: centre crop (`cover`) or stretch (`fill`). */
  resize: 'cover' | 'fill';
  /** The value range the base was trained on; 0..255 pixels map linearly onto it. */
  valueRange: [number, number];
  channelOrder: 'RGB' | 'BGR';
}

export type WeightsSource =
  /** LayersModel bundled in an npm dependency: works offline. */
  | { kind: 'npm'; package: 'nsfwjs'; model: 'mobilenet_v2' }
  /**
   * LayersModel committed in this repository under models/<folder>: works offline. `url` is
   * the public copy of the same files; `pinned` their sizes + sha256, checked on every load.
   */
  | {
      kind: 'bundled';
      folder: string;
      url: string;
      pinned: Record<string, { bytes: number; sha256: string }>;
    }
  /** Public URL of model.json; shards sit beside it. `pinned` holds sizes + sha256 we know. */
  | { kind: 'url'; url: string; pinned?: Record<string, { bytes: number; sha256: string }> }
  /** A directory (or file:// URL) holding model.json and its weight files. */
  | { kind: 'local'; dir: string };

export interface BaseModelEntry {
  id: string;
  description: string;
  architecture: 'MobileNetV2' | 'MobileNetV1' | 'custom';
  alpha?: number;
  preprocessing: Preprocessing;
  source: WeightsSource;
  /** Folder name under GRAFT_MODEL_MIRROR that holds a local copy. */
  mirrorName?: string;
  license: string;
  trainedOn: string;
  /** Where the base is cut by default: the head reads this layer's output. */
  featureLayer: string;
  /** An earlier depth whose pooled output the head search may add to the features. */
  midFeatureLayer?: string;
  /** Other layers it may be cut at. */
  cutLayers: string[];
  /** Layers fine-tuning may start from (each begins a block fed by one tensor). */
  unfreezePoints: string[];
  defaultUnfreezeFrom: string;
  default?: boolean;
}

const IMAGENET = 'ImageNet (ILSVRC-2012, 1,000 classes)';
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const mobileNetV2Unfreeze = [
  'Conv_1',
  ...range(1, 16)
    .reverse()
    .map((n) => `block_${n}_expand`),
];
const mobileNetV2Cuts = ['out_relu', ...range(1, 16).map((n) => `block_${n}_expand_relu`)];

/** The ImageNet MobileNetV2-0.35 committed under models/ (see its NOTICE.md). */
const BUNDLED_V2_035 = {
  'model.json': {
    bytes: 90_367,
    sha256: '4f585d36c1543d61cf58664eb2f90d3ea12aab4a28054c3ba3b489436d063f0e',
  },
  'weights.bin': {
    bytes: 1_640_832,
    sha256: 'e159deb3afa15bc63a53edb3eb31d0d6de1a25f0d8d72d9b8372b5088a902a8a',
  },
};

function teachableMachineV2(alpha: string): BaseModelEntry {
  const id = `mobilenet_v2_${alpha}`;
  const url = `https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alpha}_224_no_top/model.json`;
  const bundled = alpha === '0.35';
  return {
    id,
    description: bundled
      ? 'Keras MobileNetV2 (alpha 0.35, 224 px, no top), ImageNet weights, bundled with Graft: works offline (the default)'
      : `Keras MobileNetV2 (alpha ${alpha}, 224 px, no top) as used by Teachable Machine`,
    architecture: 'MobileNetV2',
    alpha: Number(alpha),
    preprocessing: { size: 224, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' },
    source: bundled
      ? { kind: 'bundled', folder: `${id}_224_imagenet`, url, pinned: BUNDLED_V2_035 }
      : { kind: 'url', url },
    mirrorName: `${id}_224_imagenet`,
    license: 'Apache-2.0 (Keras Applications weights)',
    trainedOn: IMAGENET,
    featureLayer: 'out_relu',
    midFeatureLayer: 'block_13_expand_relu',
    cutLayers: mobileNetV2Cuts,
    unfreezePoints: mobileNetV2Unfreeze,
    defaultUnfreezeFrom: 'Conv_1',
    ...(bundled ? { default: true } : {}),
  };
}

function tfjsModelsV1(alpha: string): BaseModelEntry {
  const id = `mobilenet_v1_${alpha}`;
  const urlAlpha = alpha === '1.00' ? '1.0' : alpha;
  return {
    id,
    description: `Keras MobileNet V1 (alpha ${alpha}, 224 px, with ImageNet top) from tfjs-models`,
    architecture: 'MobileNetV1',
    alpha: Number(alpha),
    preprocessing: { size: 224, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' },
    source: {
      kind: 'url',
      url: `https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_${urlAlpha}_224/model.json`,
    },
    mirrorName: `${id}_224_imagenet`,
    license: 'Apache-2.0 (Keras Applications weights)',
    trainedOn: IMAGENET,
    featureLayer: 'conv_pw_13_relu',
    midFeatureLayer: 'conv_pw_11_relu',
    cutLayers: range(1, 13).map((n) => `conv_pw_${n}_relu`),
    unfreezePoints: range(1, 13)
      .reverse()
      .flatMap((n) => [`conv_pw_${n}`, `conv_dw_${n}`]),
    defaultUnfreezeFrom: 'conv_pw_13',
  };
}

export const DEFAULT_BASE_ID = 'mobilenet_v2_0.35';

export const BASE_MODEL_CATALOG: readonly BaseModelEntry[] = [
  teachableMachineV2('0.35'),
  {
    id: 'nsfwjs_mobilenet_v2',
    description:
      'Keras MobileNetV2 (alpha 1.0, 224 px) bundled in the nsfwjs npm package: works offline, ' +
      'but its upper blocks were fine-tuned for NSFW detection, so it transfers worse than ' +
      'the ImageNet default to most data (hymenoptera: 0.82 vs 0.93 validation accuracy)',
    architecture: 'MobileNetV2',
    alpha: 1,
    preprocessing: { size: 224, resize: 'cover', valueRange: [0, 1], channelOrder: 'RGB' },
    source: { kind: 'npm', package: 'nsfwjs', model: 'mobilenet_v2' },
    license: 'MIT (nsfwjs 4.3.0)',
    trainedOn:
      'ImageNet-initialised, then its upper blocks fine-tuned by the nsfwjs authors on a 5-class ' +
      'NSFW task (drawings, hentai, neutral, porn, sexy); its weights are 8-bit quantised. ' +
      'Generic features are best below those blocks, hence the cut at block_13_expand_relu.',
    featureLayer: 'block_13_expand_relu',
    midFeatureLayer: 'block_6_expand_relu',
    cutLayers: mobileNetV2Cuts,
    unfreezePoints: mobileNetV2Unfreeze,
    defaultUnfreezeFrom: 'block_13_expand',
  },
  teachableMachineV2('0.50'),
  teachableMachineV2('0.75'),
  teachableMachineV2('1.00'),
  tfjsModelsV1('0.25'),
  tfjsModelsV1('0.50'),
  tfjsModelsV1('1.00'),
];

export function findBaseModel(id: string): BaseModelEntry | undefined {
  return BASE_MODEL_CATALOG.find((entry) => entry.id === id);
}
