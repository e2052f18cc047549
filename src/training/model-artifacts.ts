import * as tf from '@tensorflow/tfjs';

/* Pure conversions between tfjs model artifacts and the model.json + weights.bin files. */

/** The on-disk shape of a TF.js LayersModel's model.json. */
export interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

export function parseModelJson(text: string, source: string): ModelJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not valid JSON`);
  }
  const json = parsed as Partial<ModelJson>;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${source} is not a TF.js LayersModel (no modelTopology/weightsManifest)`);
  }
  return json as ModelJson;
}

/** Builds tfjs model artifacts from a parsed model.json and the bytes of its weight files. */
export function toArtifacts(json: ModelJson, weightFiles: Uint8Array[]): tf.io.ModelArtifacts {
  const total = weightFiles.reduce((sum, file) => sum + file.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const file of weightFiles) {
    weightData.set(file, offset);
    offset += file.byteLength;
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weightData.buffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
  };
}

function weightBytes(artifacts: tf.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (!data) return new Uint8Array(0);
  if (Array.isArray(data)) {
    return new Uint8Array(tf.io.concatenateArrayBuffers(data));
  }
  return new Uint8Array(data);
}

/** The model.json + weights.bin pair that `tf.loadLayersModel` reads in any tfjs build. */
export function serializeArtifacts(artifacts: tf.io.ModelArtifacts): {
  modelJson: string;
  weights: Uint8Array;
} {
  const modelJson: ModelJson = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
  };
  return { modelJson: JSON.stringify(modelJson), weights: weightBytes(artifacts) };
}

/** A model's artifacts in memory, as `model.save()` produces them. */
export async function modelToArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((saved) => {
      artifacts = saved;
      return Promise.resolve({
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
      });
    }),
  );
  return artifacts!;
}
