-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "held_until" TIMESTAMP(3),
ADD COLUMN     "hold_reason" TEXT;

-- CreateTable
CREATE TABLE "categories" (
    "name" TEXT NOT NULL,
    "description" TEXT,
    "critical" BOOLEAN NOT NULL DEFAULT false,
    "channels" JSONB NOT NULL DEFAULT '{}',
    "quiet_hours" TEXT NOT NULL DEFAULT 'respect',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "categories_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "notifications_user_id_status_idx" ON "notifications"("user_id", "status");

