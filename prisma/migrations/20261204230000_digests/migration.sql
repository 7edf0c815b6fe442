-- AlterTable
ALTER TABLE "categories" ADD COLUMN     "allow_digest_preference" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "digest" JSONB;

-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "digest" JSONB,
ADD COLUMN     "digest_id" TEXT;

-- CreateIndex
CREATE INDEX "notifications_digest_id_idx" ON "notifications"("digest_id");
