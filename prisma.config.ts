import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { defineConfig } from 'prisma/config';

/*
 * Prisma 6.19 with the JS schema engine (driver adapter), so that migrations run offline:
 * Prisma 7 and the classic engine download a binary first. Known bug prisma/orm#27403: the
 * schema engine cannot read pg_catalog columns of type `name` (OID 19) or `"char"` (18)
 * through adapter-pg, so their result fields are reported as text here. Only the CLI loads
 * this file; the application's client never reads pg_catalog.
 */
const AS_TEXT: Record<number, number> = { 19: 25, 18: 25, 1003: 1009, 1002: 1009 };

type QueryResult = { fields?: { dataTypeID: number }[] } | undefined;
const remap = (result: QueryResult): QueryResult => {
  for (const field of result?.fields ?? [])
    field.dataTypeID = AS_TEXT[field.dataTypeID] ?? field.dataTypeID;
  return result;
};
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const callback = args.at(-1);
  if (typeof callback === 'function') {
    args[args.length - 1] = (error: unknown, result: QueryResult) =>
      (callback as (e: unknown, r: QueryResult) => void)(error, remap(result));
  }
  const returned = query.apply(this, args);
  return returned instanceof Promise ? returned.then((r) => remap(r as QueryResult)) : returned;
} as typeof pg.Client.prototype.query;

// The schema reads env("DATABASE_URL"); `prisma generate` needs it set even though it connects to nothing.
process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/graft';
const url = process.env.DATABASE_URL;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  adapter: () => Promise.resolve(new PrismaPg({ connectionString: url })),
});
