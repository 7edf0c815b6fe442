-- CreateTable
CREATE TABLE "inbox_items" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "notification_id" TEXT NOT NULL,
    "delivery_id" TEXT,
    "template_id" TEXT,
    "category" TEXT,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "url" TEXT,
    "actions" JSONB,
    "data" JSONB,
    "read_at" TIMESTAMP(3),
    "seen_at" TIMESTAMP(3),
    "archived_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox_feeds" (
    "user_id" TEXT NOT NULL,
    "last_seq" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_feeds_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "inbox_events" (
    "user_id" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_events_pkey" PRIMARY KEY ("user_id","seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "inbox_items_notification_id_key" ON "inbox_items"("notification_id");

-- CreateIndex
CREATE INDEX "inbox_items_user_id_created_at_id_idx" ON "inbox_items"("user_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "inbox_items_created_at_idx" ON "inbox_items"("created_at");

-- CreateIndex
CREATE INDEX "inbox_events_at_idx" ON "inbox_events"("at");
