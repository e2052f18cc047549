import type { Redis } from 'ioredis';
import type { ApiServices, AppDeps } from '../api/app.js';
import type { LimitsFor } from '../api/plugins/rate-limits.js';
import type { Config } from '../config/config.js';
import { ApiKeysRepository } from '../db/api-keys.repository.js';
import { DatasetImagesRepository } from '../db/dataset-images.repository.js';
import { DatasetsRepository } from '../db/datasets.repository.js';
import { ModelsRepository } from '../db/models.repository.js';
import { createDb, type Db } from '../db/prisma-client.js';
import { TenantsRepository } from '../db/tenants.repository.js';
import { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { WebhooksRepository } from '../db/webhooks.repository.js';
import { InferenceService } from '../inference/inference.service.js';
import { QUEUE_STATES, setScrapeSources } from '../observability/metrics.js';
import { createRedis } from '../queue/redis-connection.js';
import { createTrainingQueue, type TrainingQueue } from '../queue/training-queue.js';
import { createWebhookQueue, type WebhookQueue } from '../queue/webhook-queue.js';
import { JobEventStream } from '../queue/job-event-stream.js';
import { DatasetImagesService, thumbnailLimitsFor } from '../services/dataset-images.service.js';
import { DatasetsService } from '../services/datasets.service.js';
import { JobsService } from '../services/jobs.service.js';
import { JobEventsFeed } from '../services/job-events-feed.js';
import { JobEvents, type JobEventListener } from '../services/job-events.js';
import { KeysService } from '../services/keys.service.js';
import { ModelsService } from '../services/models.service.js';
import { PredictionsService } from '../services/predictions.service.js';
import { WebhooksService } from '../services/webhooks.service.js';
import { QuotasService, type TenantServices } from '../services/quotas.service.js';
import type { FenceTestOptions } from '../storage/url-fence.js';
import { artifactStoreFor, type ArtifactStore } from '../storage/artifact-store.js';
import { instrumentStore } from '../storage/instrumented-store.js';

/*
 * The one place that builds Graft's parts from a config: connections, the store, the queue,
 * repositories and services. Entry points (main.ts, the API server, the worker, the CLI) and
 * the test harness take what they need from here, and close it with one call.
 */

export type ConnectedConfig = Config & { databaseUrl: string; redisUrl: string };

/** What needs only PostgreSQL and the artifact store (the training processor, the CLI). */
export interface DataParts {
  config: Config;
  db: Db;
  store: ArtifactStore;
  close(): Promise<void>;
}

export function wireData(config: Config & { databaseUrl: string }): DataParts {
  const db = createDb(config.databaseUrl);
  return {
    config,
    db,
    // Every store operation timed, its failures counted (graft_storage_operation_*).
    store: instrumentStore(artifactStoreFor(config.storage)),
    close: () => db.$disconnect(),
  };
}

/** What an API replica needs: the data parts, Redis, the queue, inference and the services. */
export interface ApiParts extends DataParts {
  config: ConnectedConfig;
  /** Fail-fast connection (queue role): a request never hangs on a dead Redis. */
  redis: Redis;
  queue: TrainingQueue;
  /** Publishes job events (state changes); the worker of an all-in-one process uses it too. */
  events: JobEvents;
  services: ApiServices & TenantServices;
  /** What `buildApp` takes: the services, health probes and each tenant's own rate limits. */
  app: AppDeps & { limitsFor: LimitsFor };
}

/** Test-only: exceptions to the URL fence for webhooks (a receiver on loopback). */
export interface ApiTestOptions {
  webhookFence?: FenceTestOptions;
}

export function wireApi(config: ConnectedConfig, testOptions: ApiTestOptions = {}): ApiParts {
  const data = wireData(config);
  const { db, store } = data;
  const redis = createRedis(config.redisUrl, 'queue');
  // A dead Redis fails requests with 503 and /readyz says so; its error events are not news.
  redis.on('error', () => undefined);
  const queue = createTrainingQueue(config.queueName, redis);
  const webhooks = wireWebhooks(redis, db, config, testOptions.webhookFence);
  const events = wireJobEvents(redis, db, config, webhooks.service);
  const inference = new InferenceService(config, store, {
    cacheBytes: config.inferenceCacheBytes,
    maxBatch: config.inferenceMaxBatch,
    maxPending: config.admission.inferenceMaxPending,
  });
  const repositories = {
    datasets: new DatasetsRepository(db),
    jobs: new TrainingJobsRepository(db),
    models: new ModelsRepository(db),
    keys: new ApiKeysRepository(db),
    tenants: new TenantsRepository(db, config.quotas),
  };
  // Read when /metrics is scraped: the queue's depth and the jobs by status.
  const stopScrapes = setScrapeSources({
    queueCounts: () => queue.getJobCounts(...QUEUE_STATES),
    jobCounts: () => repositories.jobs.statusCounts(),
  });
  const services: ApiParts['services'] = {
    datasets: new DatasetsService(repositories.datasets, store, config, repositories.tenants),
    datasetImages: new DatasetImagesService(
      repositories.datasets,
      new DatasetImagesRepository(db),
      store,
      thumbnailLimitsFor(config.admission.decodeConcurrency),
    ),
    jobs: new JobsService(
      repositories.jobs,
      repositories.datasets,
      queue,
      repositories.tenants,
      config.baseModelUrls.allowHosts,
      events,
    ),
    // A heartbeat well within the idle timeout, which would otherwise cut a quiet stream.
    jobEvents: new JobEventsFeed(repositories.jobs, jobEventStream(redis, config), {
      heartbeatMs: Math.min(15_000, Math.floor(config.admission.idleTimeoutMs / 2)),
    }),
    models: new ModelsService(repositories.models, store, inference),
    predictions: new PredictionsService(repositories.models, inference, {
      maxInFlight: config.admission.predictMaxInFlight,
      decodeConcurrency: config.admission.decodeConcurrency,
      timeoutMs: config.admission.predictTimeoutMs,
    }),
    keys: repositories.keys,
    apiKeys: new KeysService(repositories.keys),
    webhooks: webhooks.service,
    quotas: new QuotasService(repositories.tenants, config.rateLimits),
  };
  return {
    ...data,
    config,
    redis,
    queue,
    events,
    services,
    app: {
      config,
      services,
      health: { db, redis },
      limitsFor: (tenantId) => repositories.tenants.rateLimits(tenantId),
    },
    async close() {
      stopScrapes();
      await inference.close();
      await queue.close();
      await webhooks.queue.close();
      redis.disconnect();
      await data.close();
    },
  };
}

/**
 * Webhooks: the service (routes, dispatch) and its delivery queue on `redis`. A queue on a
 * shared connection holds nothing of its own, so a publisher that never closes it leaks nothing.
 */
function wireWebhooks(
  redis: Redis,
  db: Db,
  config: Config,
  fence?: FenceTestOptions,
): { service: WebhooksService; queue: WebhookQueue } {
  const queue = createWebhookQueue(config.queueName, redis, config.webhooks);
  const repository = new WebhooksRepository(db);
  return {
    service: new WebhooksService(repository, queue, config.webhooks, undefined, fence),
    queue,
  };
}

/** Each job's event stream in Redis, kept GRAFT_JOB_EVENTS_TTL_HOURS after its last event. */
function jobEventStream(redis: Redis, config: Config): JobEventStream {
  return new JobEventStream(redis, { ttlSeconds: config.jobEventsTtlHours * 3600 });
}

/**
 * The one publisher of job events, for every place that publishes (the API, a worker, its
 * sandboxed processors, the reaper): appends to the job's stream on `redis`, then tells the
 * listeners. `db` and `config` are for listeners that need them.
 */
export function wireJobEvents(
  redis: Redis,
  db: Db,
  config: Config,
  webhooks: WebhooksService = wireWebhooks(redis, db, config).service,
): JobEvents {
  // Webhooks take `state` and `report` events (dispatch ignores the others).
  const listeners: JobEventListener[] = [
    async (tenantId, event, eventId) => {
      await webhooks.dispatch(tenantId, event, eventId);
    },
  ];
  return new JobEvents(jobEventStream(redis, config), listeners);
}

export interface StopOptions {
  /** How long stopping may take (GRAFT_DRAIN_TIMEOUT_MS); past it the process exits anyway. */
  timeoutMs: number;
  /** Requests not yet answered (an API's `requestsInFlight`): logged as cut off past the bound. */
  inFlight?: () => number;
}

const requests = (n: number) => `${n} request${n === 1 ? '' : 's'}`;

/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits: 0 when it finished (within
 * `options.timeoutMs`, if given), 1 when it failed or the bound passed first; then what was
 * still in flight is cut off, and the log says how much. Entry points call it with everything
 * they started, last started first; an API's `app.close()` stops accepting connections and
 * lets the requests in flight finish.
 */
export function stopOnSignals(stop: () => Promise<void>, options?: StopOptions): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (options) {
      const { timeoutMs, inFlight } = options;
      const pending = inFlight?.();
      console.error(
        `graft: ${signal}: stopping${pending === undefined ? '' : `, finishing ${requests(pending)} in flight`} (at most ${timeoutMs} ms)`,
      );
      setTimeout(() => {
        const cut = inFlight?.();
        console.error(
          `graft: not stopped ${timeoutMs} ms after ${signal} (GRAFT_DRAIN_TIMEOUT_MS)${cut === undefined ? '' : `: ${requests(cut)} in flight cut off`}; exiting`,
        );
        process.exit(1);
      }, timeoutMs);
    }
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`graft: stopping after ${signal} failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  // A second signal while stopping is ignored: stopping includes the embedded PostgreSQL.
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
