-- The rate limits a tenant has of its own, as {class: {max, windowMs}}. Classes not named use
-- the defaults (GRAFT_RATE_*).
ALTER TABLE "Tenant" ADD COLUMN "rateLimits" JSONB NOT NULL DEFAULT '{}';
