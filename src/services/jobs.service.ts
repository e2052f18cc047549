import {
  resolveTrainingSpec,
  TrainingSpecError,
  type TrainingSpec,
} from '../contracts/training-spec.js';
import type { EpochRecordView, StoredTrainingSummary } from '../contracts/training-summary.js';
import type { JobView } from '../contracts/resource-views.js';
import type { DatasetsRepository } from '../db/datasets.repository.js';
import type { Prisma } from '../db/generated/client.js';
import type { TenantsRepository } from '../db/tenants.repository.js';
import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { dropQueued, enqueueTraining, type TrainingQueue } from '../queue/training-queue.js';
import { tenantUrlRefusal } from '../storage/url-fence.js';
import { DEFAULT_BASE_ID, findBaseModel } from '../training/base-model-catalog.js';
import { DomainError, notFound, queueUnavailable } from './domain-error.js';
import type { JobEvents } from './job-events.js';
import { quotaExceeded } from './quotas.service.js';

/** Ids are UUIDs; anything else cannot name a dataset (and Postgres would refuse to compare it). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type JobRow = NonNullable<Awaited<ReturnType<TrainingJobsRepository['find']>>>;

export function jobView(row: JobRow): JobView {
  const spec = row.spec as unknown as TrainingSpec;
  return {
    id: row.id,
    status: row.status,
    datasetId: row.datasetId,
    baseModel: spec.baseModel ?? DEFAULT_BASE_ID,
    spec,
    phase: row.phase as JobView['phase'],
    progress: row.progress,
    epoch: row.epoch,
    epochs: row.epochs,
    etaSeconds: row.etaSeconds,
    history: row.history as unknown as EpochRecordView[],
    metrics: row.metrics as unknown as StoredTrainingSummary | null,
    modelId: row.model?.id ?? null,
    error: row.error,
    backend: row.backend,
    cancelRequested: row.cancelRequested,
    attempt: row.attempt,
    resumes: row.resumes as unknown as JobView['resumes'],
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/** Anything with a scheme (https:, http:, file:…) is a URL, not a catalog id. */
const URL_LIKE = /^[a-z][a-z0-9+.-]*:/i;

const URL_REFUSALS = {
  invalid: 'it is not a valid URL',
  scheme: 'only https:// URLs are allowed',
  credentials: 'URLs with a user name or password are not allowed',
  host: 'its host is not on the allow-list',
  address: 'it names an address that is not public',
  port: 'only port 443, or 1024 and above, is allowed',
} as const;

/**
 * A URL base is opt-in: refused unless the operator listed hosts in GRAFT_ALLOW_BASE_URLS, and
 * then only https on those hosts. The worker checks again, each address and redirect included.
 */
function checkBaseUrl(reference: string, allowHosts: readonly string[]): void {
  if (allowHosts.length === 0) {
    throw new DomainError(
      422,
      'base_model_urls_disabled',
      `baseModel URLs are not enabled on this server: use an id from GET /v1/base-models (an operator can allow https:// URLs from chosen hosts with GRAFT_ALLOW_BASE_URLS)`,
    );
  }
  const refusal = tenantUrlRefusal(reference, allowHosts);
  if (refusal) {
    throw new DomainError(
      422,
      'base_model_url_not_allowed',
      `baseModel ${reference} is not allowed: ${URL_REFUSALS[refusal]}; https:// URLs may name these hosts: ${allowHosts.join(', ')}`,
      { allowedHosts: allowHosts },
    );
  }
}

/** Catalog ids, and https URLs on allowed hosts: a local path would read the server's files. */
function checkBaseModel(spec: TrainingSpec, allowHosts: readonly string[]): void {
  const reference = spec.baseModel ?? DEFAULT_BASE_ID;
  const entry = findBaseModel(reference);
  if (!entry) {
    if (URL_LIKE.test(reference)) return checkBaseUrl(reference, allowHosts);
    throw new DomainError(
      422,
      'unknown_base_model',
      `unknown baseModel '${reference}': use an id from GET /v1/base-models${allowHosts.length > 0 ? ' or an https:// URL of a model.json' : ''}`,
    );
  }
  const from = spec.fineTuning.unfreezeFrom;
  if (spec.fineTuning.enabled && from !== undefined && !entry.unfreezePoints.includes(from)) {
    throw new DomainError(
      422,
      'invalid_unfreeze_point',
      `'${from}' is not a layer ${entry.id} can be unfrozen from; choose one of: ${entry.unfreezePoints.join(', ')}`,
    );
  }
}

/** 422 if a phase that will run asks for more epochs than the tenant's jobs may take. */
function checkEpochs(spec: TrainingSpec, limit: number): void {
  const epochs = Math.max(
    spec.featureExtraction.epochs,
    spec.fineTuning.enabled ? spec.fineTuning.epochs : 0,
  );
  if (epochs > limit) {
    throw quotaExceeded({ quota: 'epochsPerPhase', limit, used: epochs, requested: epochs });
  }
}

export class JobsService {
  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly datasets: DatasetsRepository,
    private readonly queue: TrainingQueue,
    private readonly tenants: TenantsRepository,
    /** Hosts a job's baseModel URL may name (GRAFT_ALLOW_BASE_URLS); none by default. */
    private readonly baseUrlHosts: readonly string[] = [],
    /** Where state changes are told (GET /v1/jobs/:id/events, webhooks); none without. */
    private readonly events?: JobEvents,
  ) {}

  /** `requestId`: the API request's, carried to the worker's log lines for this job. */
  async create(tenantId: string, body: Record<string, unknown>, requestId?: string) {
    const { datasetId, ...specInput } = body;
    let spec: TrainingSpec;
    try {
      spec = resolveTrainingSpec(specInput);
    } catch (error) {
      if (error instanceof TrainingSpecError) {
        throw new DomainError(422, 'invalid_spec', error.message, { issues: error.issues });
      }
      throw error;
    }
    checkBaseModel(spec, this.baseUrlHosts);
    const limits = await this.tenants.limits(tenantId);
    checkEpochs(spec, limits.epochsPerPhase);
    if (
      typeof datasetId !== 'string' ||
      !UUID.test(datasetId) ||
      !(await this.datasets.find(tenantId, datasetId))
    ) {
      throw new DomainError(
        422,
        'unknown_dataset',
        `datasetId ${String(datasetId)} is not one of your datasets`,
      );
    }
    // Queued jobs and models are counted under the tenant's lock: parallel submissions
    // cannot both take the last slot.
    const admitted = await this.tenants.createJobWithinQuota(
      { tenantId, datasetId, spec: spec as unknown as Prisma.InputJsonValue },
      limits,
    );
    if ('breach' in admitted) throw quotaExceeded(admitted.breach);
    const row = admitted.job;
    // The row is in, the queue entry is not yet. If either step below fails, the client hears
    // 503 (not created), so the job must never run: the row goes (a worker that took it
    // meanwhile is told to cancel). Left queued, the workers' reaper (worker/reaper.ts) would
    // enqueue it after 30 s. If this process dies before withdrawing, or the withdrawal fails
    // too, the reaper does enqueue it: the client got no answer (or a 503), and the job shows
    // in its list and runs. That is accepted.
    let rank: number;
    try {
      rank = await this.jobs.queueRank(row);
    } catch (error) {
      // PostgreSQL failed (the error boundary answers database_unavailable, 503). When it is
      // down, withdrawing fails as well, and the reaper enqueues the job once it is back.
      await this.jobs.withdraw(row.id).catch(() => false);
      throw error;
    }
    // Told before a worker can claim it: a fast one would otherwise tell `running` first. If
    // enqueueing fails below, the job is withdrawn and its lone `queued` event expires unread
    // (the client got 503 and no id to watch).
    await this.events?.state(tenantId, row.id, { status: 'queued' });
    try {
      await enqueueTraining(this.queue, row.id, rank, {
        tenantId,
        ...(requestId ? { requestId } : {}),
      });
    } catch {
      await this.jobs.withdraw(row.id).catch(() => false);
      throw queueUnavailable();
    }
    return this.get(tenantId, row.id);
  }

  async get(tenantId: string, id: string) {
    const row = await this.jobs.find(tenantId, id);
    if (!row) throw notFound('job', id);
    return jobView(row);
  }

  async list(tenantId: string, page: { limit: number; offset: number }) {
    const [rows, total] = await this.jobs.list(tenantId, page);
    return { items: rows.map(jobView), total, ...page };
  }

  async cancel(tenantId: string, id: string) {
    const cancel = await this.jobs.cancelRequest(tenantId, id);
    if (cancel === undefined) throw notFound('job', id);
    const { status, changed } = cancel;
    if (status === 'succeeded' || status === 'failed') {
      throw new DomainError(409, 'job_finished', `job ${id} already ${status}`);
    }
    // A request is told only while the job still runs: a worker that has ended it meanwhile
    // tells its end (and the stream takes no state after an end: queue/job-event-stream.ts).
    if (changed === 'cancelled' || (changed === 'requested' && status === 'running'))
      await this.events?.state(tenantId, id, { status, cancelRequested: true });
    await dropQueued(this.queue, id).catch(() => undefined);
    return this.get(tenantId, id);
  }
}
