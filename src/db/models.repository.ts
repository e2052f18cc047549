import type { Db } from './prisma-client.js';

export class ModelsRepository {
  constructor(private readonly db: Db) {}

  find(tenantId: string, id: string) {
    return this.db.model.findFirst({ where: { id, tenantId } });
  }

  async delete(tenantId: string, id: string): Promise<{ artifactKey: string } | undefined> {
    const row = await this.find(tenantId, id);
    if (!row) return undefined;
    await this.db.model.delete({ where: { id } });
    return { artifactKey: row.artifactKey };
  }

  list(tenantId: string, page: { limit: number; offset: number }) {
    return this.db.$transaction([
      this.db.model.findMany({
        where: { tenantId },
        orderBy: { createdAt: 'desc' },
        take: page.limit,
        skip: page.offset,
      }),
      this.db.model.count({ where: { tenantId } }),
    ]);
  }

  /** Of `keys`, those some model's artifacts are stored under (the reaper keeps those). */
  async withArtifactKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db.model.findMany({
      where: { artifactKey: { in: [...keys] } },
      select: { artifactKey: true },
    });
    return new Set(rows.map((row) => row.artifactKey));
  }
}
