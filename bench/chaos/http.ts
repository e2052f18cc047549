/**
 * Talking to the API under test: one request that never throws (a refused connection is
 * status 0), and a job watcher that polls `GET /v1/jobs/{id}` every 250 ms and keeps every
 * answer, so a run can be checked afterwards for progress that went backwards.
 */
import { sleep } from './procs.js';

export interface Answer {
  /** 0: no HTTP answer (refused, reset, timed out). */
  status: number;
  ms: number;
  contentType: string;
  body: unknown;
  error?: string;
}

export interface CallOptions {
  method?: string;
  key?: string;
  json?: unknown;
  form?: FormData;
  timeoutMs?: number;
}

export async function call(base: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const start = Date.now();
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | FormData | undefined = options.form;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  try {
    const response = await fetch(`${base}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.text();
    let parsed: unknown = text;
    if (contentType.includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
    }
    return { status: response.status, ms: Date.now() - start, contentType, body: parsed };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      status: 0,
      ms: Date.now() - start,
      contentType: '',
      body: undefined,
      error: cause ?? (error as Error).name,
    };
  }
}

/** What the bench reads of a job (a subset of the API's Job). */
export interface JobView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  phase: string | null;
  progress: number;
  epoch: number | null;
  epochs: number | null;
  error: string | null;
  backend: string | null;
  modelId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** One poll: seconds since the watch began, the HTTP status and, on 200, the job's state. */
export interface Sample {
  t: number;
  http: number;
  status?: JobView['status'];
  phase?: string | null;
  progress?: number;
  epoch?: number | null;
  epochs?: number | null;
}

type Predicate = (sample: Sample) => boolean;

export class JobWatch {
  readonly samples: Sample[] = [];
  /** What the bench did meanwhile, for the timeline. */
  readonly events: { t: number; text: string }[] = [];
  last?: JobView;
  /** The job once it reached a final status; undefined when the watch timed out first. */
  readonly done: Promise<JobView | undefined>;
  private waiters: { predicate: Predicate; resolve: (sample: Sample | undefined) => void }[] = [];
  private ended = false;
  private stopped = false;

  constructor(
    private readonly base: string,
    private readonly key: string,
    readonly jobId: string,
    timeoutMs: number,
    /** When the clock of `t` starts (the submit). */
    readonly t0 = Date.now(),
  ) {
    this.done = this.loop(timeoutMs);
  }

  private async loop(timeoutMs: number): Promise<JobView | undefined> {
    const deadline = this.t0 + timeoutMs;
    try {
      while (Date.now() < deadline && !this.stopped) {
        const tick = Date.now();
        const answer = await call(this.base, `/v1/jobs/${this.jobId}`, {
          key: this.key,
          timeoutMs: 2000,
        });
        const sample: Sample = { t: (Date.now() - this.t0) / 1000, http: answer.status };
        if (answer.status === 200) {
          const job = answer.body as JobView;
          this.last = job;
          Object.assign(sample, {
            status: job.status,
            phase: job.phase,
            progress: job.progress,
            epoch: job.epoch,
            epochs: job.epochs,
          });
        }
        this.samples.push(sample);
        for (const waiter of [...this.waiters]) {
          if (waiter.predicate(sample)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(sample);
          }
        }
        if (sample.status && TERMINAL.has(sample.status)) return this.last;
        await sleep(Math.max(0, 250 - (Date.now() - tick)));
      }
      return undefined;
    } finally {
      this.ended = true;
      for (const waiter of this.waiters.splice(0)) waiter.resolve(undefined);
    }
  }

  /** Notes a fault (or recovery step) at this moment, for the timeline. */
  mark(text: string): void {
    this.events.push({ t: (Date.now() - this.t0) / 1000, text });
  }

  /** Stops polling: `done` resolves with undefined unless the job had already ended. */
  stop(): void {
    this.stopped = true;
  }

  /** The first poll from now on that matches, or undefined if the job ends or time runs out. */
  waitFor(predicate: Predicate, timeoutMs: number): Promise<Sample | undefined> {
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = { predicate, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) {
          this.waiters.splice(index, 1);
          resolve(undefined);
        }
      }, timeoutMs).unref();
    });
  }

  /** When the job was first seen in `phase` (seconds since t0). */
  phaseStart(phase: string): number | undefined {
    return this.samples.find((s) => s.phase === phase)?.t;
  }

  /** HTTP statuses of the polls between two times (seconds since t0), counted. */
  statusesBetween(from: number, to: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const s of this.samples)
      if (s.t >= from && s.t <= to) counts[s.http] = (counts[s.http] ?? 0) + 1;
    return counts;
  }
}

const PHASE_ORDER = ['features', 'featureExtraction', 'fineTuning', 'export'];

export interface Regressions {
  /** Progress, phase or status ever went back. */
  backwards: boolean;
  /** Polls whose progress was lower than the poll before. */
  drops: number;
  /** Largest fall below the best progress seen so far (0..1). */
  maxDrop: number;
  /** Polls whose phase came before the furthest phase seen so far. */
  phaseRegressions: number;
  /** A running job seen as queued again. */
  requeued: boolean;
}

export function regressions(samples: Sample[]): Regressions {
  let best = 0;
  let previous: number | undefined;
  let furthest = -1;
  let drops = 0;
  let maxDrop = 0;
  let phaseRegressions = 0;
  let seenRunning = false;
  let requeued = false;
  for (const s of samples) {
    if (s.status === undefined || s.progress === undefined) continue;
    if (s.status === 'running') seenRunning = true;
    if (s.status === 'queued' && seenRunning) requeued = true;
    if (previous !== undefined && s.progress < previous - 1e-9) drops += 1;
    maxDrop = Math.max(maxDrop, best - s.progress);
    best = Math.max(best, s.progress);
    previous = s.progress;
    const index = s.phase ? PHASE_ORDER.indexOf(s.phase) : -1;
    if (index >= 0) {
      if (index < furthest) phaseRegressions += 1;
      furthest = Math.max(furthest, index);
    }
  }
  return {
    backwards: drops > 0 || phaseRegressions > 0 || requeued,
    drops,
    maxDrop: Math.round(maxDrop * 1000) / 1000,
    phaseRegressions,
    requeued,
  };
}

/** Seconds from first to last poll seen in each phase. */
export function phaseSpans(samples: Sample[]): Record<string, [number, number]> {
  const spans: Record<string, [number, number]> = {};
  for (const s of samples) {
    if (!s.phase) continue;
    const span = spans[s.phase];
    if (span) span[1] = s.t;
    else spans[s.phase] = [s.t, s.t];
  }
  return spans;
}

/**
 * The polls worth reading: the first, every change of HTTP status, job status, phase or epoch,
 * every fall in progress, and the last.
 */
export function timeline(samples: Sample[], events: { t: number; text: string }[] = []): string[] {
  const out: { t: number; text: string }[] = events.map((e) => ({
    t: e.t,
    text: `${e.t.toFixed(1)}s >>> ${e.text}`,
  }));
  let previous: Sample | undefined;
  const line = (s: Sample) =>
    s.http === 200
      ? `${s.t.toFixed(1)}s ${s.status} ${s.phase ?? '-'}${s.epoch && s.epochs ? ` ${s.epoch}/${s.epochs}` : ''} ${((s.progress ?? 0) * 100).toFixed(1)}%`
      : `${s.t.toFixed(1)}s HTTP ${s.http || 'no answer'}`;
  samples.forEach((s, i) => {
    const changed =
      !previous ||
      s.http !== previous.http ||
      s.status !== previous.status ||
      s.phase !== previous.phase ||
      s.epoch !== previous.epoch ||
      (s.progress ?? 0) < (previous.progress ?? 0) - 1e-9 ||
      i === samples.length - 1;
    if (changed) out.push({ t: s.t, text: line(s) });
    previous = s;
  });
  return out.sort((a, b) => a.t - b.t).map((e) => e.text);
}
