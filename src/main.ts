/**
 * `npm start`: Graft in one process — API + one training worker — with embedded defaults:
 * DATABASE_URL / REDIS_URL when set, else the local default ports, else an embedded
 * PostgreSQL and a private redis-server. Prints an API key on first start.
 */
import { buildApp } from './api/app.js';
import { loadConfig } from './config/config.js';
import { bootstrapInfrastructure } from './runtime/bootstrap.js';
import { stopOnSignals, wireApi } from './runtime/wiring.js';
import { describeEngines } from './services/frozen-engine.js';
import { startTrainingWorker } from './worker/training-worker.js';

async function main(): Promise<void> {
  const infra = await bootstrapInfrastructure(loadConfig());
  const { config } = infra;
  const parts = wireApi(config);
  const { keys } = parts.services;
  if ((await keys.count()) === 0) {
    const { key } = await keys.create('default');
    console.log(
      `\nFirst start: an API key for tenant "default" (shown once, keep it):\n\n  ${key}\n`,
    );
  }
  const worker = await startTrainingWorker(config, parts.db, { events: parts.events });
  const app = await buildApp(parts.app);
  await app.listen({ host: config.host, port: config.port });
  console.log(
    `Graft is up: http://${config.host}:${config.port} (web console at /, docs at /docs). ${infra.describe}; worker trains on ${await describeEngines(config, worker.backend)}.`,
  );
  // The API's requests and the worker's job drain together, within GRAFT_DRAIN_TIMEOUT_MS.
  stopOnSignals(
    async () => {
      await Promise.all([app.close(), worker.close()]);
      await parts.close();
      await infra.stop();
    },
    { timeoutMs: config.recovery.drainTimeoutMs, inFlight: () => app.requestsInFlight() },
  );
}

main().catch((error: unknown) => {
  console.error(`graft: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
