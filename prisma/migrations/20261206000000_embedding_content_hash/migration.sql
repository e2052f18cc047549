-- Each cached embedding names the image it came from, so that the rows of an image go when the
-- last dataset of the tenant holding it is deleted, and rows unused for 30 days go (the reaper
-- removes their objects). Rows cached before this know no image: they are dropped (a cache
-- fills again), and their objects are swept as orphans.
DELETE FROM "EmbeddingCacheEntry";

ALTER TABLE "EmbeddingCacheEntry" ADD COLUMN "contentHash" TEXT NOT NULL;

-- Deleting a dataset finds the rows of its images.
CREATE INDEX "EmbeddingCacheEntry_tenantId_contentHash_idx" ON "EmbeddingCacheEntry"("tenantId", "contentHash");

-- The reaper finds rows unused for too long, whatever their tenant.
CREATE INDEX "EmbeddingCacheEntry_lastUsedAt_idx" ON "EmbeddingCacheEntry"("lastUsedAt");
