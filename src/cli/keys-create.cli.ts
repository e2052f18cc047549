/** `npm run keys:create -- --tenant <name>`: prints a new API key as the last line. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { ApiKeysRepository } from '../db/api-keys.repository.js';
import { createDb } from '../db/prisma-client.js';
import { bootstrapInfrastructure } from '../runtime/bootstrap.js';

const { values } = parseArgs({ options: { tenant: { type: 'string', default: 'default' } } });
const tenant = values.tenant.trim();
if (!/^[\w.-]{1,64}$/.test(tenant)) {
  console.error('keys:create: --tenant must be 1-64 letters, digits, ".", "_" or "-"');
  process.exit(2);
}
const infra = await bootstrapInfrastructure(loadConfig());
const db = createDb(infra.config.databaseUrl);
const { key } = await new ApiKeysRepository(db).create(tenant);
await db.$disconnect();
await infra.stop();
console.error(`API key for tenant "${tenant}":`);
console.log(key);
