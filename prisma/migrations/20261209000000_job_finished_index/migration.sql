-- The reaper's search for finished jobs whose final webhook events were never dispatched:
-- a tenant's jobs by when they finished, not all its history.
CREATE INDEX "TrainingJob_tenantId_finishedAt_idx" ON "TrainingJob"("tenantId", "finishedAt");
