/**
 * `npm run keys:create -- --tenant <name> [--name <what it is for>]`: creates the tenant if
 * needed and prints a new API key as the last line. Tenants' quotas: `npm run tenants`.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { checkName, TENANT_NAME } from '../contracts/names.js';
import { ApiKeysRepository } from '../db/api-keys.repository.js';
import { createDb } from '../db/prisma-client.js';
import { bootstrapInfrastructure } from '../runtime/bootstrap.js';

const { values } = parseArgs({
  options: { tenant: { type: 'string', default: 'default' }, name: { type: 'string' } },
});
const tenant = values.tenant.trim();
if (!TENANT_NAME.test(tenant)) {
  console.error('keys:create: --tenant must be 1-64 letters, digits, ".", "_" or "-"');
  process.exit(2);
}
const name = values.name === undefined ? undefined : checkName(values.name.trim());
if (name && !name.ok) {
  console.error(`keys:create: --name ${name.reason}`);
  process.exit(2);
}
const infra = await bootstrapInfrastructure(loadConfig());
const db = createDb(infra.config.databaseUrl);
const { key } = await new ApiKeysRepository(db).create(
  tenant,
  name?.ok ? name.name || undefined : undefined,
);
await db.$disconnect();
await infra.stop();
console.error(`API key for tenant "${tenant}":`);
console.log(key);
