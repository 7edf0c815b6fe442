#!/bin/sh
# One-shot job (temporalio/admin-tools): registers Herald's namespace, or brings the retention of an existing one back
# to the configured value. Safe to re-run.
#
# Retention is Herald's de-duplication window: a workflow id (Herald derives it from the event id / Idempotency-Key) is
# remembered for as long as its closed execution is retained. Shortening retention shortens how long a repeated
# Idempotency-Key is recognised; it also bounds how long finished notifications stay visible in the Temporal UI.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
: "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE is required}"
RETENTION=${TEMPORAL_NAMESPACE_RETENTION:-72h}
ATTEMPTS=${TEMPORAL_WAIT_ATTEMPTS:-60}

echo "temporal-namespace: waiting for the cluster at $TEMPORAL_ADDRESS"
attempt=1
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "temporal-namespace: cluster at $TEMPORAL_ADDRESS is not healthy" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "temporal-namespace: '$TEMPORAL_NAMESPACE' exists; setting retention to $RETENTION"
  temporal operator namespace update --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --retention "$RETENTION"
else
  echo "temporal-namespace: creating '$TEMPORAL_NAMESPACE' with retention $RETENTION"
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --retention "$RETENTION" --description "Herald notifications (retention = de-duplication window)"
fi

# Registration takes a few seconds to reach every frontend; Herald's workers start right after this job.
attempt=1
until temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "temporal-namespace: '$TEMPORAL_NAMESPACE' did not become visible" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 1
done
echo "temporal-namespace: '$TEMPORAL_NAMESPACE' ready"
