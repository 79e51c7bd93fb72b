"""Webhook signatures, bodies and backoff (pure functions of services.webhooks)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from leadgate.services.webhooks import RetryPolicy, message_body, sign, verify_signature

SECRET = "whsec_test"
BODY = message_body("m1", "lead.assigned", datetime(2026, 4, 1, 12, tzinfo=UTC), {"lead_id": "1"})


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1775044800." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, "1775044800", BODY) == f"v1={expected}"
    assert json.loads(BODY) == {
        "id": "m1",
        "kind": "lead.assigned",
        "created_at": "2026-04-01T12:00:00Z",
        "data": {"lead_id": "1"},
    }


def test_verify_accepts_any_matching_v1_and_refuses_tampering_and_replays() -> None:
    signature = sign(SECRET, "1775044800", BODY)
    at = datetime.fromtimestamp(1775044800, UTC)
    assert verify_signature(SECRET, BODY, timestamp="1775044800", signature=signature, now=at)
    rotated = f"v1=deadbeef, {signature}"
    assert verify_signature(SECRET, BODY, timestamp="1775044800", signature=rotated)
    assert not verify_signature(SECRET, BODY, timestamp="1775044801", signature=signature)
    assert not verify_signature("other", BODY, timestamp="1775044800", signature=signature)
    assert not verify_signature(SECRET, BODY[:-1], timestamp="1775044800", signature=signature)
    assert not verify_signature(SECRET, BODY, timestamp="abc", signature=signature)
    assert not verify_signature(SECRET, BODY, timestamp="1775044800", signature="")
    late = at + timedelta(seconds=301)
    assert not verify_signature(SECRET, BODY, timestamp="1775044800", signature=signature, now=late)


def test_backoff_doubles_is_capped_and_jitter_is_stable_per_delivery() -> None:
    policy = RetryPolicy(base_seconds=30, cap_seconds=3600)
    delays = [policy.delay(n, "m1:wh1").total_seconds() for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        base = min(30 * 2 ** (n - 1), 3600)
        assert base <= delay < base * 1.25
    assert delays == [policy.delay(n, "m1:wh1").total_seconds() for n in range(1, 10)]
    others = {policy.delay(1, f"m{i}:wh1").total_seconds() for i in range(50)}
    assert len(others) > 40  # deliveries that failed together spread out
