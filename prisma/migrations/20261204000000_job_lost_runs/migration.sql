-- Runs of a job lost to a dead worker, counted apart from `attempt` (which every claim takes,
-- a draining worker's hand-back included): the reaper gives up on a job past maxStalls of these.
ALTER TABLE "TrainingJob" ADD COLUMN "lostRuns" INTEGER NOT NULL DEFAULT 0;
