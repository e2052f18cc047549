-- The per-tenant embedding cache: one row per image's frozen-base outputs, stored in the artifact
-- store as `embeddings/<tenantId>/<key>`. Only an object with a row is read. Past the byte budget
-- of the tenant, the least recently used rows go first, then their objects.
CREATE TABLE "EmbeddingCacheEntry" (
    "tenantId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EmbeddingCacheEntry_pkey" PRIMARY KEY ("tenantId","key")
);

-- Eviction walks the rows of a tenant from the least recently used.
CREATE INDEX "EmbeddingCacheEntry_tenantId_lastUsedAt_idx" ON "EmbeddingCacheEntry"("tenantId", "lastUsedAt");

ALTER TABLE "EmbeddingCacheEntry" ADD CONSTRAINT "EmbeddingCacheEntry_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;
