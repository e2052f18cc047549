/** `npm run start:worker`: one training worker process; run one per machine (or GPU). */
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, loadConfig } from '../config/config.js';
import { serveMetrics } from '../observability/metrics-server.js';
import { closeRedis, createRedis, whenReady } from '../queue/redis-connection.js';
import { stopOnSignals, wireData, wireJobEvents } from '../runtime/wiring.js';
import { describeEngines } from '../services/frozen-engine.js';
import { startTrainingWorker } from './training-worker.js';

const config = loadConfig();
const databaseUrl = config.databaseUrl ?? DEFAULT_DATABASE_URL;
// The sandboxed processors read it from the environment.
process.env.DATABASE_URL = databaseUrl;
const redisUrl = config.redisUrl ?? DEFAULT_REDIS_URL;
// They publish the job events of their runs on a Redis connection of their own.
process.env.REDIS_URL = redisUrl;
const data = wireData({ ...config, databaseUrl });
const eventsConnection = createRedis(redisUrl, 'events');
await whenReady(eventsConnection);
const events = wireJobEvents(eventsConnection, data.db, config);
const running = await startTrainingWorker({ ...config, redisUrl, databaseUrl }, data.db, {
  events,
});
// Each worker is a Prometheus target of its own (GRAFT_METRICS_PORT), by the API's access rule.
const metricsPort = config.metrics.port;
const metrics =
  metricsPort === undefined
    ? undefined
    : await serveMetrics(config.metrics, config.host, metricsPort);
if (metrics && config.metrics.access === 'off')
  console.warn(
    'graft worker: GRAFT_METRICS_PORT is set, but neither GRAFT_METRICS_TOKEN nor GRAFT_METRICS=open: /metrics answers 404',
  );
const serving = metrics ? `; metrics at http://${config.host}:${metrics.port}/metrics` : '';
const engines = await describeEngines(config, running.backend);
console.log(
  `graft worker ${process.pid} waiting for jobs on '${config.queueName}', training on ${engines}${serving}`,
);
// SIGTERM drains: each run checkpoints and hands its job back to the queue, within the bound;
// past it the process exits and the job's lapsed lock hands it to another worker.
stopOnSignals(
  async () => {
    await running.close();
    await closeRedis(eventsConnection);
    await metrics?.close();
    await data.close();
  },
  { timeoutMs: config.recovery.drainTimeoutMs },
);
