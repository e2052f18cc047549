/**
 * The faults. Each scenario but the full-disk upload submits a fresh job, injects its fault at a
 * point read from the job's own progress (or, for the API probes, before the job), and records
 * what happened; the runner (chaos.ts) then collects leftovers and brings the cluster back to
 * health with two workers.
 */
import type { Cluster } from './cluster.js';
import { freePort } from './cluster.js';
import {
  call,
  JobWatch,
  phaseSpans,
  regressions,
  timeline,
  type JobView,
  type Sample,
} from './http.js';
import {
  cpuOver,
  descendants,
  log,
  procInfo,
  running,
  signalPid,
  sleep,
  stopProcess,
  type Managed,
} from './procs.js';
import { listFiles } from './leftovers.js';
import type { ScenarioResult } from './report.js';

export interface Reference {
  runs: { jobId: string; wallSeconds: number; spans: Record<string, [number, number]> }[];
  meanSeconds: number;
  /** Mean seconds the job spent in the feature-extraction (`features`) phase. */
  featuresSeconds: number;
}

export interface Context {
  cluster: Cluster;
  key: string;
  datasetId: string;
  /** The job spec every scenario submits (less datasetId). */
  spec: Record<string, unknown>;
  /** The dataset zip, for the upload scenario. */
  zip: Buffer;
  /** Longest a scenario's job may take, submit to final status. */
  timeoutMs: number;
  reference?: Reference;
}

export interface Scenario {
  name: string;
  fault: string;
  /** Whether it needs the fault-free reference (it submits a job). */
  needsJob: boolean;
  run(ctx: Context, r: ScenarioResult): Promise<void>;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

function jobWallSeconds(job: JobView): number | null {
  if (!job.finishedAt) return null;
  return seconds(Date.parse(job.finishedAt) - Date.parse(job.createdAt));
}

export async function submitJob(ctx: Context): Promise<string> {
  const answer = await call(ctx.cluster.apiBase(), '/v1/jobs', {
    method: 'POST',
    key: ctx.key,
    json: { datasetId: ctx.datasetId, ...ctx.spec },
    timeoutMs: 20_000,
  });
  const id = (answer.body as { id?: string } | undefined)?.id;
  if (answer.status !== 202 || !id)
    throw new Error(`POST /v1/jobs answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return id;
}

/** Fills the job fields of the result from a finished (or timed-out) watch. */
export function recordJob(
  ctx: Context,
  r: ScenarioResult,
  watch: JobWatch,
  final: JobView | undefined,
): void {
  r.jobId = watch.jobId;
  r.status = final ? final.status : `timeout (${watch.last?.status ?? 'no answer'})`;
  r.wallSeconds = final ? (jobWallSeconds(final) ?? watch.samples.at(-1)?.t ?? null) : null;
  if (r.wallSeconds !== null && ctx.reference)
    r.secondsLost = Math.round((r.wallSeconds - ctx.reference.meanSeconds) * 10) / 10;
  r.regressions = regressions(watch.samples);
  r.timeline = timeline(watch.samples, watch.events);
  r.progressWentBackwards = r.regressions.backwards;
  const back = r.regressions;
  if (back.maxDrop > 0)
    r.summary.push(`progress fell by up to ${(back.maxDrop * 100).toFixed(1)} points`);
  if (back.phaseRegressions > 0) r.summary.push('phase went back to an earlier one');
  if (back.requeued) r.summary.push('job went back to queued');
  if (final?.status === 'failed' && final.error)
    r.notes.push(`job error: ${final.error.slice(0, 200)}`);
  if (!final) r.notes.push(`no final status within ${ctx.timeoutMs / 1000} s`);
}

const describe = (s: Sample) =>
  `${s.phase ?? 'no phase'}${s.epoch && s.epochs ? ` ${s.epoch}/${s.epochs}` : ''} at ${Math.round((s.progress ?? 0) * 100)}%`;

/**
 * The worker training the job: the one whose processes (it and its sandboxed children) burn
 * the most CPU. Only one job runs at a time, so the other worker is idle.
 */
async function trainingWorker(cluster: Cluster): Promise<{ worker: Managed; cpu: number }> {
  const workers = cluster.liveWorkers();
  const trees = workers.map((w) => [w.pid, ...descendants(w.pid).map((d) => d.pid)]);
  const used = await cpuOver(trees.flat(), 800);
  const cpu = trees.map((pids) => pids.reduce((sum, pid) => sum + (used.get(pid) ?? 0), 0));
  let best = 0;
  cpu.forEach((c, i) => {
    if (c > (cpu[best] ?? 0)) best = i;
  });
  const worker = workers[best];
  if (!worker) throw new Error('no live worker to fault');
  return { worker, cpu: cpu[best] ?? 0 };
}

/**
 * How the job came back from a fault at `faultT` (seconds since submit): when its progress
 * first moved again after what the faulted run had written (a dead run's last write lands up to
 * a second or two late, so that value is read 2 s after the fault), and when it first went
 * past the best progress seen before the fault.
 */
function recovery(watch: JobWatch, faultT: number) {
  const settled = [...watch.samples].reverse().find((s) => s.t <= faultT + 2 && s.http === 200);
  const peak = Math.max(
    0,
    ...watch.samples.filter((s) => s.t <= faultT + 2).map((s) => s.progress ?? 0),
  );
  const moved = watch.samples.find(
    (s) =>
      s.t > faultT + 2 &&
      s.http === 200 &&
      (s.progress !== settled?.progress ||
        s.phase !== settled?.phase ||
        s.status !== settled?.status),
  );
  const regained = watch.samples.find(
    (s) => s.t > faultT && ((s.progress ?? 0) > peak + 1e-9 || s.status === 'succeeded'),
  );
  const after = (s: Sample | undefined) => (s ? Math.round((s.t - faultT) * 10) / 10 : null);
  return { movedAgainAfterSeconds: after(moved), pastPreFaultPeakAfterSeconds: after(regained) };
}

/** Records `recovery` and says it in the summary. */
function recordRecovery(r: ScenarioResult, watch: JobWatch, faultT: number | undefined): void {
  if (faultT === undefined) return;
  const back = recovery(watch, faultT);
  r.measurements.recovery = back;
  r.summary.push(
    back.movedAgainAfterSeconds === null
      ? 'progress never moved again'
      : `progress moved again ${back.movedAgainAfterSeconds.toFixed(0)} s after the fault`,
  );
  if (back.pastPreFaultPeakAfterSeconds !== null)
    r.summary.push(
      `past its pre-fault progress after ${back.pastPreFaultPeakAfterSeconds.toFixed(0)} s`,
    );
}

/** Says what `GET /v1/jobs/{id}` answered around an outage, when it was not always 200. */
function pollsSummary(r: ScenarioResult, counts: Record<string, number>): void {
  const codes = Object.keys(counts).filter((code) => code !== '200');
  if (codes.length === 0) return;
  const text = Object.entries(counts)
    .map(([code, n]) => `${code === '0' ? 'no answer' : code}×${n}`)
    .join(', ');
  r.summary.push(
    `job polls around the outage: ${text}${codes.some((c) => c !== '503') ? ' (target: 503 only)' : ''}`,
  );
}

const sinceStart = (watch: JobWatch) => (Date.now() - watch.t0) / 1000;

/** Submits a job, waits for `trigger`, runs `fault` while the polling goes on, waits for the end. */
async function faultedJob(
  ctx: Context,
  r: ScenarioResult,
  trigger: (watch: JobWatch) => (s: Sample) => boolean,
  fault: (watch: JobWatch, hit: Sample, faultNow: () => number) => Promise<void>,
): Promise<{ watch: JobWatch; final: JobView | undefined; hit: Sample | undefined }> {
  const t0 = Date.now();
  let faultT: number | undefined;
  const jobId = await submitJob(ctx);
  const watch = new JobWatch(ctx.cluster.apiBase(), ctx.key, jobId, ctx.timeoutMs, t0);
  r.jobId = jobId;
  const hit = await watch.waitFor(trigger(watch), ctx.timeoutMs);
  if (hit) {
    r.measurements.faultAt = {
      seconds: hit.t,
      phase: hit.phase,
      epoch: hit.epoch,
      epochs: hit.epochs,
      progress: hit.progress,
    };
    log(`${r.scenario}: fault at ${describe(hit)} (${hit.t.toFixed(1)} s)`);
    // The fault calls faultNow as it strikes; recovery is measured from then.
    await fault(watch, hit, () => (faultT = sinceStart(watch)));
  } else {
    r.notes.push('the fault point was never reached');
  }
  const final = await watch.done;
  recordJob(ctx, r, watch, final);
  recordRecovery(r, watch, faultT);
  return { watch, final, hit };
}

// --- Fault points ----------------------------------------------------------------------

type Trigger = (ctx: Context) => (watch: JobWatch) => (s: Sample) => boolean;

/** Half-way through the feature-extraction pass (by the reference run's timing). */
const inFeatures: Trigger = (ctx) => (watch) => (s) => {
  if (s.phase !== 'features') return false;
  const start = watch.phaseStart('features') ?? s.t;
  return s.t - start >= Math.max(1, (ctx.reference?.featuresSeconds ?? 6) / 2);
};

/** Past the middle epoch of fine-tuning. */
const midFineTuning: Trigger = () => () => (s) =>
  s.phase === 'fineTuning' && !!s.epoch && !!s.epochs && s.epoch > s.epochs / 2;

/**
 * The last fine-tuning epochs, or export. Not only the very last epoch: on this machine it lasts
 * about half a second, less than a poll plus a fast shutdown, so the job would be done first.
 */
const atTheEnd: Trigger = () => () => (s) =>
  s.phase === 'export' ||
  (s.phase === 'fineTuning' && !!s.epoch && !!s.epochs && s.epoch >= s.epochs - 2);

// --- Scenarios -------------------------------------------------------------------------

function kill9(name: string, where: string, trigger: Trigger): Scenario {
  return {
    name,
    fault: `kill -9 the worker training the job ${where}, its children left alone; a replacement worker is started at once`,
    needsJob: true,
    async run(ctx, r) {
      await faultedJob(ctx, r, trigger(ctx), async (watch, _hit, faultNow) => {
        const { worker, cpu } = await trainingWorker(ctx.cluster);
        const children = descendants(worker.pid);
        faultNow();
        signalPid(worker.pid, 'SIGKILL');
        watch.mark(`kill -9 worker ${worker.pid}`);
        await worker.exited;
        const replacement = ctx.cluster.startWorker();
        void replacement.then(
          (w) => watch.mark(`replacement worker ${w.pid} ready`),
          () => undefined,
        );
        await sleep(5000);
        const alive = children.filter((c) => running(c.pid));
        const cpuAfter = await cpuOver(
          alive.map((c) => c.pid),
          1000,
        );
        r.measurements.killedWorker = { pid: worker.pid, cpuSecondsPer800ms: cpu };
        r.measurements.childrenOfKilledWorker = children.map((c) => ({
          pid: c.pid,
          args: c.args.slice(0, 120),
        }));
        r.measurements.childrenAlive5sAfterKill = alive.map((c) => ({
          pid: c.pid,
          ppidNow: procInfo(c.pid)?.ppid,
          cpuSecondsInNextSecond: cpuAfter.get(c.pid) ?? 0,
        }));
        r.summary.push(
          `${children.length} child process(es), ${alive.length} still alive 5 s after the kill${alive.length ? ' (ORPHANS)' : ''}`,
        );
        await replacement.catch((error: unknown) =>
          r.notes.push(`replacement worker: ${String(error)}`),
        );
      });
    },
  };
}

const sigtermFinetune: Scenario = {
  name: 'sigterm-finetune',
  fault:
    'SIGTERM the worker training the job mid fine-tuning (target: exits within 10 s, the job finishes elsewhere); a replacement worker is started once it exited',
  needsJob: true,
  async run(ctx, r) {
    let exitAt = 0;
    const { final } = await faultedJob(
      ctx,
      r,
      midFineTuning(ctx),
      async (watch, _hit, faultNow) => {
        const { worker } = await trainingWorker(ctx.cluster);
        const children = descendants(worker.pid);
        const start = Date.now();
        faultNow();
        signalPid(worker.pid, 'SIGTERM');
        watch.mark(`SIGTERM worker ${worker.pid}`);
        const exited = await Promise.race([
          worker.exited.then(() => true),
          sleep(90_000).then(() => false),
        ]);
        if (!exited) {
          signalPid(worker.pid, 'SIGKILL');
          await worker.exited;
          r.notes.push('the worker had not exited 90 s after SIGTERM: killed');
        }
        exitAt = Date.now();
        watch.mark(`worker ${worker.pid} exited`);
        const exitSeconds = seconds(exitAt - start);
        r.measurements.exitSeconds = exited ? exitSeconds : null;
        r.measurements.exit = worker.exit;
        r.summary.push(
          exited
            ? `worker exited ${exitSeconds.toFixed(1)} s after SIGTERM${exitSeconds > 10 ? ' (> 10 s)' : ''}`
            : 'worker ignored SIGTERM for 90 s',
        );
        await sleep(2000);
        const alive = children.filter((c) => running(c.pid));
        r.measurements.childrenAlive2sAfterExit = alive.map((c) => c.pid);
        if (alive.length) r.summary.push(`${alive.length} child process(es) outlived it`);
        await ctx.cluster.startWorker();
      },
    );
    if (final?.finishedAt && exitAt) {
      const sameWorker = Date.parse(final.finishedAt) <= exitAt;
      r.measurements.finishedBy = sameWorker
        ? 'the SIGTERMed worker, before exiting'
        : 'another worker';
      r.summary.push(
        sameWorker
          ? 'job finished on the SIGTERMed worker before it exited'
          : 'job finished on another worker',
      );
    }
  },
};

const redisRestart: Scenario = {
  name: 'redis-restart',
  fault:
    'restart the private redis-server (SIGTERM, then start on the same port and append-only file) mid fine-tuning',
  needsJob: true,
  async run(ctx, r) {
    await faultedJob(ctx, r, midFineTuning(ctx), async (watch, _hit, faultNow) => {
      const from = faultNow();
      watch.mark('stopping Redis (SIGTERM)');
      const stopSeconds = await ctx.cluster.stopRedis();
      watch.mark('Redis stopped');
      await ctx.cluster.startRedis();
      watch.mark('Redis started');
      const to = sinceStart(watch);
      r.measurements.redisDownSeconds = Math.round((to - from) * 10) / 10;
      r.measurements.redisStopSeconds = stopSeconds;
      r.summary.push(`Redis down ${(to - from).toFixed(1)} s`);
      await sleep(5000);
      r.measurements.jobPollsDuringAndJustAfter = watch.statusesBetween(from, to + 5);
      pollsSummary(r, watch.statusesBetween(from - 1, to + 5));
    });
  },
};

async function outageProbes(ctx: Context, jobId?: string) {
  const base = ctx.cluster.apiBase();
  const [list, one, ready] = await Promise.all([
    call(base, '/v1/jobs', { key: ctx.key, timeoutMs: 15_000 }),
    jobId ? call(base, `/v1/jobs/${jobId}`, { key: ctx.key, timeoutMs: 15_000 }) : undefined,
    call(base, '/readyz', { timeoutMs: 15_000 }),
  ]);
  const brief = (a: typeof list) => ({
    status: a.status,
    ms: a.ms,
    contentType: a.contentType.split(';')[0],
    ...(a.error ? { error: a.error } : {}),
    ...(a.status >= 400 && typeof a.body === 'object' && a.body
      ? { code: (a.body as { code?: string }).code, title: (a.body as { title?: string }).title }
      : {}),
  });
  return {
    'GET /v1/jobs': brief(list),
    ...(one ? { 'GET /v1/jobs/{id}': brief(one) } : {}),
    'GET /readyz': brief(ready),
  };
}

const postgresRestart: Scenario = {
  name: 'postgres-restart',
  fault: 'restart the private PostgreSQL (fast stop, probe the API, start again) mid fine-tuning',
  needsJob: true,
  async run(ctx, r) {
    await faultedJob(ctx, r, midFineTuning(ctx), async (watch, _hit, faultNow) => {
      const from = faultNow();
      const down = Date.now();
      watch.mark('stopping PostgreSQL (fast shutdown)');
      await ctx.cluster.stopPostgres();
      watch.mark('PostgreSQL stopped');
      const probes = await outageProbes(ctx, watch.jobId);
      // Down for 3 s at least, probes included.
      if (Date.now() - down < 3000) await sleep(3000 - (Date.now() - down));
      await ctx.cluster.startPostgres();
      watch.mark('PostgreSQL started');
      const to = sinceStart(watch);
      r.measurements.postgresDownSeconds = Math.round((to - from) * 10) / 10;
      r.measurements.whilePostgresDown = probes;
      const list = probes['GET /v1/jobs'].status;
      r.summary.push(
        `GET /v1/jobs while down: ${list || 'no answer'}${list === 503 ? '' : ' (target 503)'}`,
      );
      r.summary.push(`/readyz: ${probes['GET /readyz'].status}`);
      await sleep(5000);
      r.measurements.jobPollsDuringAndJustAfter = watch.statusesBetween(from, to + 5);
      pollsSummary(r, watch.statusesBetween(from - 1, to + 5));
    });
  },
};

const postgresDownAtEnd: Scenario = {
  name: 'postgres-down-at-end',
  fault:
    'stop PostgreSQL in the last fine-tuning epoch (or export), start it again 10 s later; the job must end succeeded or failed',
  needsJob: true,
  async run(ctx, r) {
    let down: { from: number; to: number } | undefined;
    const { final } = await faultedJob(ctx, r, atTheEnd(ctx), async (watch) => {
      const from = Date.now();
      watch.mark('stopping PostgreSQL (fast shutdown)');
      await ctx.cluster.stopPostgres();
      watch.mark('PostgreSQL stopped');
      await sleep(10_000);
      await ctx.cluster.startPostgres();
      watch.mark('PostgreSQL started');
      down = { from, to: Date.now() };
      r.measurements.postgresDownSeconds = seconds(down.to - down.from);
      r.measurements.jobPollsWhileDown = watch.statusesBetween(
        (from - watch.t0) / 1000,
        (down.to - watch.t0) / 1000,
      );
      pollsSummary(
        r,
        watch.statusesBetween((from - watch.t0) / 1000 - 1, (down.to - watch.t0) / 1000),
      );
    });
    const ok = final?.status === 'succeeded' || final?.status === 'failed';
    r.measurements.endedSucceededOrFailed = ok;
    if (!ok) r.summary.push('job did NOT end succeeded or failed');
    if (final?.finishedAt && down) {
      const finished = Date.parse(final.finishedAt);
      const when =
        finished < down.from
          ? 'before PostgreSQL went down (fault missed the end)'
          : finished <= down.to
            ? 'while PostgreSQL was down'
            : `${seconds(finished - down.to)} s after PostgreSQL came back`;
      r.measurements.finished = when;
      r.summary.push(`finished ${when}`);
      if (finished < down.from) r.notes.push('the fault came too late: rerun, or use more epochs');
    }
  },
};

const redisDownApi: Scenario = {
  name: 'redis-down-api',
  fault:
    'stop Redis; POST /v1/jobs and GET /readyz (target 503); start it again; then a fresh job must run normally',
  needsJob: true,
  async run(ctx, r) {
    const base = ctx.cluster.apiBase();
    const outageStart = new Date();
    await ctx.cluster.stopRedis();
    await sleep(1000);
    const post = await call(base, '/v1/jobs', {
      method: 'POST',
      key: ctx.key,
      json: { datasetId: ctx.datasetId, ...ctx.spec },
      timeoutMs: 30_000,
    });
    const probes = await outageProbes(ctx);
    await ctx.cluster.startRedis();
    const back = Date.now();
    let readyAgain: number | null = null;
    while (Date.now() - back < 60_000) {
      if ((await call(base, '/readyz', { timeoutMs: 3000 })).status === 200) {
        readyAgain = seconds(Date.now() - back);
        break;
      }
      await sleep(250);
    }
    const rows = await ctx.cluster.query<{ id: string; status: string }>(
      `SELECT id, status::text AS status FROM "TrainingJob" WHERE "createdAt" >= $1`,
      [outageStart],
    );
    const postBody = post.body as { code?: string; id?: string } | undefined;
    r.measurements.whileRedisDown = {
      'POST /v1/jobs': {
        status: post.status,
        ms: post.ms,
        contentType: post.contentType.split(';')[0],
        code: postBody?.code,
        ...(post.error ? { error: post.error } : {}),
      },
      ...probes,
    };
    r.measurements.rowsCreatedDuringOutage = rows;
    r.measurements.readyAgainAfterSeconds = readyAgain;
    r.summary.push(
      `POST /v1/jobs: ${post.status || `no answer (${post.error})`} in ${(post.ms / 1000).toFixed(1)} s${post.status === 503 ? '' : ' (target 503)'}`,
    );
    r.summary.push(`/readyz: ${probes['GET /readyz'].status}`);
    if (rows.length)
      r.summary.push(
        `${rows.length} job row(s) created during the outage (${rows.map((x) => x.status).join(', ')})`,
      );
    r.summary.push(
      readyAgain === null
        ? 'not ready 60 s after Redis came back'
        : `ready ${readyAgain} s after Redis came back`,
    );
    // Recovery: a fresh job after the outage, no fault.
    const t0 = Date.now();
    const jobId = await submitJob(ctx);
    const watch = new JobWatch(base, ctx.key, jobId, ctx.timeoutMs, t0);
    recordJob(ctx, r, watch, await watch.done);
  },
};

const apiRestartBeforeEnqueue: Scenario = {
  name: 'api-restart-before-enqueue',
  fault:
    'a queued job row inserted in PostgreSQL but never enqueued (as if the API died in between), then the API killed and restarted',
  needsJob: true,
  async run(ctx, r) {
    const template = ctx.reference?.runs[0]?.jobId;
    if (!template) throw new Error('no reference job to copy the spec from');
    // Timestamps in UTC, as Prisma writes them (the columns have no time zone).
    const [row] = await ctx.cluster.query<{ id: string }>(
      `INSERT INTO "TrainingJob" (id, "tenantId", "datasetId", status, spec, "createdAt", "updatedAt")
       SELECT gen_random_uuid(), "tenantId", "datasetId", 'queued', spec,
              now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
         FROM "TrainingJob" WHERE id = $1::uuid
       RETURNING id`,
      [template],
    );
    const t0 = Date.now();
    if (!row) throw new Error('the row could not be inserted');
    const watch = new JobWatch(ctx.cluster.apiBase(), ctx.key, row.id, ctx.timeoutMs, t0);
    watch.mark('queued row inserted, not enqueued');
    if (ctx.cluster.api) signalPid(ctx.cluster.api.pid, 'SIGKILL');
    await ctx.cluster.api?.exited;
    watch.mark('API killed (-9)');
    await ctx.cluster.startApi();
    watch.mark('API restarted');
    r.measurements.apiBackAfterSeconds = seconds(Date.now() - t0);
    const pickWindow = Math.min(ctx.timeoutMs, 180_000);
    const picked = await watch.waitFor(
      (s) => s.status !== undefined && s.status !== 'queued',
      pickWindow,
    );
    r.measurements.pickedUpAfterSeconds = picked ? Math.round(picked.t * 10) / 10 : null;
    r.summary.push(
      picked
        ? `picked up ${picked.t.toFixed(0)} s after the insert`
        : `never picked up within ${pickWindow / 1000} s`,
    );
    if (!picked) watch.stop();
    recordJob(ctx, r, watch, await watch.done);
  },
};

const diskFullUpload: Scenario = {
  name: 'disk-full-upload',
  fault:
    'an API whose GRAFT_DATA_DIR is a 2 MiB tmpfs takes the dataset upload (target 507 problem+json, nothing left behind)',
  needsJob: false,
  async run(ctx, r) {
    const mounted = ctx.cluster.mountTmpfs('2m');
    if ('error' in mounted) {
      r.status = 'skipped: cannot mount tmpfs';
      r.notes.push(mounted.error);
      return;
    }
    let api: Managed | undefined;
    try {
      const port = await freePort();
      api = await ctx.cluster.startApi({ port, dataDir: mounted.dir, name: 'api-full-disk' });
      const before = new Set(listFiles(mounted.dir));
      const [{ n: datasetsBefore }] = (await ctx.cluster.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM "Dataset"',
      )) as [{ n: number }];
      const form = new FormData();
      form.append('name', 'chaos-full-disk');
      form.append('file', new Blob([ctx.zip]), 'hymenoptera.zip');
      const answer = await call(ctx.cluster.apiBase(port), '/v1/datasets', {
        method: 'POST',
        key: ctx.key,
        form,
        timeoutMs: 180_000,
      });
      await sleep(2000); // cleanup that runs after the answer
      const left = listFiles(mounted.dir).filter((f) => !before.has(f));
      const [{ n: datasetsAfter }] = (await ctx.cluster.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM "Dataset"',
      )) as [{ n: number }];
      const body = answer.body as { code?: string; title?: string; detail?: string } | undefined;
      const problem = answer.contentType.startsWith('application/problem+json');
      r.status = `HTTP ${answer.status || `no answer (${answer.error})`}`;
      r.measurements.upload = {
        status: answer.status,
        ms: answer.ms,
        contentType: answer.contentType.split(';')[0],
        code: body?.code,
        title: body?.title,
        detail: body?.detail?.slice(0, 300),
      };
      r.measurements.filesLeftOnFullDisk = left;
      r.measurements.datasetRowsCreated = datasetsAfter - datasetsBefore;
      r.summary.push(
        `${answer.status}${problem ? ' problem+json' : ` ${answer.contentType.split(';')[0] || ''}`}${body?.code ? ` (${body.code})` : ''}${answer.status === 507 ? '' : ' (target 507)'}`,
      );
      r.summary.push(
        left.length ? `${left.length} file(s) left on the full disk` : 'nothing left on the disk',
      );
      if (datasetsAfter !== datasetsBefore)
        r.summary.push(`${datasetsAfter - datasetsBefore} dataset row(s) created`);
      r.progressWentBackwards = null;
    } finally {
      if (api) await stopProcess(api, 'SIGTERM', 10_000);
      ctx.cluster.unmount(mounted.dir);
    }
  },
};

export const SCENARIOS: Scenario[] = [
  kill9('kill9-features', 'during feature extraction', inFeatures),
  kill9('kill9-finetune', 'mid fine-tuning', midFineTuning),
  sigtermFinetune,
  redisRestart,
  postgresRestart,
  redisDownApi,
  apiRestartBeforeEnqueue,
  postgresDownAtEnd,
  diskFullUpload,
];

/** One fault-free job: its wall time and phase timings, for the reference. */
export async function faultFreeRun(ctx: Context, r: ScenarioResult) {
  const t0 = Date.now();
  const jobId = await submitJob(ctx);
  const watch = new JobWatch(ctx.cluster.apiBase(), ctx.key, jobId, ctx.timeoutMs, t0);
  const final = await watch.done;
  recordJob(ctx, r, watch, final);
  const spans = phaseSpans(watch.samples);
  r.measurements.phaseSpans = spans;
  r.summary.push(
    Object.entries(spans)
      .map(([phase, [a, b]]) => `${phase} ${(b - a).toFixed(0)} s`)
      .join(', '),
  );
  return { jobId, final, spans };
}
