/**
 * bench:train — a fixed transfer-learning workload, timed, next to the PyTorch tutorial recipe
 * run back to back on the same machine. Prints one JSON object on stdout (progress on stderr).
 *
 *   npm run bench:train -- [--json] [--data <dir>] [--base <id>] [--no-baseline]
 *     [--store folder|local|s3] [--compare-stores [--rounds 4]]
 *
 * Defaults: ../shared/datasets/hymenoptera, mobilenet_v2_0.35; Graft runs its default job
 * spec (head search, baseline, fine-tuning, calibration), PyTorch its tutorial recipe with
 * 10 head epochs + 5 fine-tuning epochs.
 *
 * With the folder (the default) it also measures, in the same run: the frozen part's bare
 * forward pass on tfjs and on ONNX Runtime (`graft.featureExtraction`), PyTorch's bare forward
 * pass (`pytorchForward`, bench/pytorch_forward.py), and the same job twice on one tenant's
 * embedding cache as the worker runs it (`repeatedJob`: a local store, PostgreSQL for the
 * index); `ratios` sets Graft against each (whole job / recipe, feature-cache stage with
 * decoding / PyTorch's forward, second job / first).
 *
 * `--store folder` (the default) trains from the folder, as `npm run train` does. `--store
 * local` or `--store s3` first copies the images into an artifact store (a folder in a temp
 * dir, or a bucket on an s3rver this bench starts on loopback), then runs the job as the worker
 * does: images read from the store, the model and checkpoints written to it; no PyTorch run.
 * `--compare-stores` runs that job on both stores in one process, `--rounds` pairs in ABBA order
 * (local, s3, s3, local, …), and prints the ratios s3/local of their timings.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../src/config/config.js';
import { resolveTrainingSpec } from '../src/contracts/training-spec.js';
import { onnxFrozenRunner } from '../src/onnx/onnx-runner.js';
import { ApiKeysRepository } from '../src/db/api-keys.repository.js';
import { EmbeddingCacheRepository } from '../src/db/embedding-cache.repository.js';
import { createDb } from '../src/db/prisma-client.js';
import {
  applyMigrations,
  DEFAULT_POSTGRES,
  dropDatabase,
  ensurePostgres,
} from '../src/runtime/infrastructure.js';
import { trainFromFolder } from '../src/services/folder-training.service.js';
import { runTransfer } from '../src/services/transfer-run.js';
import { loadBaseModel } from '../src/storage/base-model-store.js';
import { tenantEmbeddings } from '../src/storage/embedding-cache.js';
import { listImageFolder } from '../src/storage/image-folder.js';
import { openCheckpoints, removeCheckpoints } from '../src/storage/training-checkpoints.js';
import { selectBackend } from '../src/tfjs/tfjs-backend.js';
import type { LabelledExample } from '../src/training/dataset-split.js';
import { freezeBatchNorm } from '../src/training/frozen-batch-norm.js';
import { disposeModelWeights } from '../src/training/model-surgery.js';
import type {
  EmbeddingCache,
  TrainingProgress,
  TrainingReport,
} from '../src/training/training-types.js';
import {
  interleaved,
  mean,
  openBenchStore,
  operationsSince,
  putFiles,
  STORE_KINDS,
  storeOperations,
  type BenchStore,
  type StoreKind,
} from './bench-stores.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    data: { type: 'string', default: '../shared/datasets/hymenoptera' },
    base: { type: 'string', default: 'mobilenet_v2_0.35' },
    'no-baseline': { type: 'boolean', default: false },
    store: { type: 'string', default: 'folder' },
    'compare-stores': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '4' },
  },
});
const HEAD_EPOCHS = 10;
const FINE_EPOCHS = 5;
const storeKind = values.store as StoreKind | 'folder';
const rounds = Number(values.rounds);
if (!['folder', ...STORE_KINDS].includes(storeKind) || !(Number.isInteger(rounds) && rounds > 0)) {
  console.error('bench:train: --store is folder, local or s3; --rounds a whole number above 0');
  process.exit(2);
}

process.env.GRAFT_MODEL_MIRROR ??= existsSync('../shared/models')
  ? resolve('../shared/models')
  : '';
const config = loadConfig();
const dataDir = resolve(values.data);
if (!existsSync(dataDir)) {
  console.error(
    `bench:train needs a dataset at ${dataDir} (../shared/datasets/hymenoptera in dev)`,
  );
  process.exit(2);
}

/**
 * Forward passes of the frozen base alone on pre-made pixels (no decoding): the
 * feature-extraction rate as Graft runs it (BN as a folded affine map), and as stock tfjs runs
 * the same model, measured in the same process.
 */
async function extractionRate() {
  const { artifacts, entry } = await loadBaseModel(values.base, {
    mirrorDir: config.modelMirror,
    cacheDir: config.modelCacheDir,
  });
  const batchSize = 16;
  const rounds = 8;
  const size = entry.preprocessing.size;
  const input = tf.randomUniform([batchSize, size, size, 3], -1, 1, 'float32', 1);
  const rate = async (patchBatchNorm: boolean): Promise<number> => {
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    if (patchBatchNorm) freezeBatchNorm(model);
    const run = () => {
      // Outside tf.tidy, as the core runs it: predict frees activations as it goes.
      const output = model.predict(input) as tf.Tensor;
      output.dataSync();
      output.dispose();
    };
    run();
    run(); // warm-up
    const started = performance.now();
    for (let i = 0; i < rounds; i++) run();
    const seconds = (performance.now() - started) / 1000;
    disposeModelWeights(model);
    return (rounds * batchSize) / seconds;
  };
  const imagesPerSecond = await rate(true);
  const stockTfjsImagesPerSecond = await rate(false);
  const onnxRuntime = await onnxRate(artifacts, input, rounds);
  input.dispose();
  return {
    imagesPerSecond,
    stockTfjsImagesPerSecond,
    onnxRuntime,
    images: rounds * batchSize,
    batchSize,
    inputSize: size,
  };
}

/** Runs a PyTorch script of bench/ and parses the JSON it prints, or says why not. */
/** The same forward passes on ONNX Runtime, as training runs them (config.engines.onnxThreads). */
async function onnxRate(artifacts: tf.io.ModelArtifacts, input: tf.Tensor, rounds: number) {
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  try {
    const runner = await onnxFrozenRunner(model, { threads: config.engines.onnxThreads });
    const data = input.dataSync() as Float32Array;
    const batch = input.shape[0];
    await runner.run(data, batch);
    await runner.run(data, batch); // warm-up
    const started = performance.now();
    for (let i = 0; i < rounds; i++) await runner.run(data, batch);
    const seconds = (performance.now() - started) / 1000;
    await runner.dispose();
    return { engine: runner.engine, imagesPerSecond: (rounds * batch) / seconds };
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) };
  } finally {
    disposeModelWeights(model);
  }
}

function pytorch(script: string, args: string[]): Record<string, unknown> {
  const python = ['/usr/bin/python3', 'python3'].find((p) => !p.startsWith('/') || existsSync(p))!;
  const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { skipped: 'PyTorch not installed (apt-get install python3-torch python3-torchvision)' };
  }
  const run = spawnSync(python, [`bench/${script}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return { skipped: `${script} failed: ${run.stderr.slice(-500)}` };
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** The PyTorch tutorial recipe, 10 + 5 epochs: the whole-job reference. */
const pytorchBaseline = () =>
  pytorch('pytorch_transfer_baseline.py', [dataDir, String(HEAD_EPOCHS), String(FINE_EPOCHS)]);

/** PyTorch's bare forward pass of MobileNetV2-0.35 (no decoding): the feature-cache reference. */
const pytorchForward = () => pytorch('pytorch_forward.py', ['--seconds', '5']);

/**
 * The same job twice on one tenant's embedding cache (a local store, a PostgreSQL index in a
 * database of its own), as the worker runs it: the first computes and stores every image's
 * features, the second finds them.
 */
async function repeatedJob() {
  const workDir = mkdtempSync(join(tmpdir(), 'graft-bench-train-'));
  const database = `graft_bench_${randomBytes(4).toString('hex')}`;
  const opened = await openBenchStore('local');
  let db: ReturnType<typeof createDb> | undefined;
  try {
    const postgres = await ensurePostgres(undefined, join(workDir, 'pg'), database);
    await applyMigrations(postgres.url);
    db = createDb(postgres.url);
    const { tenantId } = await new ApiKeysRepository(db).create('bench');
    const index = new EmbeddingCacheRepository(db);
    const embeddingsFor = (baseDigest: string) =>
      tenantEmbeddings({
        store: opened.store,
        index,
        tenantId,
        baseDigest,
        budgetBytes: config.engines.embeddingCacheBytes,
        onWarning: (message) => console.error(`[bench:train] ${message}`),
      });
    const { examples } = await uploadDataset(opened);
    console.error('[bench:train] the same job twice on one embedding cache');
    const first = await storeRun(opened, examples, embeddingsFor);
    const second = await storeRun(opened, examples, embeddingsFor);
    const pick = (run: StoreRun) => ({
      wallSeconds: run.wallSeconds,
      totalSeconds: run.totalSeconds,
      featureCache: run.featureCache,
      phases: run.phases,
      kept: run.kept,
      valAccuracy: run.valAccuracy,
    });
    return {
      first: pick(first),
      second: pick(second),
      secondOverFirstWallTime: second.wallSeconds / first.wallSeconds,
    };
  } finally {
    await db?.$disconnect();
    await opened.close();
    await dropDatabase(DEFAULT_POSTGRES, database).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

const onProgress = (p: TrainingProgress) => {
  if (p.val) console.error(`${p.stage} epoch ${p.epoch}: val acc ${p.val.accuracy.toFixed(3)}`);
};

/** What the bench prints of one Graft run (the keys earlier versions printed, unchanged). */
function graftSummary(
  report: TrainingReport,
  wallSeconds: number,
  featureExtraction?: Awaited<ReturnType<typeof extractionRate>>,
) {
  return {
    backend: report.backend,
    base: values.base,
    dataset: dataDir,
    ...(featureExtraction ? { featureExtraction } : {}),
    featureCache: report.featureCache,
    phases: {
      featureExtraction: {
        epochs: report.phases.featureExtraction.bestEpoch,
        searchSeconds: report.search.seconds,
        settingsTried: report.search.tried.length,
        imagesPerSecond: report.phases.featureExtraction.imagesPerSecond,
        seconds: report.phases.featureExtraction.seconds,
        valAccuracy: report.phases.featureExtraction.evaluation.accuracy,
      },
      fineTuning: report.phases.fineTuning && {
        epochs: report.phases.fineTuning.history.length,
        bestEpoch: report.phases.fineTuning.bestEpoch,
        unfreezeFrom: report.phases.fineTuning.unfreezeFrom,
        imagesPerSecond: report.phases.fineTuning.imagesPerSecond,
        seconds: report.phases.fineTuning.seconds,
        valAccuracy: report.phases.fineTuning.evaluation.accuracy,
      },
    },
    baseline: report.baseline && {
      features: report.baseline.chosen.features,
      valAccuracy: report.baseline.evaluation.accuracy,
      transferGain: report.baseline.transferGain,
    },
    calibration: report.calibration,
    kept: report.kept,
    valAccuracy: report.evaluation.accuracy,
    /** The training core's own time (feature cache to export); wallSeconds adds loading. */
    totalSeconds: report.totalSeconds,
    wallSeconds,
  };
}

// --- the job as the worker runs it, on an artifact store -------------------------------------

/**
 * The dataset's images put into the store as an upload puts them; the job's examples. The same
 * dataset id on every store: the same keys, the same job.
 */
const datasetPrefix = `datasets/${randomUUID()}`;
async function uploadDataset(opened: BenchStore) {
  const prefix = datasetPrefix;
  const found = await listImageFolder(dataDir);
  const files = found.map((example, i) => ({
    key: `${prefix}/images/${i}${extname(example.key).toLowerCase()}`,
    path: join(dataDir, example.key),
  }));
  console.error(`[bench:train] copying ${files.length} images into the ${opened.kind} store`);
  const upload = await putFiles(opened.store, files);
  const examples: LabelledExample[] = found.map((example, i) => ({
    ...example,
    key: files[i]!.key,
    contentHash: createHash('sha256').update(readFileSync(files[i]!.path)).digest('hex'),
  }));
  return { examples, upload };
}

/** One training job on the store: what `runTrainingJob` hands `runTransfer` in the worker. */
async function storeRun(
  opened: BenchStore,
  examples: readonly LabelledExample[],
  embeddingsFor?: (baseDigest: string) => EmbeddingCache | undefined,
) {
  const { store } = opened;
  const jobId = randomUUID();
  const artifactKey = `models/${randomUUID()}`;
  const before = await storeOperations();
  const cpuBefore = { bench: process.cpuUsage(), storeServer: opened.serverCpuSeconds() };
  const started = performance.now();
  const checkpoints = await openCheckpoints({
    store,
    jobId,
    attempt: 1,
    fingerprint: `bench-${jobId}`,
    onSaveError: (error) => console.error(`[bench:train] checkpoint not saved: ${String(error)}`),
  });
  const { report } = await runTransfer({
    spec: resolveTrainingSpec({ baseModel: values.base }),
    config,
    examples,
    readImage: (key) => store.get(key),
    writeArtifact: (name, data) => store.put(`${artifactKey}/${name}`, data),
    checkpoints,
    onProgress,
    ...(embeddingsFor ? { embeddingsFor } : {}),
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore.bench);
  const cpuSeconds = {
    bench: (cpu.user + cpu.system) / 1e6,
    storeServer: opened.serverCpuSeconds() - cpuBefore.storeServer,
  };
  const operations = operationsSince(before, await storeOperations());
  // As a finished job leaves it: its model kept, its checkpoints gone (untimed).
  await removeCheckpoints(store, jobId);
  await store.remove(artifactKey);
  return {
    store: opened.kind,
    ...graftSummary(report, wallSeconds),
    storeOperations: operations,
    cpuSeconds,
  };
}

type StoreRun = Awaited<ReturnType<typeof storeRun>>;

const sum = (runs: StoreRun[], pick: (run: StoreRun) => number) =>
  runs.reduce((total, run) => total + pick(run), 0);

/** Means per store and the ratios s3/local of summed seconds (and per ABBA pair). */
function comparison(runs: StoreRun[]) {
  const of = (kind: StoreKind) => runs.filter((run) => run.store === kind);
  const local = of('local');
  const s3 = of('s3');
  const timings = {
    totalSeconds: (run: StoreRun) => run.totalSeconds,
    featureCacheSeconds: (run: StoreRun) => run.featureCache.seconds,
    wallSeconds: (run: StoreRun) => run.wallSeconds,
  };
  const means = (kindRuns: StoreRun[]) => ({
    ...Object.fromEntries(
      Object.entries(timings).map(([name, pick]) => [name, mean(kindRuns.map(pick))]),
    ),
    // The bench's own CPU, and s3rver's: on these cores here, not on a real S3's.
    benchCpuSeconds: mean(kindRuns.map((run) => run.cpuSeconds.bench)),
    storeServerCpuSeconds: mean(kindRuns.map((run) => run.cpuSeconds.storeServer)),
  });
  const ratio = (pick: (run: StoreRun) => number) => sum(s3, pick) / sum(local, pick);
  return {
    means: { local: means(local), s3: means(s3) },
    s3OverLocal: Object.fromEntries(
      Object.entries(timings).map(([name, pick]) => [name, ratio(pick)]),
    ),
    s3OverLocalByRound: local.map((localRun, i) =>
      Object.fromEntries(
        Object.entries(timings).map(([name, pick]) => [name, pick(s3[i]!) / pick(localRun)]),
      ),
    ),
  };
}

async function compareStores(featureExtraction: Awaited<ReturnType<typeof extractionRate>>) {
  const order = interleaved(rounds);
  const stores = new Map<StoreKind, BenchStore>();
  const datasets = new Map<StoreKind, Awaited<ReturnType<typeof uploadDataset>>>();
  try {
    for (const kind of STORE_KINDS) {
      const opened = await openBenchStore(kind);
      stores.set(kind, opened);
      datasets.set(kind, await uploadDataset(opened));
    }
    const runs: StoreRun[] = [];
    for (const [i, kind] of order.entries()) {
      console.error(`[bench:train] run ${i + 1}/${order.length}: ${kind} store`);
      runs.push(await storeRun(stores.get(kind)!, datasets.get(kind)!.examples));
    }
    const compared = comparison(runs);
    return {
      bench: 'train',
      workload: { graft: 'default job spec, run as the worker runs it, on each store' },
      store: 'compare',
      order,
      stores: Object.fromEntries(
        STORE_KINDS.map((kind) => [
          kind,
          { location: stores.get(kind)!.location, upload: datasets.get(kind)!.upload },
        ]),
      ),
      graft: { backend: runs[0]!.backend, base: values.base, dataset: dataDir, featureExtraction },
      runs,
      ...compared,
      withinTenPercent: Object.values(compared.s3OverLocal).every((ratio) => ratio <= 1.1),
    };
  } finally {
    for (const opened of stores.values()) await opened.close();
  }
}

async function singleStore(
  kind: StoreKind,
  featureExtraction: Awaited<ReturnType<typeof extractionRate>>,
) {
  const opened = await openBenchStore(kind);
  try {
    const { examples, upload } = await uploadDataset(opened);
    const run = await storeRun(opened, examples);
    return {
      bench: 'train',
      workload: { graft: 'default job spec, run as the worker runs it' },
      store: kind,
      storeLocation: opened.location,
      upload,
      graft: { ...run, featureExtraction },
      pytorch: { skipped: `--store ${kind} (PyTorch runs with --store folder)` },
    };
  } finally {
    await opened.close();
  }
}

// --- the folder (the default) ------------------------------------------------------------------

async function fromFolder(
  backendName: string,
  featureExtraction: Awaited<ReturnType<typeof extractionRate>>,
) {
  const job = await trainFromFolder({
    dataDir,
    spec: { baseModel: values.base },
    config,
    onProgress,
  });
  const graft = {
    ...graftSummary(job.report, job.wallSeconds, featureExtraction),
    backend: backendName,
  };
  const repeated = await repeatedJob();
  const skip: Record<string, unknown> = { skipped: '--no-baseline' };
  const forward = values['no-baseline'] ? skip : pytorchForward();
  const recipe = values['no-baseline'] ? skip : pytorchBaseline();
  const baselineSeconds = typeof recipe.wallSeconds === 'number' ? recipe.wallSeconds : undefined;
  const forwardRate =
    typeof forward.batch16ImagesPerSecond === 'number' ? forward.batch16ImagesPerSecond : undefined;
  return {
    bench: 'train',
    workload: {
      graft: 'default job spec',
      pytorch: { headEpochs: HEAD_EPOCHS, fineTuneEpochs: FINE_EPOCHS },
    },
    store: 'folder',
    graft,
    pytorch: recipe,
    pytorchForward: forward,
    repeatedJob: repeated,
    ratios: {
      /** Graft's whole job over the PyTorch tutorial recipe's (target ≤ 0.15). */
      ...(baselineSeconds ? { wallTime: graft.wallSeconds / baselineSeconds } : {}),
      /** The feature-cache stage, decoding included, over PyTorch's bare forward (target ≥ 1). */
      ...(forwardRate
        ? { featureCacheOverPytorchForward: graft.featureCache.imagesPerSecond / forwardRate }
        : {}),
      /** A second identical job over the first (target ≤ 0.25). */
      secondJobWallTime: repeated.secondOverFirstWallTime,
    },
  };
}

const backend = await selectBackend(config.tfjsBackend);
// Also the warm-up: the backend, the base's kernels, before any timed run.
const extraction = await extractionRate();
const result = values['compare-stores']
  ? await compareStores(extraction)
  : storeKind === 'folder'
    ? await fromFolder(backend.name, extraction)
    : await singleStore(storeKind, extraction);
// Always JSON; --json is accepted so every bench:* script takes the same flag.
console.log(JSON.stringify(result, null, 2));
