-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "campaign_run_id" TEXT;

-- CreateTable
CREATE TABLE "topics" (
    "key" TEXT NOT NULL,
    "name" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "topics_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "topic_subscriptions" (
    "topic_key" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topic_subscriptions_pkey" PRIMARY KEY ("topic_key","user_id")
);

-- CreateTable
CREATE TABLE "campaigns" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "template_id" TEXT NOT NULL,
    "category" TEXT,
    "audience" JSONB NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "channels" TEXT[],
    "schedule" JSONB NOT NULL,
    "pacing" JSONB NOT NULL DEFAULT '{}',
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_runs" (
    "id" TEXT NOT NULL,
    "campaign_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "template_version" INTEGER NOT NULL,
    "audience_size" INTEGER NOT NULL,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMP(3),
    "completed_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "campaign_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_run_counters" (
    "run_id" TEXT NOT NULL,
    "shard" INTEGER NOT NULL,
    "started" INTEGER NOT NULL DEFAULT 0,
    "delivered" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "suppressed" INTEGER NOT NULL DEFAULT 0,
    "canceled" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_run_counters_pkey" PRIMARY KEY ("run_id","shard")
);

-- CreateIndex
CREATE INDEX "topic_subscriptions_user_id_idx" ON "topic_subscriptions"("user_id");

-- CreateIndex
CREATE INDEX "campaign_runs_campaign_id_id_idx" ON "campaign_runs"("campaign_id", "id");

-- CreateIndex
CREATE INDEX "notifications_campaign_run_id_idx" ON "notifications"("campaign_run_id");

-- AddForeignKey
ALTER TABLE "topic_subscriptions" ADD CONSTRAINT "topic_subscriptions_topic_key_fkey" FOREIGN KEY ("topic_key") REFERENCES "topics"("key") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topic_subscriptions" ADD CONSTRAINT "topic_subscriptions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_runs" ADD CONSTRAINT "campaign_runs_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_run_counters" ADD CONSTRAINT "campaign_run_counters_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "campaign_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

