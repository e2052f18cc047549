/**
 * `npm run tenants -- <command>`: the administrator's tool for tenants and their quotas.
 * Exit status 2 for a usage error, 1 for a tenant that does not exist (or exists, on create).
 */
import { parseArgs } from 'node:util';
import {
  isRateClass,
  loadConfig,
  parseRateLimit,
  RATE_CLASSES,
  RATE_LIMIT_DEFAULTS,
  type RateClass,
  type RateLimit,
} from '../config/config.js';
import { TENANT_NAME } from '../contracts/names.js';
import { isQuotaName, QUOTA_NAMES, type QuotaName } from '../contracts/quotas.js';
import type { UsageView } from '../contracts/tenant-views.js';
import { createDb } from '../db/prisma-client.js';
import { TenantsRepository } from '../db/tenants.repository.js';
import { applyMigrations, ensurePostgres } from '../runtime/infrastructure.js';
import { QuotasService } from '../services/quotas.service.js';

const USAGE = `Usage: npm run tenants -- <command> [--json]

  create <name>                        a new tenant (then: npm run keys:create -- --tenant <name>)
  set-quota <tenant> <quota> <value>   the tenant's own limit: a positive whole number, or
                                       "default" to follow the server's default again
  set-rate <tenant> <class> <rate>     the tenant's own rate limit (all its keys together), e.g. 600/10s
                                       (requests per window; units ms, s, m, h), or "default"
  show <tenant>                        its limits (own or default) and what it uses
  list                                 every tenant, with its own limits and active keys

Quotas: ${QUOTA_NAMES.join(', ')}
Rate classes: ${RATE_CLASSES.join(', ')}
Defaults come from GRAFT_QUOTA_* and GRAFT_RATE_* (see the README). A changed rate limit
applies within 10 seconds.`;

class UsageError extends Error {}

function parseArguments() {
  try {
    return parseArgs({
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`tenants: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
const { values, positionals } = parseArguments();
const [command, ...args] = positionals;

function tenantName(raw: string | undefined): string {
  if (!raw || !TENANT_NAME.test(raw))
    throw new UsageError('a tenant name is 1-64 letters, digits, ".", "_" or "-"');
  return raw;
}

function quotaValue(raw: string | undefined): number | null {
  if (raw === 'default') return null;
  const value = Number(raw);
  if (!raw || !Number.isSafeInteger(value) || value <= 0)
    throw new UsageError(`a quota value is a positive whole number or "default", not '${raw}'`);
  return value;
}

function rateValue(raw: string | undefined): RateLimit | null {
  if (raw === 'default') return null;
  const limit = raw === undefined ? undefined : parseRateLimit(raw);
  if (!limit)
    throw new UsageError(
      `a rate looks like 600/10s (requests per window) or "default", not '${raw}'`,
    );
  return limit;
}

function printUsage(view: UsageView): void {
  console.log(`tenant ${view.tenant}`);
  for (const name of QUOTA_NAMES) {
    const { limit, used, own } = view.quotas[name];
    const shown = `${limit}${own ? ' (own)' : ''}`;
    console.log(`  ${name.padEnd(18)} ${shown.padEnd(20)} ${used === null ? '' : `used ${used}`}`);
  }
  if (!view.rateLimits) {
    console.log('  rate limits        off (GRAFT_RATE_LIMITS=off)');
    return;
  }
  for (const name of RATE_CLASSES) {
    const { max, windowSeconds, own } = view.rateLimits[name];
    console.log(`  rate ${name.padEnd(13)} ${max}/${windowSeconds}s${own ? ' (own)' : ''}`);
  }
}

type Command =
  | { kind: 'create'; name: string }
  | { kind: 'set-quota'; name: string; quota: QuotaName; value: number | null }
  | { kind: 'set-rate'; name: string; rateClass: RateClass; limit: RateLimit | null }
  | { kind: 'show'; name: string }
  | { kind: 'list' };

/** Checked before anything is started: a typo costs no database. */
function parseCommand(): Command {
  switch (command) {
    case 'create':
    case 'show':
      return { kind: command, name: tenantName(args[0]) };
    case 'set-quota': {
      const [name, quota, raw] = args;
      if (!quota || !isQuotaName(quota))
        throw new UsageError(`unknown quota '${quota}'; one of: ${QUOTA_NAMES.join(', ')}`);
      return { kind: command, name: tenantName(name), quota, value: quotaValue(raw) };
    }
    case 'set-rate': {
      const [name, rateClass, raw] = args;
      if (!rateClass || !isRateClass(rateClass))
        throw new UsageError(
          `unknown rate class '${rateClass}'; one of: ${RATE_CLASSES.join(', ')}`,
        );
      return { kind: command, name: tenantName(name), rateClass, limit: rateValue(raw) };
    }
    case 'list':
      return { kind: command };
    case undefined:
    default:
      throw new UsageError(command ? `unknown command '${command}'` : 'no command');
  }
}

async function run(tenants: TenantsRepository, order: Command): Promise<number> {
  if (order.kind === 'list') {
    const list = (await tenants.list()).map((t) => ({
      name: t.name,
      activeKeys: t._count.apiKeys,
      quotas: t.quotas,
      rateLimits: t.rateLimits,
      createdAt: t.createdAt.toISOString(),
    }));
    if (values.json) console.log(JSON.stringify(list));
    for (const t of values.json ? [] : list)
      console.log(
        `${t.name.padEnd(24)} ${t.activeKeys} key(s)  own limits ${JSON.stringify(t.quotas)}  own rates ${JSON.stringify(t.rateLimits)}`,
      );
    return 0;
  }
  if (order.kind === 'create') {
    const tenant = await tenants.create(order.name);
    if (!tenant) {
      console.error(`tenants: a tenant named "${order.name}" exists already`);
      return 1;
    }
    console.log(
      values.json ? JSON.stringify({ id: tenant.id, name: tenant.name }) : `created ${tenant.name}`,
    );
    return 0;
  }
  const tenant = await tenants.findByName(order.name);
  if (!tenant) {
    console.error(`tenants: no tenant named "${order.name}"`);
    return 1;
  }
  if (order.kind === 'set-quota') {
    await tenants.setQuota(tenant.id, order.quota, order.value);
    const limit = (await tenants.limits(tenant.id))[order.quota];
    console.log(
      `${tenant.name}: ${order.quota} = ${limit}${order.value === null ? ' (default)' : ''}`,
    );
    return 0;
  }
  if (order.kind === 'set-rate') {
    await tenants.setRateLimit(tenant.id, order.rateClass, order.limit);
    const own = (await tenants.rateLimits(tenant.id))[order.rateClass];
    const { max, windowMs } = {
      ...(config.rateLimits ?? RATE_LIMIT_DEFAULTS)[order.rateClass],
      ...own,
    };
    console.log(
      `${tenant.name}: rate ${order.rateClass} = ${max}/${windowMs / 1000}s${order.limit === null ? ' (default)' : ''}`,
    );
    return 0;
  }
  const view = await new QuotasService(tenants, config.rateLimits).usage(tenant.id, tenant.name);
  if (values.json) console.log(JSON.stringify(view));
  else printUsage(view);
  return 0;
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
let order: Command;
try {
  order = parseCommand();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`tenants: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
// PostgreSQL only (found or started as `npm start` would, and migrated): no Redis needed.
const config = loadConfig();
const postgres = await ensurePostgres(config.databaseUrl, config.dataDir);
let status: number;
try {
  await applyMigrations(postgres.url);
  const db = createDb(postgres.url);
  try {
    status = await run(new TenantsRepository(db, config.quotas), order);
  } finally {
    await db.$disconnect();
  }
} finally {
  await postgres.stop?.();
}
process.exit(status);
