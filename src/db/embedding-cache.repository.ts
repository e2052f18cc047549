import { Prisma } from './generated/client.js';
import type { Db } from './prisma-client.js';

/** Rows per statement: far below PostgreSQL's 65,535 bind parameters. */
const CHUNK = 1000;

const chunks = <T>(items: readonly T[]): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
};

/** Sorted and without repeats: statements over the same rows lock them in one order. */
const distinctSorted = (keys: readonly string[]) => [...new Set(keys)].sort();

/** The time every write here stamps, as the other tables store theirs (UTC, no zone). */
const NOW = Prisma.sql`(now() AT TIME ZONE 'UTC')`;

/**
 * The index of a tenant's embedding cache (storage/embedding-cache.ts): which objects under
 * `embeddings/<tenantId>/` may be read, the image each came from, their sizes, and when each
 * was last used. Every statement names the tenant (but `expire`, which serves the reaper), and
 * concurrent jobs of one tenant may call any of these at once: writes are upserts, deletes of
 * rows already gone do nothing.
 */
export class EmbeddingCacheRepository {
  constructor(private readonly db: Db) {}

  /** Of `keys`, those with a row, each marked used now (one statement per 1000 keys). */
  async touch(tenantId: string, keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks(distinctSorted(keys))) {
      const rows = await this.db.$queryRaw<{ key: string }[]>`
        UPDATE "EmbeddingCacheEntry" SET "lastUsedAt" = ${NOW}
        WHERE "tenantId" = ${tenantId}::uuid AND "key" IN (${Prisma.join(part)})
        RETURNING "key"`;
      for (const row of rows) found.add(row.key);
    }
    return found;
  }

  /**
   * Rows for entries being stored (a key stored again takes its new size), marked used now.
   * `contentHash` is the image's (DatasetImage.contentHash): deleting datasets finds it by that.
   */
  async record(
    tenantId: string,
    entries: readonly { key: string; contentHash: string; bytes: number }[],
  ): Promise<void> {
    const byKey = new Map(entries.map((entry) => [entry.key, entry]));
    for (const part of chunks(distinctSorted([...byKey.keys()]))) {
      const values = part.map((key) => {
        const { contentHash, bytes } = byKey.get(key)!;
        return Prisma.sql`(${tenantId}::uuid, ${key}, ${contentHash}, ${bytes}::int, ${NOW}, ${NOW})`;
      });
      await this.db.$executeRaw`
        INSERT INTO "EmbeddingCacheEntry"
          ("tenantId", "key", "contentHash", "bytes", "createdAt", "lastUsedAt")
        VALUES ${Prisma.join(values)}
        ON CONFLICT ("tenantId", "key")
        DO UPDATE SET "bytes" = EXCLUDED."bytes", "lastUsedAt" = EXCLUDED."lastUsedAt"`;
    }
  }

  /** Removes rows (objects that could not be stored); their objects are no longer read. */
  async forget(tenantId: string, keys: readonly string[]): Promise<void> {
    for (const part of chunks(distinctSorted(keys))) {
      await this.db.embeddingCacheEntry.deleteMany({ where: { tenantId, key: { in: part } } });
    }
  }

  /** Bytes the tenant's cache holds. */
  async totalBytes(tenantId: string): Promise<number> {
    const sum = await this.db.embeddingCacheEntry.aggregate({
      where: { tenantId },
      _sum: { bytes: true },
    });
    return sum._sum.bytes ?? 0;
  }

  /**
   * Deletes the least recently used rows of the tenant until the rest hold at most
   * `budgetBytes`, and gives their keys (whose objects the caller removes). One statement:
   * a row touched or stored again since the statement's snapshot keeps its place (its
   * `lastUsedAt` no longer matches), and one another job deleted first is skipped.
   */
  async evictBeyond(tenantId: string, budgetBytes: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ key: string }[]>`
      WITH ranked AS (
        SELECT "key", "lastUsedAt",
          SUM("bytes") OVER (ORDER BY "lastUsedAt" DESC, "key" DESC ROWS UNBOUNDED PRECEDING) AS "upTo"
        FROM "EmbeddingCacheEntry" WHERE "tenantId" = ${tenantId}::uuid
      )
      DELETE FROM "EmbeddingCacheEntry" AS e USING ranked AS r
      WHERE e."tenantId" = ${tenantId}::uuid AND e."key" = r."key"
        AND e."lastUsedAt" = r."lastUsedAt" AND r."upTo" > ${budgetBytes}::bigint
      RETURNING e."key"`;
    return rows.map((row) => row.key);
  }

  /**
   * Deletes up to `limit` rows of any tenant not used for `maxIdleMs`, and gives them (the
   * caller removes their objects). A row touched since the statement's snapshot stays.
   */
  async expire(maxIdleMs: number, limit = CHUNK): Promise<{ tenantId: string; key: string }[]> {
    return this.db.$queryRaw<{ tenantId: string; key: string }[]>`
      WITH idle AS (
        SELECT "tenantId", "key", "lastUsedAt" FROM "EmbeddingCacheEntry"
        WHERE "lastUsedAt" < ${NOW} - ${maxIdleMs}::bigint * interval '1 millisecond'
        ORDER BY "lastUsedAt" LIMIT ${limit}::int
      )
      DELETE FROM "EmbeddingCacheEntry" AS e USING idle AS i
      WHERE e."tenantId" = i."tenantId" AND e."key" = i."key" AND e."lastUsedAt" = i."lastUsedAt"
      RETURNING e."tenantId"::text AS "tenantId", e."key"`;
  }

  /** Of `keys`, those with a row (without touching them): the others' objects are garbage. */
  async existing(tenantId: string, keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks(distinctSorted(keys))) {
      const rows = await this.db.embeddingCacheEntry.findMany({
        where: { tenantId, key: { in: part } },
        select: { key: true },
      });
      for (const row of rows) found.add(row.key);
    }
    return found;
  }
}

/**
 * In the transaction deleting dataset `datasetId` of `tenantId`, before its images go: deletes
 * the tenant's cache rows of the dataset's images that no other dataset of the tenant holds,
 * and says how many. Their objects are then unread; the reaper's sweep removes them. Another
 * tenant's rows are never touched, even for the same image.
 */
export async function forgetDatasetEmbeddings(
  tx: Prisma.TransactionClient,
  tenantId: string,
  datasetId: string,
): Promise<number> {
  return tx.$executeRaw`
    DELETE FROM "EmbeddingCacheEntry" AS e
    WHERE e."tenantId" = ${tenantId}::uuid
      AND e."contentHash" IN (
        SELECT i."contentHash" FROM "DatasetImage" AS i
        JOIN "Dataset" AS d ON d."id" = i."datasetId"
        WHERE d."id" = ${datasetId}::uuid AND d."tenantId" = ${tenantId}::uuid
          AND i."contentHash" IS NOT NULL)
      AND NOT EXISTS (
        SELECT 1 FROM "DatasetImage" AS o
        JOIN "Dataset" AS d ON d."id" = o."datasetId"
        WHERE d."tenantId" = ${tenantId}::uuid AND d."id" <> ${datasetId}::uuid
          AND o."contentHash" = e."contentHash")`;
}
