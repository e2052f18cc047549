-- Webhooks that keep failing are disabled: the failures in a row since the last success, and
-- why a webhook was disabled. `enabledAt` (creation, or the last re-enable) bounds which
-- finished jobs the reaper re-dispatches final events of.
ALTER TABLE "Webhook" ADD COLUMN "disabledReason" TEXT,
ADD COLUMN "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "enabledAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Existing webhooks count as enabled when they were created.
UPDATE "Webhook" SET "enabledAt" = "createdAt";

-- The reaper: pruning finished deliveries by age, and finding old pending ones to queue again.
CREATE INDEX "WebhookDelivery_status_createdAt_idx" ON "WebhookDelivery"("status", "createdAt");

-- A tenant's pending deliveries, counted at every dispatch (GRAFT_WEBHOOK_MAX_PENDING).
CREATE INDEX "WebhookDelivery_tenantId_status_idx" ON "WebhookDelivery"("tenantId", "status");
