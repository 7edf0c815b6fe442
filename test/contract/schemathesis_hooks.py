"""
What /openapi.json says in words but JSON Schema cannot: generators for the formats Herald checks on the server
(`phone`, `bcp47`, `iana-time-zone`, `cron`, `cursor`), and filters for the rules that tie two fields together.
Loaded by test/contract/openapi.contract.test.ts through SCHEMATHESIS_HOOKS. Each generator produces values the
server accepts; values outside them are still generated for the negative cases from the rest of each schema.
"""

import base64
import json

import schemathesis
from hypothesis import strategies as st

# Numbers valid for their country (libphonenumber), in E.164.
PHONES = ["+14155550100", "+447911123456", "+33612345678", "+821012345678", "+819012345678", "+4915123456789"]
schemathesis.openapi.format("phone", st.sampled_from(PHONES))

LOCALES = ["en", "en-US", "fr", "fr-CA", "ko-KR", "pt-BR", "zh-Hant-TW", "de-CH", "es-419"]
schemathesis.openapi.format("bcp47", st.sampled_from(LOCALES))

TIME_ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Seoul", "Australia/Sydney", "America/Sao_Paulo"]
schemathesis.openapi.format("iana-time-zone", st.sampled_from(TIME_ZONES))

CRONS = ["0 9 * * MON", "*/15 * * * *", "0 0 1 * *", "@daily", "@weekly", "30 8 * * 1-5"]
schemathesis.openapi.format("cron", st.sampled_from(CRONS))

# A cursor is a position: base64url of "<ISO time>|<id>", as the API returns them (no padding, like Node's).
ID = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:@+-]{0,40}\Z")
TIME = st.datetimes().map(lambda t: f"{t.year:04d}-" + t.strftime("%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z")


def _cursor(at: str, ident: str) -> str:
    return base64.urlsafe_b64encode(f"{at}|{ident}".encode()).decode().rstrip("=")


schemathesis.openapi.format("cursor", st.builds(_cursor, TIME, ID))


def _operation(ctx) -> str:
    operation = ctx.operation
    return f"{operation.method.upper()} {operation.path}" if operation is not None else ""


def _instant(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


@schemathesis.hook
def filter_query(ctx, query):
    operation = _operation(ctx)
    if operation != "GET /v1/stats" or not isinstance(query, dict):
        return True
    start, end = query.get("from"), query.get("to")
    if not (isinstance(start, str) and isinstance(end, str)):
        return True
    try:
        start, end = _instant(start), _instant(end)
    except ValueError:
        return True
    # "`from` must be before `to` (otherwise 400)"; GET /v1/stats/series gets a valid range from map_query.
    return start < end


@schemathesis.hook
def map_query(ctx, query):
    # GET /v1/stats/series: "at most 2,232 buckets" (93 days by the hour). Random instants from year 1 to 9999 are
    # almost never that close, and filtering would throw nearly every example away: keep `from`, put `to` a day later.
    if _operation(ctx) != "GET /v1/stats/series" or not isinstance(query, dict):
        return query
    start = query.get("from")
    if isinstance(start, str):
        from datetime import timedelta

        try:
            at = _instant(start)
        except ValueError:
            return query
        try:
            return {**query, "to": (at + timedelta(days=1)).isoformat()}
        except OverflowError:
            # The last day of year 9999: the day before it instead.
            return {**query, "from": (at - timedelta(days=1)).isoformat(), "to": at.isoformat()}
    return query


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@schemathesis.hook
def filter_body(ctx, body):
    if not isinstance(body, dict):
        return True
    operation = _operation(ctx)
    # Campaign pacing: "pageSize cannot exceed maxInFlight".
    pacing = body.get("pacing")
    if isinstance(pacing, dict):
        size, flight = pacing.get("pageSize"), pacing.get("maxInFlight")
        # JSON integers may come as floats (941.0): compare any two numbers.
        if _is_number(size) and _is_number(flight) and size > flight:
            return False
    # Template preview: "give `draft` or `version`, not both".
    if operation == "POST /v1/templates/{templateId}/preview" and "draft" in body and "version" in body:
        return False
    # Size limits stated in the descriptions: event metadata 2 KB, an audience's data filter 4 KB.
    if operation == "POST /v1/events" and len(json.dumps(body.get("metadata") or {})) > 2048:
        return False
    return True


@schemathesis.hook
def filter_case(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    # POST /v1/notifications: "the Idempotency-Key header and eventId, when both are given, must be equal".
    if operation == "POST /v1/notifications":
        key = (case.headers or {}).get("Idempotency-Key")
        event = body.get("eventId")
        if key is not None and event is not None and key != event:
            return False
    # POST /v1/campaigns: a one-off schedule must be in the future (the rest of time is what trigger is for).
    schedule = body.get("schedule")
    if operation == "POST /v1/campaigns" and isinstance(schedule, dict) and isinstance(schedule.get("at"), str):
        from datetime import datetime, timezone

        try:
            at = datetime.fromisoformat(schedule["at"].replace("Z", "+00:00").replace("z", "+00:00"))
            return at.tzinfo is None or at > datetime.now(timezone.utc)
        except ValueError:
            return True
    return True
