/** `npm run start:api`: one stateless API replica (no worker, starts no databases). */
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, loadConfig } from '../config/config.js';
import { stopOnSignals, wireApi } from '../runtime/wiring.js';
import { buildApp } from './app.js';

const config = loadConfig();
const parts = wireApi({
  ...config,
  databaseUrl: config.databaseUrl ?? DEFAULT_DATABASE_URL,
  redisUrl: config.redisUrl ?? DEFAULT_REDIS_URL,
});
const app = await buildApp(parts.app);
await app.listen({ host: config.host, port: config.port });
// SIGTERM: no new connections; requests in flight get GRAFT_DRAIN_TIMEOUT_MS to finish.
stopOnSignals(
  async () => {
    await app.close();
    await parts.close();
  },
  { timeoutMs: config.recovery.drainTimeoutMs, inFlight: () => app.requestsInFlight() },
);
