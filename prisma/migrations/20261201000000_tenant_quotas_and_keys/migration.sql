-- Quotas per tenant, named and listable API keys, and a capped rejected list with its count.

-- The limits a tenant has of its own, as {quota: value}. Quotas not named use the defaults (GRAFT_QUOTA_*).
ALTER TABLE "Tenant" ADD COLUMN "quotas" JSONB NOT NULL DEFAULT '{}';

ALTER TABLE "ApiKey" ADD COLUMN "name" TEXT;
CREATE INDEX "ApiKey_tenantId_createdAt_idx" ON "ApiKey"("tenantId", "createdAt");

-- Quota checks count the queued and running jobs of a tenant.
CREATE INDEX "TrainingJob_tenantId_status_idx" ON "TrainingJob"("tenantId", "status");

-- Views show the first 100 rejected files and how many there were.
ALTER TABLE "Dataset" ADD COLUMN "rejectedCount" INTEGER NOT NULL DEFAULT 0;
UPDATE "Dataset" SET "rejectedCount" = jsonb_array_length("rejected");
UPDATE "Dataset" SET "rejected" = (
    SELECT COALESCE(jsonb_agg(item ORDER BY position), '[]'::jsonb)
    FROM jsonb_array_elements("rejected") WITH ORDINALITY AS t(item, position)
    WHERE position <= 100
) WHERE "rejectedCount" > 100;

-- sizeBytes now counts the stored images (the storedBytes quota), not the uploaded zip.
UPDATE "Dataset" AS d SET "sizeBytes" = COALESCE(
    (SELECT SUM(i."bytes") FROM "DatasetImage" AS i WHERE i."datasetId" = d."id"), 0);
