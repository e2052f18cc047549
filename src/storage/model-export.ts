import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { describeOnnxModel } from '../onnx/onnx-model-info.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import type { Preprocessing } from '../training/base-model-catalog.js';

/** `+ low` as code reads it (`- 1` rather than `+ -1`). */
const plus = (low: number) => (low < 0 ? `- ${-low}` : `+ ${low}`);

/** The steps every export's README gives, so tfjs and ONNX users prepare images alike. */
function preprocessingSteps(pre: Preprocessing): string {
  const [low, high] = pre.valueRange;
  return `## Preprocessing (do exactly this)

1. Decode the image as RGB, turned upright by its EXIF orientation, alpha dropped.
2. Resize to ${pre.size} × ${pre.size} pixels (${pre.resize === 'cover' ? 'centre-crop to a square first' : 'stretch, no crop'}).
3. Map each 0..255 value v to \`v * ${(high - low) / 255} ${plus(low)}\` (range [${low}, ${high}]), channels ${pre.channelOrder}.
4. Shape \`[n, ${pre.size}, ${pre.size}, 3]\`, float32.
`;
}

function readme(modelId: string, labels: string[], pre: Preprocessing): string {
  const [low, high] = pre.valueRange;
  return `# Graft model ${modelId}

An image classifier exported by Graft: a TF.js LayersModel (\`model.json\` + \`weights.bin\`)
and \`metadata.json\` (labels, preprocessing, evaluation, training spec).

Classes, in output order: ${labels.map((l) => `\`${l}\``).join(', ')}.

${preprocessingSteps(pre)}
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

function onnxReadme(
  modelId: string,
  labels: string[],
  pre: Preprocessing,
  io: { input: string; output: string },
): string {
  const [low, high] = pre.valueRange;
  const scale = (high - low) / 255;
  const size = pre.size;
  const bgr = pre.channelOrder === 'BGR';
  const pythonResize =
    pre.resize === 'cover'
      ? `ImageOps.fit(image, (${size}, ${size}), Image.LANCZOS)`
      : `image.resize((${size}, ${size}), Image.LANCZOS)`;
  return `# Graft model ${modelId} (ONNX)

An image classifier exported by Graft as an ONNX graph (\`model.onnx\`, opset 13), with
\`metadata.json\` (labels, preprocessing, evaluation, training spec). ONNX Runtime runs it in
any language it has bindings for, on CPU or GPU.

Classes, in output order: ${labels.map((l) => `\`${l}\``).join(', ')}.

## Input and output

- Input \`${io.input}\`: float32, shape \`[n, ${size}, ${size}, 3]\` (NHWC: images, height, width,
  channels; any n), prepared as below.
- Output \`${io.output}\`: float32, shape \`[n, ${labels.length}]\`: softmax scores (each row sums to 1),
  column i for the i-th class above (\`labels\` in metadata.json).

${preprocessingSteps(pre)}
Graft decodes and resizes with sharp (libvips, Lanczos 3); another library resizes a little
differently, which moves the scores a little.

## Run it with onnxruntime-node

\`\`\`js
const fs = require('fs');
const ort = require('onnxruntime-node');
const sharp = require('sharp');

async function main(imagePath) {
  const session = await ort.InferenceSession.create('model.onnx');
  const { labels } = JSON.parse(fs.readFileSync('metadata.json', 'utf8'));
  const pixels = await sharp(imagePath).rotate().removeAlpha().toColourspace('srgb')
    .resize(${size}, ${size}, { fit: '${pre.resize}' }).raw().toBuffer();
  const input = Float32Array.from(pixels, (v) => v * ${scale} ${plus(low)});${
    bgr
      ? `
  for (let i = 0; i < input.length; i += 3) [input[i], input[i + 2]] = [input[i + 2], input[i]];`
      : ''
  }
  const feeds = { '${io.input}': new ort.Tensor('float32', input, [1, ${size}, ${size}, 3]) };
  const scores = (await session.run(feeds))['${io.output}'].data;
  console.log(labels.map((label, i) => ({ label, score: scores[i] })).sort((a, b) => b.score - a.score));
}
main(process.argv[2]);
\`\`\`

## Run it with Python onnxruntime

\`\`\`python
import json, sys
import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
labels = json.load(open("metadata.json"))["labels"]
image = ImageOps.exif_transpose(Image.open(sys.argv[1])).convert("RGB")
image = ${pythonResize}
x = np.asarray(image, dtype=np.float32)[None] * ${scale} ${plus(low)}${bgr ? '\nx = np.ascontiguousarray(x[..., ::-1])' : ''}
scores = session.run(["${io.output}"], {"${io.input}": x})[0][0]
for label, score in sorted(zip(labels, scores), key=lambda p: -p[1]):
    print(label, float(score))
\`\`\`
`;
}

/**
 * A zip of the model as ONNX: \`model.onnx\` (given: stored or just converted), metadata.json
 * from the store, and a README naming the graph's input and output.
 */
export async function exportOnnxZip(
  store: ArtifactStore,
  model: { id: string; artifactKey: string; labels: string[]; preprocessing: Preprocessing },
  onnx: Uint8Array,
): Promise<Readable> {
  const graph = describeOnnxModel(onnx);
  const metadata = await store.get(`${model.artifactKey}/metadata.json`);
  const io = { input: graph.inputName, output: graph.outputNames[0]! };
  const archive = new yazl.ZipFile();
  archive.addBuffer(Buffer.from(onnx.buffer, onnx.byteOffset, onnx.byteLength), 'model.onnx');
  archive.addBuffer(metadata, 'metadata.json');
  const text = onnxReadme(model.id, model.labels, model.preprocessing, io);
  archive.addBuffer(Buffer.from(text), 'README.md');
  archive.end();
  return archive.outputStream as Readable;
}
