import { loadConfig } from '../config/config.js';
import { buildApp, type ApiServices } from './app.js';

/** Stands in for services while the document is generated: routes are registered, never run. */
const inert = new Proxy(
  {},
  {
    get(_target, property) {
      if (property === 'then') return undefined;
      // Read while routes register (never called): a method that refuses to run.
      return () => {
        throw new Error(
          `the API document is generated without services (called: ${String(property)})`,
        );
      };
    },
  },
);

/**
 * The API document, generated from the route schemas: what `npm run openapi` writes to
 * openapi.yaml, and what a test compares with that committed snapshot. Default settings only,
 * so the document does not depend on who generates it.
 */
export async function generateOpenApiYaml(): Promise<string> {
  // Every service the routes take (the type makes a new one impossible to forget here).
  const services: Record<keyof ApiServices, unknown> = {
    datasets: inert,
    datasetImages: inert,
    jobs: inert,
    // Its streams are ended when the app closes, which the document's app does.
    jobEvents: { closeAll: () => undefined },
    models: inert,
    predictions: inert,
    keys: inert,
    apiKeys: inert,
    quotas: inert,
    webhooks: inert,
  };
  const app = await buildApp({
    // Defaults, without the Redis-backed limiter (routes declare their 429s themselves).
    config: loadConfig({ GRAFT_RATE_LIMITS: 'off' }),
    services: services as unknown as ApiServices,
    health: { db: inert as never, redis: inert as never },
    logger: false,
  });
  try {
    await app.ready();
    return app.swagger({ yaml: true });
  } finally {
    await app.close();
  }
}
