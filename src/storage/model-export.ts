import type { Readable } from 'node:stream';
import yazl from 'yazl';
import type { ArtifactStore } from '../storage/artifact-store.js';
import type { Preprocessing } from '../training/base-model-catalog.js';

function readme(modelId: string, labels: string[], pre: Preprocessing): string {
  const [low, high] = pre.valueRange;
  return `# Graft model ${modelId}

An image classifier exported by Graft: a TF.js LayersModel (\`model.json\` + \`weights.bin\`)
and \`metadata.json\` (labels, preprocessing, evaluation, training spec).

Classes, in output order: ${labels.map((l) => `\`${l}\``).join(', ')}.

## Preprocessing (do exactly this)

1. Decode the image as RGB, turned upright by its EXIF orientation, alpha dropped.
2. Resize to ${pre.size} × ${pre.size} pixels (${pre.resize === 'cover' ? 'centre-crop to a square first' : 'stretch, no crop'}).
3. Map each 0..255 value v to \`v * ${(high - low) / 255} + ${low}\` (range [${low}, ${high}]), channels ${pre.channelOrder}.
4. Shape \`[n, ${pre.size}, ${pre.size}, 3]\`, float32.

## Run it with plain @tensorflow/tfjs (Node)

\`\`\`js
const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const sharp = require('sharp');

async function main(imagePath) {
  const json = JSON.parse(fs.readFileSync('model.json', 'utf8'));
  const weights = fs.readFileSync('weights.bin');
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
  const { labels } = JSON.parse(fs.readFileSync('metadata.json', 'utf8'));
  const pixels = await sharp(imagePath).rotate().removeAlpha().toColourspace('srgb')
    .resize(${pre.size}, ${pre.size}, { fit: '${pre.resize}' }).raw().toBuffer();
  const input = tf.tensor4d(new Uint8Array(pixels), [1, ${pre.size}, ${pre.size}, 3], 'int32')
    .toFloat().mul(${(high - low) / 255}).add(${low});
  const scores = await model.predict(input).data();
  console.log(labels.map((label, i) => ({ label, score: scores[i] })).sort((a, b) => b.score - a.score));
}
main(process.argv[2]);
\`\`\`

In a browser, \`tf.loadLayersModel('model.json')\` loads it from the same folder over HTTP.
`;
}

const MODEL_FILES = ['model.json', 'weights.bin', 'metadata.json'];

/**
 * A zip of the model's files plus a README on running it anywhere tfjs runs, streamed: each
 * file is read from the store as the zip reaches it, so no model is ever whole in memory.
 * A missing file fails here, before anything is sent; a read that fails later ends the stream
 * with its error.
 */
export async function exportModelZip(
  store: ArtifactStore,
  model: { id: string; artifactKey: string; labels: string[]; preprocessing: Preprocessing },
): Promise<Readable> {
  for (const name of MODEL_FILES) {
    if (!(await store.exists(`${model.artifactKey}/${name}`)))
      throw new Error(`model ${model.id} has no ${name} in the store`);
  }
  const archive = new yazl.ZipFile();
  const output = archive.outputStream as Readable;
  const reading = new Set<Readable>();
  archive.on('error', (error: Error) => output.destroy(error));
  // A client that goes away mid-download: stop reading (and close) the file being zipped.
  output.once('close', () => reading.forEach((file) => file.destroy()));
  for (const name of MODEL_FILES) {
    archive.addReadStreamLazy(name, (done) => {
      const file = store.stream(`${model.artifactKey}/${name}`);
      reading.add(file);
      file.once('close', () => reading.delete(file));
      // yazl listens for errors only on the zip, not on the streams it is handed.
      file.once('error', (error) => output.destroy(error));
      done(null, file);
    });
  }
  archive.addBuffer(Buffer.from(readme(model.id, model.labels, model.preprocessing)), 'README.md');
  archive.end();
  return output;
}
