-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "escalation" JSONB,
ADD COLUMN     "opened_at" TIMESTAMP(3),
ADD COLUMN     "redrives" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "provider_call_stats" (
    "provider" TEXT NOT NULL,
    "bucket" TIMESTAMP(3) NOT NULL,
    "calls" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "provider_call_stats_pkey" PRIMARY KEY ("provider","bucket")
);

-- CreateTable
CREATE TABLE "provider_alerts" (
    "provider" TEXT NOT NULL,
    "last_alert_at" TIMESTAMP(3) NOT NULL,
    "failure_rate" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "provider_alerts_pkey" PRIMARY KEY ("provider")
);

