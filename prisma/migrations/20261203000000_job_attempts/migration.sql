-- Fencing: each run of a job takes the next attempt number, and only the current run writes.
ALTER TABLE "TrainingJob" ADD COLUMN "attempt" INTEGER NOT NULL DEFAULT 0;
-- Where a run resumed from a checkpoint: [{attempt, stage, epoch, at}].
ALTER TABLE "TrainingJob" ADD COLUMN "resumes" JSONB NOT NULL DEFAULT '[]';
-- The reaper looks for queued and running jobs across tenants.
CREATE INDEX "TrainingJob_status_updatedAt_idx" ON "TrainingJob"("status", "updatedAt");
