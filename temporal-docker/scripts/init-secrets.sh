#!/bin/sh
# Creates temporal-docker/secrets/ with generated database passwords and an admin API key, plus empty files for the
# provider credentials you fill in yourself. Never overwrites an existing file, so it is safe to re-run.
#
# Compose mounts each file at /run/secrets/<name> inside the containers that list it. Outside Swarm those are bind
# mounts that keep the host file's mode, and the containers run as non-root users (postgres, temporal, node), so the
# files are world-readable (0644) inside a directory only you can enter (0700).
set -eu

dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)/secrets
mkdir -p "$dir"
chmod 700 "$dir"

random_hex() {
  # 32 random bytes as 64 hex characters: URL-safe, so it can sit inside a connection string unescaped.
  od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

write_once() {
  file="$dir/$1"
  if [ -e "$file" ]; then
    echo "kept     secrets/$1"
    return
  fi
  printf '%s' "$2" >"$file"
  chmod 644 "$file"
  echo "created  secrets/$1"
}

write_once temporal_db_password "$(random_hex)"
# The database URL embeds the password, so the two are only ever generated together.
if [ -e "$dir/herald_db_password" ] || [ -e "$dir/herald_database_url" ]; then
  for name in herald_db_password herald_database_url; do
    [ -e "$dir/$name" ] || {
      echo "secrets/$name is missing while its pair exists: write it by hand so that both hold the same password" >&2
      exit 1
    }
    echo "kept     secrets/$name"
  done
else
  herald_db_password=$(random_hex)
  write_once herald_db_password "$herald_db_password"
  write_once herald_database_url "postgresql://herald:${herald_db_password}@herald-postgresql:5432/herald"
fi
write_once herald_api_key "$(random_hex)"
# Payload encryption: one AES-256 key named after today's date (docs/operations.md: adding a key to rotate).
write_once herald_encryption_keys "k$(date -u +%Y%m%d):$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
# Tracking: the HMAC key for tracked links, open pixels and unsubscribe links. Changing it breaks links already sent.
write_once herald_tracking_secret "$(random_hex)"
# In-app inbox: the HMAC key signing end users' feed tokens (docs/inbox.md). Rotate by listing new,old in the file.
write_once herald_inbox_secret "$(random_hex)"

# Provider credentials: an empty file means "provider not configured" (Herald then skips it or uses the outbox).
for name in apns_key fcm_credentials twilio_auth_token sendgrid_api_key smtp_url vonage_api_secret \
  sendgrid_webhook_public_key; do
  write_once "$name" ""
done

cat <<'NOTE'

Fill in the provider files you use (leave the others empty):
  secrets/apns_key            APNs .p8 key (with APNS_KEY_ID, APNS_TEAM_ID, APNS_TOPIC in .env)
  secrets/fcm_credentials     FCM service-account JSON (with FCM_PROJECT_ID in .env)
  secrets/twilio_auth_token   Twilio auth token (with TWILIO_ACCOUNT_SID, TWILIO_FROM in .env)
  secrets/sendgrid_api_key    SendGrid API key (with SENDGRID_FROM in .env)
  secrets/smtp_url            smtp://user:pass@host:587 (with SMTP_FROM in .env)
  secrets/vonage_api_secret   Vonage API secret, SMS failover (with VONAGE_API_KEY, VONAGE_FROM in .env)
  secrets/sendgrid_webhook_public_key
                              SendGrid Event Webhook verification key (Mail Settings > Event Webhook > Signed)
The admin API key for Herald's /v1 routes is in secrets/herald_api_key; the payload encryption keys are in
secrets/herald_encryption_keys (back them up: without them, the payloads in Temporal's database are unreadable).
NOTE
