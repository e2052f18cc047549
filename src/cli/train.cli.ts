import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { TrainingSpecError } from '../contracts/training-spec.js';
import { trainFromFolder, type FolderTrainingResult } from '../services/folder-training.service.js';
import { reportSummary } from '../training/report-summary.js';
import type { PhaseReport, TrainingProgress } from '../training/training-types.js';

const USAGE = `Usage: npm run train -- --data <folder> [--base <id|folder|url>] [--spec <file.json>]
         [--epochs-head N] [--epochs-finetune N] [--out <dir>] [--json]

  --data   one sub-folder per class, or train/ and val/ each with one sub-folder per class
  --base   catalog id (see GET /v1/base-models), a folder with model.json, or a model.json URL
  --spec   training job spec JSON (the API's POST /v1/jobs body, without datasetId)
  --epochs-head     most phase-1 epochs (full batch; cross-validated early stopping ends sooner)
  --epochs-finetune most fine-tuning epochs; 0 disables fine-tuning
  --out    where to write model.json, weights.bin and metadata.json
  --json   print one JSON summary on stdout (progress goes to stderr)
Environment: GRAFT_TFJS_BACKEND, GRAFT_MODEL_MIRROR, GRAFT_DATA_DIR`;

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${flag} must be a whole number, got '${value}'`);
  return n;
}

async function buildSpec(
  values: Record<string, string | boolean | undefined>,
): Promise<Record<string, unknown>> {
  const spec = values.spec
    ? (JSON.parse(await readFile(String(values.spec), 'utf8')) as Record<string, unknown>)
    : {};
  if (values.base) spec.baseModel = values.base;
  const head = integer(values['epochs-head'] as string | undefined, '--epochs-head');
  if (head !== undefined) {
    spec.featureExtraction = { ...(spec.featureExtraction as object), epochs: head };
  }
  const fine = integer(values['epochs-finetune'] as string | undefined, '--epochs-finetune');
  if (fine !== undefined) {
    spec.fineTuning =
      fine === 0
        ? { ...(spec.fineTuning as object), enabled: false }
        : { ...(spec.fineTuning as object), epochs: fine };
  }
  return spec;
}

function describe(p: TrainingProgress): string {
  const where = p.epoch
    ? `${p.stage} epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches}`
    : `${p.stage} ${p.batch}/${p.batches}`;
  const metrics =
    p.loss !== undefined ? ` loss ${p.loss.toFixed(4)} acc ${p.accuracy?.toFixed(3)}` : '';
  const val = p.val ? ` | val loss ${p.val.loss.toFixed(4)} acc ${p.val.accuracy.toFixed(3)}` : '';
  return `[${(p.progress * 100).toFixed(0).padStart(3)}%] ${where}${metrics}${val} (${p.imagesPerSecond.toFixed(0)} img/s, ETA ${p.etaSeconds.toFixed(0)} s)`;
}

/**
 * The `--json` output: this run's backend and base, the report summary the API also serves,
 * and how each stage ran. Every key earlier versions printed is still here with its meaning
 * (`valAccuracy`, `perClass`, `confusionMatrix`, `featureCache`, `phases.*`), for scripts.
 */
export function summary(result: FolderTrainingResult, outDir?: string) {
  const { report } = result;
  const phase = (p: PhaseReport | undefined) =>
    p && {
      valAccuracy: p.evaluation.accuracy,
      valLoss: p.evaluation.loss,
      epochs: p.epochs,
      learningRate: p.learningRate,
      batchSize: p.batchSize,
      imagesPerSecond: p.imagesPerSecond,
      seconds: p.seconds,
      bestEpoch: p.bestEpoch,
      stoppedEarly: p.stoppedEarly,
      ...(p.unfreezeFrom
        ? { unfreezeFrom: p.unfreezeFrom, trainableLayers: p.trainableLayers }
        : {}),
    };
  const reported = reportSummary(report);
  return {
    backend: result.backend.name,
    backendAttempts: result.backend.attempts,
    base: report.base.id,
    baseLoadedFrom: result.loadedFrom,
    labels: report.labels,
    ...reported,
    featureCache: report.featureCache,
    phases: {
      featureExtraction: phase(report.phases.featureExtraction),
      fineTuning: phase(report.phases.fineTuning) ?? null,
    },
    valAccuracy: reported.evaluation.accuracy,
    perClass: reported.evaluation.perClass,
    confusionMatrix: reported.evaluation.confusionMatrix,
    wallSeconds: result.wallSeconds,
    ...(outDir ? { out: outDir } : {}),
  };
}

function printSummary(output: ReturnType<typeof summary>): void {
  console.log(
    `backend ${output.backend}, base ${output.base}, ${output.split.train} train / ${output.split.val} val images`,
  );
  console.log(`head-only val accuracy ${output.featureExtraction.accuracy.toFixed(4)}`);
  if (output.fineTuning)
    console.log(`fine-tuned val accuracy ${output.fineTuning.accuracy.toFixed(4)}`);
  if (output.baseline)
    console.log(
      `raw-pixel baseline val accuracy ${output.baseline.evaluation.accuracy.toFixed(4)} (transfer gain ${((output.transferGain ?? 0) * 100).toFixed(1)} points)`,
    );
  console.log(
    `calibration: temperature ${output.calibration.temperature.toFixed(3)}, ECE ${output.calibration.eceBefore.toFixed(4)} → ${output.calibration.eceAfter.toFixed(4)}`,
  );
  console.log(`kept ${output.kept}: ${output.keptReason}`);
  console.log(
    `wall time ${output.wallSeconds.toFixed(1)} s${output.out ? `, model in ${output.out}` : ''}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      base: { type: 'string' },
      spec: { type: 'string' },
      'epochs-head': { type: 'string' },
      'epochs-finetune': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data) {
    console.error(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  const outDir = values.out ? resolve(values.out) : undefined;
  let lastLine = 0;
  const result = await trainFromFolder({
    dataDir: resolve(values.data),
    spec: await buildSpec(values),
    outDir,
    config: loadConfig(),
    signal: controller.signal,
    onProgress: (p) => {
      const now = Date.now();
      if (now - lastLine < 1000 && !p.val && p.progress < 1) return;
      lastLine = now;
      console.error(describe(p));
    },
  });
  const output = summary(result, outDir);
  if (values.json) console.log(JSON.stringify(output, null, 2));
  else printSummary(output);
}

main().catch((error: unknown) => {
  const message =
    error instanceof TrainingSpecError || error instanceof Error ? error.message : String(error);
  console.error(`train: ${message}`);
  process.exitCode = 1;
});
