import * as tf from '@tensorflow/tfjs';

type SymbolicTensor = tf.SymbolicTensor;

/*
 * Cutting a pretrained functional model in two at a single tensor (the "boundary"): the
 * bottom runs frozen once per image and its outputs are cached; the top is rebuilt on a new
 * input so it can be trained on those cached activations. Both halves share the original
 * layers (and so their weights).
 */

export class ModelSurgeryError extends Error {
  override name = 'ModelSurgeryError';
}

function outputOf(model: tf.LayersModel, layerName: string): SymbolicTensor {
  const layer = model.layers.find((l) => l.name === layerName);
  if (!layer) throw new ModelSurgeryError(`the base has no layer named '${layerName}'`);
  const output = layer.output;
  if (Array.isArray(output))
    throw new ModelSurgeryError(`layer '${layerName}' has several outputs`);
  return output;
}

/** The single tensor a layer reads in the base's own graph, if it reads exactly one. */
function inputOf(model: tf.LayersModel, layerName: string): SymbolicTensor | undefined {
  const layer = model.layers.find((l) => l.name === layerName);
  const node = layer?.inboundNodes[0];
  return node && node.inputTensors.length === 1 ? node.inputTensors[0] : undefined;
}

/** Layers between `boundary` (exclusive) and `output`, or undefined if output reads around it. */
function layersBetween(boundary: SymbolicTensor, output: SymbolicTensor): Set<string> | undefined {
  const seen = new Set<string>();
  const stack = [output];
  const visited = new Set<number>();
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (tensor.id === boundary.id || visited.has(tensor.id)) continue;
    visited.add(tensor.id);
    const layer = tensor.sourceLayer;
    const node = layer.inboundNodes[tensor.nodeIndex];
    if (!node || node.inboundLayers.length === 0) return undefined; // reached the model input
    seen.add(layer.name);
    stack.push(...node.inputTensors);
  }
  return seen;
}

export interface CutPlan {
  /** First layer that fine-tuning trains; undefined when nothing is unfrozen. */
  unfreezeFrom?: string;
  /** Layer names trained during fine-tuning (the top). */
  topLayers: string[];
  boundary?: SymbolicTensor;
  features: SymbolicTensor;
}

/** Layers (in model order, up to the feature layer) where the model may be cut in two. */
export function validUnfreezePoints(model: tf.LayersModel, featureLayer: string): string[] {
  const features = outputOf(model, featureLayer);
  const end = model.layers.findIndex((l) => l.name === featureLayer);
  return model.layers
    .slice(1, end + 1)
    .filter((layer) => {
      const boundary = inputOf(model, layer.name);
      return boundary !== undefined && layersBetween(boundary, features)?.has(layer.name) === true;
    })
    .map((layer) => layer.name);
}

/**
 * Resolves where fine-tuning starts: a named layer, the top N layers (rounded so at least N are
 * trained, to the nearest valid cut), or the base's default.
 */
export function planCut(
  model: tf.LayersModel,
  featureLayer: string,
  choice: { unfreezeFrom?: string; unfreezeLayers?: number; fallback?: string },
): CutPlan & { unfreezeFrom: string } {
  const features = outputOf(model, featureLayer);
  const valid = validUnfreezePoints(model, featureLayer);
  const names = model.layers.map((l) => l.name);
  const end = names.indexOf(featureLayer);
  let from = choice.unfreezeFrom;
  if (from === undefined && choice.unfreezeLayers !== undefined) {
    const target = end - choice.unfreezeLayers + 1;
    from = [...valid].reverse().find((name) => names.indexOf(name) <= target) ?? valid[0];
  }
  from ??= choice.fallback && valid.includes(choice.fallback) ? choice.fallback : valid.at(-1);
  if (from === undefined || !valid.includes(from)) {
    const hint = valid.slice(-12).join(', ');
    throw new ModelSurgeryError(
      from === undefined
        ? `the base cannot be cut below '${featureLayer}'`
        : `cannot unfreeze from '${from}': it is not a layer fed by a single tensor below '${featureLayer}' (valid: …${hint})`,
    );
  }
  const boundary = inputOf(model, from)!;
  const top = layersBetween(boundary, features)!;
  return {
    unfreezeFrom: from,
    topLayers: names.filter((name) => top.has(name)),
    boundary,
    features,
  };
}

/** Re-applies the layers between `boundary` and `output` to a fresh input of boundary's shape. */
export function rebuildTop(
  boundary: SymbolicTensor,
  output: SymbolicTensor,
): { input: SymbolicTensor; output: SymbolicTensor } {
  const input = tf.input({ shape: boundary.shape.slice(1), name: 'graft_boundary' });
  const rebuilt = new Map<number, SymbolicTensor>([[boundary.id, input]]);
  const rebuild = (tensor: SymbolicTensor): SymbolicTensor => {
    const known = rebuilt.get(tensor.id);
    if (known) return known;
    const layer = tensor.sourceLayer;
    const node = layer.inboundNodes[tensor.nodeIndex]!;
    const inputs = node.inputTensors.map(rebuild);
    const result = layer.apply(inputs.length === 1 ? inputs[0]! : inputs, node.callArgs);
    const out = Array.isArray(result) ? result[tensor.tensorIndex] : result;
    rebuilt.set(tensor.id, out as SymbolicTensor);
    return out as SymbolicTensor;
  };
  return { input, output: rebuild(output) };
}

/** The last layer whose output is a feature map (rank 4): the natural cut of an unknown base. */
export function lastFeatureMapLayer(model: tf.LayersModel): string {
  const layer = [...model.layers].reverse().find((l) => {
    const shape = l.outputShape;
    return !Array.isArray(shape[0]) && (shape as (number | null)[]).length === 4;
  });
  if (!layer) throw new ModelSurgeryError('the base has no layer with a 4-D feature-map output');
  return layer.name;
}

/** Disposes each weight of the given models once, however many models share the layers. */
export function disposeModelWeights(...models: tf.LayersModel[]): void {
  const seen = new Set<tf.LayerVariable>();
  for (const model of models) {
    for (const layer of model.layers) {
      for (const weight of layer.weights) {
        if (seen.has(weight)) continue;
        seen.add(weight);
        weight.dispose();
      }
    }
  }
}
