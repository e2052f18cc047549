import { loadConfig } from '../config/config.js';
import { buildApp, type ApiServices } from './app.js';

/** Stands in for services while the document is generated: routes are registered, never run. */
const inert = new Proxy(
  {},
  {
    get(_target, property) {
      if (property === 'then') return undefined;
      throw new Error(`the API document is generated without services (used: ${String(property)})`);
    },
  },
);

/**
 * The API document, generated from the route schemas: what `npm run openapi` writes to
 * openapi.yaml, and what a test compares with that committed snapshot. Default settings only,
 * so the document does not depend on who generates it.
 */
export async function generateOpenApiYaml(): Promise<string> {
  const services = { datasets: inert, jobs: inert, models: inert, predictions: inert, keys: inert };
  const app = await buildApp({
    config: loadConfig({}),
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
