/**
 * chaos — fault injection against real processes: a private PostgreSQL, a private redis-server,
 * the API and two workers, each its own process, built from src/ as it is now. Each scenario
 * runs a fresh training job and breaks something while it trains (kill -9 or SIGTERM its
 * worker, restart Redis or PostgreSQL, stop them, lose an enqueue, fill the disk), then reports
 * the job's final status, the seconds lost against the fault-free run, whether its progress
 * ever went backwards, and what was left behind.
 *
 *   npm run chaos -- [--json] [--scenarios a,b] [--quick] [--keep] [--timeout <s>]
 *                    [--fine-epochs <n>] [--data <dir>] [--list]
 *
 * --json prints one JSON object on stdout (progress on stderr); without it, a table.
 * Everything runs on loopback under one temporary folder and is torn down at the end (also on
 * failure and Ctrl-C); --keep keeps that folder (logs of every process, the databases). The
 * fault-free job runs twice first; their mean is the reference. GRAFT_* variables in the
 * environment (e.g. GRAFT_WORKER_LOCK_MS) reach the API and workers, except the ones the bench
 * sets itself. Linux only; the disk-full scenario needs to mount a tmpfs (root).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import yazl from 'yazl';
import { Cluster } from './chaos/cluster.js';
import { call } from './chaos/http.js';
import { clearStuck, collectLeftovers, snapshotFiles } from './chaos/leftovers.js';
import { log } from './chaos/procs.js';
import { newResult, table, type ScenarioResult } from './chaos/report.js';
import { faultFreeRun, SCENARIOS, type Context, type Reference } from './chaos/scenarios.js';

const REPO = resolve(import.meta.dirname, '..');
const SETTLE_MS = 60_000;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    scenarios: { type: 'string' },
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '240' },
    'fine-epochs': { type: 'string' },
    data: { type: 'string', default: join(REPO, '..', 'shared', 'datasets', 'hymenoptera') },
    list: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const s of SCENARIOS) console.log(`${s.name.padEnd(28)} ${s.fault}`);
  process.exit(0);
}

const chosen = values.scenarios
  ? values.scenarios
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
  : SCENARIOS.map((s) => s.name);
const unknown = chosen.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`chaos: unknown scenario(s) ${unknown.join(', ')}; --list shows them`);
  process.exit(2);
}
const scenarios = SCENARIOS.filter((s) => chosen.includes(s.name));
const timeoutMs = Number(values.timeout) * 1000;
const fineEpochs = Number(values['fine-epochs'] ?? (values.quick ? 4 : 50));
if (
  !Number.isFinite(timeoutMs) ||
  timeoutMs <= 0 ||
  !Number.isInteger(fineEpochs) ||
  fineEpochs < 1
) {
  console.error('chaos: --timeout takes seconds, --fine-epochs a whole number of epochs');
  process.exit(2);
}
/** Fine-tuning runs every epoch (no early stop), so a run's length barely varies. */
const SPEC = { fineTuning: { epochs: fineEpochs, patience: 100 } };

function datasetZip(dir: string): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  const top = relative(resolve(dir, '..'), dir);
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else
        archive.addBuffer(readFileSync(path), `${top}/${relative(dir, path)}`, { compress: false });
    }
  };
  walk(dir);
  archive.end();
  const chunks: Buffer[] = [];
  return new Promise((done, fail) => {
    archive.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    archive.outputStream.on('end', () => done(Buffer.concat(chunks)));
    archive.outputStream.on('error', fail);
  });
}

async function uploadDataset(cluster: Cluster, key: string, zip: Buffer) {
  const form = new FormData();
  form.append('name', 'chaos-hymenoptera');
  form.append('file', new Blob([zip]), 'hymenoptera.zip');
  const answer = await call(cluster.apiBase(), '/v1/datasets', {
    method: 'POST',
    key,
    form,
    timeoutMs: 600_000,
  });
  const body = answer.body as { id?: string; imageCount?: number } | undefined;
  if (answer.status !== 201 || !body?.id)
    throw new Error(`dataset upload answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return { id: body.id, images: body.imageCount ?? 0 };
}

/** Runs one scenario, then collects its leftovers and brings the cluster back to health. */
async function runScenario(
  cluster: Cluster,
  result: ScenarioResult,
  body: (r: ScenarioResult) => Promise<void>,
): Promise<ScenarioResult> {
  log(`— ${result.scenario}: ${result.fault}`);
  const files = snapshotFiles(cluster);
  const started = Date.now();
  try {
    await body(result);
  } catch (error) {
    result.status = `error: ${(error as Error).message.split('\n')[0]?.slice(0, 300)}`;
    log(`${result.scenario} failed: ${(error as Error).stack ?? String(error)}`);
  }
  try {
    await cluster.ensureHealthy();
    result.leftovers = await collectLeftovers(cluster, files, SETTLE_MS);
    await clearStuck(cluster, result.leftovers.stuckJobs);
    await cluster.ensureHealthy();
  } catch (error) {
    result.notes.push(`after the scenario: ${(error as Error).message.split('\n')[0]}`);
  }
  result.measurements.scenarioSeconds = Math.round((Date.now() - started) / 100) / 10;
  log(
    `${result.scenario}: ${result.status}, wall ${result.wallSeconds ?? '—'} s, lost ${result.secondsLost ?? '—'} s; ${result.summary.join('; ')}`,
  );
  return result;
}

async function main(cluster: Cluster) {
  const startedAt = new Date().toISOString();
  // Other work on the machine slows every job alike; a busy machine makes "seconds lost" noisy.
  const loadAtStart = loadavg()[0];
  log(`run folder ${cluster.runDir}; building src/ into it`);
  cluster.build();
  await cluster.startRedis();
  await cluster.startPostgres();
  log(`Redis on ${cluster.redisPort}, PostgreSQL on ${cluster.pgPort}; migrating, creating a key`);
  const key = cluster.createKey('chaos');
  await cluster.startApi();
  await cluster.ensureHealthy(2);
  log(`API on ${cluster.apiPort}, workers ${cluster.workers.map((w) => w.pid).join(', ')}`);
  const zip = await datasetZip(resolve(values.data));
  const ctx: Context = { cluster, key, datasetId: '', spec: SPEC, zip, timeoutMs };
  const results: ScenarioResult[] = [];
  let reference: Reference | undefined;
  if (scenarios.some((s) => s.needsJob)) {
    const dataset = await uploadDataset(cluster, key, zip);
    ctx.datasetId = dataset.id;
    log(`dataset ${dataset.id}: ${dataset.images} images`);
    const runs: Reference['runs'] = [];
    for (const n of [1, 2]) {
      let run: Awaited<ReturnType<typeof faultFreeRun>> | undefined;
      const r = await runScenario(
        cluster,
        newResult(`fault-free-${n}`, 'no fault: the reference'),
        async (res) => {
          run = await faultFreeRun(ctx, res);
        },
      );
      results.push(r);
      if (run?.final?.status !== 'succeeded' || r.wallSeconds === null)
        throw new Error(
          `the fault-free job did not succeed (${r.status}): nothing to compare with`,
        );
      runs.push({ jobId: run.jobId, wallSeconds: r.wallSeconds, spans: run.spans });
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    reference = {
      runs,
      meanSeconds: Math.round(mean(runs.map((x) => x.wallSeconds)) * 10) / 10,
      featuresSeconds: mean(
        runs.map((x) => (x.spans.features ? x.spans.features[1] - x.spans.features[0] : 6)),
      ),
    };
    ctx.reference = reference;
    for (const r of results) {
      if (r.wallSeconds !== null)
        r.secondsLost = Math.round((r.wallSeconds - reference.meanSeconds) * 10) / 10;
    }
    log(`reference: ${reference.meanSeconds} s`);
  }
  for (const scenario of scenarios) {
    results.push(
      await runScenario(cluster, newResult(scenario.name, scenario.fault), (r) =>
        scenario.run(ctx, r),
      ),
    );
  }
  return {
    bench: 'chaos',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      node: process.version,
      loadAverage1m: { atStart: loadAtStart, atEnd: loadavg()[0] },
    },
    spec: SPEC,
    timeoutSeconds: timeoutMs / 1000,
    settleSeconds: SETTLE_MS / 1000,
    reference: reference ?? null,
    scenarios: results,
  };
}

const cluster = await Cluster.create({ repoRoot: REPO, keep: values.keep });
let stopping = false;
const stopOn = (signal: NodeJS.Signals) =>
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: tearing down`);
    void cluster.teardown().finally(() => process.exit(130));
  });
stopOn('SIGINT');
stopOn('SIGTERM');
process.on('exit', () => cluster.emergencyStop());

let exitCode = 0;
try {
  const report = await main(cluster);
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const runs = report.reference?.runs.map((run) => `${run.wallSeconds} s`).join(', ');
    const load = report.machine.loadAverage1m;
    const note = `${runs ? `: ${runs}` : ''}; 1-min load ${load.atStart?.toFixed(1)} → ${load.atEnd?.toFixed(1)} on ${report.machine.cpus} CPUs`;
    console.log(table(report.scenarios, report.reference?.meanSeconds ?? null, note));
  }
} catch (error) {
  log(`chaos failed: ${(error as Error).stack ?? String(error)}`);
  exitCode = 1;
} finally {
  if (!stopping) {
    // After a failure the run folder stays, for its logs.
    await cluster
      .teardown(values.keep || exitCode !== 0)
      .catch((error: unknown) => log(`teardown: ${String(error)}`));
  }
}
process.exit(exitCode);
