"""Outbound webhooks: endpoints, signed at-least-once delivery from the outbox, retries.

Each message is POSTed as JSON ``{"id", "kind", "created_at", "data"}`` with the headers
``Leadgate-Message-Id`` (stable across retries: receivers de-duplicate on it),
``Leadgate-Timestamp`` (Unix seconds of this attempt) and
``Leadgate-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{body}" with the endpoint secret>``.
A 2xx answer is success; anything else (or no answer) is retried with exponential backoff
and jitter until :attr:`RetryPolicy.max_attempts`, then the delivery is ``dead``.

Crash safety: due deliveries are claimed (attempt counted, hidden for a lease) in one
transaction, sent outside any transaction, and their results recorded in another. A crash
between sending and recording re-sends after the lease with the same message id.

Operations: :func:`replay_dead` revives deliveries that gave up, :func:`prune` deletes
finished deliveries and messages past a retention period, and :func:`rotate_secret` gives an
endpoint a new secret while the old one keeps signing for a grace period
(``Leadgate-Signature: v1=<new>,v1=<old>``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from leadgate.exceptions import NotFoundError, UsageError
from leadgate.services import durations
from leadgate.storage import audit, transaction
from leadgate.storage import webhooks as store
from leadgate.storage.privacy import REASON_CODE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

Sender = Callable[[str, bytes, Mapping[str, str]], int]
"""``send(url, body, headers) -> HTTP status``; raising counts as a failed attempt."""

SIGNATURE_HEADER: Final = "Leadgate-Signature"
TIMESTAMP_HEADER: Final = "Leadgate-Timestamp"
MESSAGE_ID_HEADER: Final = "Leadgate-Message-Id"
SIGNATURE_TOLERANCE: Final = 300
"""Seconds a receiver should accept between a message's timestamp and its own clock."""
DEFAULT_ROTATION_GRACE: Final = timedelta(hours=24)
"""How long the previous secret keeps signing after a rotation, unless told otherwise."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    The n-th failed attempt waits ``min(base * 2**(n-1), cap)`` plus a jitter of up to 25 %
    derived from the message and endpoint ids (so two workers agree, and receivers that
    failed together are not hit together again).
    """

    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    max_attempts: int = 10
    lease_seconds: float = 300.0
    batch: int = 20
    timeout_seconds: float = 10.0

    def delay(self, attempts: int, key: str) -> timedelta:
        """Wait after the ``attempts``-th failure of the delivery named ``key``."""
        base = min(self.base_seconds * 2 ** max(attempts - 1, 0), self.cap_seconds)
        digest = hashlib.sha256(f"{key}:{attempts}".encode()).digest()
        jitter = int.from_bytes(digest[:8], "big") / 2**64 * 0.25
        return timedelta(seconds=base * (1 + jitter))


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint. ``secret`` is shown once; it signs every message to this URL."""

    endpoint_id: str
    url: str
    secret: str
    kinds: tuple[str, ...] | None


@dataclass(frozen=True)
class EndpointInfo:
    """An endpoint as listed (never its secret)."""

    endpoint_id: str
    url: str
    kinds: tuple[str, ...] | None
    active: bool
    created_at: datetime
    pending: int
    delivered: int
    dead: int
    previous_secret_until: datetime | None = None
    """While in the future, the secret before the last rotation also signs."""


@dataclass(frozen=True)
class DeliverySummary:
    """What one delivery pass did."""

    dispatched: int  # deliveries created from new outbox messages
    attempted: int
    delivered: int
    retrying: int
    dead: int  # deliveries given up on in this pass
    dead_total: int  # every delivery in the dead state (to report and replay)


@dataclass(frozen=True)
class RotatedSecret:
    """A rotated endpoint: ``secret`` is shown once; the old one signs until ``grace_until``."""

    endpoint_id: str
    secret: str
    grace_until: datetime | None


@dataclass(frozen=True)
class PruneSummary:
    """What a retention prune deleted (finished before ``cutoff``)."""

    cutoff: datetime
    deliveries: int
    messages: int


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` or combinations such as ``1d12h``.

    Raises:
        UsageError: Anything else, fractions and bare numbers too (code ``bad_duration``).
    """
    return durations.parse_duration(text, fractions=False)


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{_redact_url(url)!r} is not an http(s) URL.",
            hint="e.g. https://crm.example.com/hooks/leadgate",
            code="bad_webhook_url",
        )
    return url


def _check_kinds(kinds: Sequence[str] | None) -> tuple[str, ...] | None:
    if kinds is None:
        return None
    cleaned = tuple(dict.fromkeys(k.strip() for k in kinds if k.strip()))
    bad = [k for k in cleaned if not REASON_CODE.fullmatch(k)]
    if bad or not cleaned:
        raise UsageError(
            f"Bad message kinds {bad or list(kinds)!r}.",
            hint="e.g. lead.assigned, lead.stage_changed, sla.breached, lead.erased",
            code="bad_webhook_kinds",
        )
    return cleaned


def add_endpoint(
    conn: Connection,
    url: str,
    *,
    kinds: Sequence[str] | None = None,
    now: datetime,
    actor: str = "system",
) -> CreatedEndpoint:
    """Register a receiver for messages queued from now on (all kinds unless ``kinds``).

    Raises:
        UsageError: Not an http(s) URL, or a kind that is not a code.
    """
    url = _check_url(url)
    chosen = _check_kinds(kinds)
    endpoint_id = "wh_" + secrets.token_hex(6)
    secret = "whsec_" + secrets.token_urlsafe(32)
    store.add_endpoint(
        conn, endpoint_id=endpoint_id, url=url, secret=secret, kinds=chosen, created_at=now
    )
    audit.append_audit(
        conn,
        at=now,
        actor=actor,
        action="webhook.added",
        subject_kind="webhook_endpoint",
        subject_id=endpoint_id,
        details={"kinds": list(chosen) if chosen else None},
    )
    return CreatedEndpoint(endpoint_id, url, secret, chosen)


def remove_endpoint(
    conn: Connection, endpoint_id: str, *, now: datetime, actor: str = "system"
) -> None:
    """Delete a receiver and its pending and past deliveries.

    Raises:
        NotFoundError: No endpoint with this id.
    """
    if not store.remove_endpoint(conn, endpoint_id):
        raise _unknown_endpoint(endpoint_id)
    audit.append_audit(
        conn,
        at=now,
        actor=actor,
        action="webhook.removed",
        subject_kind="webhook_endpoint",
        subject_id=endpoint_id,
    )


def _unknown_endpoint(endpoint_id: str) -> NotFoundError:
    return NotFoundError(
        f"No webhook endpoint {endpoint_id!r}.", hint="`leadgate webhooks list` shows the ids"
    )


def rotate_secret(
    conn: Connection,
    endpoint_id: str,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_ROTATION_GRACE,
    actor: str = "system",
) -> RotatedSecret:
    """Give an endpoint a new secret; the current one keeps signing for ``grace``.

    Until ``now + grace`` every message is signed with both (``v1=<new>,v1=<old>``), so a
    receiver knowing either verifies; then only the new one signs. A zero ``grace`` drops
    the old secret at once. Rotating again within a grace period drops the oldest secret.

    Raises:
        NotFoundError: No endpoint with this id.
        UsageError: A negative grace period.
    """
    if grace < timedelta(0):
        raise UsageError("The grace period cannot be negative.", code="bad_duration")
    secret = "whsec_" + secrets.token_urlsafe(32)
    until = now + grace if grace > timedelta(0) else None
    if not store.rotate_secret(conn, endpoint_id, secret=secret, previous_expires_at=until):
        raise _unknown_endpoint(endpoint_id)
    audit.append_audit(
        conn,
        at=now,
        actor=actor,
        action="webhook.secret_rotated",
        subject_kind="webhook_endpoint",
        subject_id=endpoint_id,
        details={"grace_seconds": int(grace.total_seconds())},
    )
    return RotatedSecret(endpoint_id, secret, until)


def replay_dead(
    engine: Engine,
    *,
    now: datetime,
    endpoint_id: str | None = None,
    message_id: str | None = None,
    since: datetime | None = None,
    actor: str = "system",
) -> int:
    """Revive dead deliveries matching every given filter; returns how many.

    Each goes back to ``pending`` with 0 attempts, due at ``now``, with the same message id
    (receivers de-duplicate on it). ``since`` keeps messages created at or after it. The
    replay and its audit-log entry (filters and count) commit together.

    Raises:
        NotFoundError: ``endpoint_id`` names no endpoint.
    """
    with transaction(engine) as conn:
        if endpoint_id is not None and not store.endpoint_exists(conn, endpoint_id):
            raise _unknown_endpoint(endpoint_id)
        replayed = store.replay_dead(
            conn, now=now, endpoint_id=endpoint_id, message_id=message_id, since=since
        )
        audit.append_audit(
            conn,
            at=now,
            actor=actor,
            action="webhook.replayed",
            subject_kind="webhook_endpoint" if endpoint_id is not None else None,
            subject_id=endpoint_id,
            details={
                "message_id": message_id,
                "since": None if since is None else since.isoformat(),
                "replayed": replayed,
            },
        )
    return replayed


def prune(
    engine: Engine, *, now: datetime, older_than: timedelta, batch: int = 5_000
) -> PruneSummary:
    """Delete delivered and dead deliveries, and handled messages, older than ``older_than``.

    Pending deliveries and undispatched messages are never deleted, nor a message that
    still has a delivery. Works in transactions of two statements deleting at most
    ``batch`` rows each (a big first prune never holds the tables for long), until a
    transaction finds less than a full batch.

    Raises:
        UsageError: ``older_than`` is not positive.
    """
    if older_than <= timedelta(0):
        raise UsageError(
            "The retention period must be positive.",
            hint="e.g. --older-than 30d",
            code="bad_duration",
        )
    cutoff = now - older_than
    deliveries = messages = 0
    while True:
        with transaction(engine) as conn:
            counts = store.prune(conn, cutoff=cutoff, limit=batch)
        deliveries += counts.deliveries
        messages += counts.messages
        if counts.deliveries < batch and counts.messages < batch:
            return PruneSummary(cutoff, deliveries, messages)


def list_endpoints(conn: Connection) -> list[EndpointInfo]:
    """Every endpoint with its delivery counts; URLs with credentials are redacted."""
    counts = {(e, s): n for e, s, n in store.delivery_counts(conn).iter_rows()}
    return [
        EndpointInfo(
            row.endpoint_id,
            _redact_url(row.url),
            None if row.kinds is None else tuple(row.kinds),
            row.active,
            row.created_at,
            counts.get((row.endpoint_id, store.PENDING), 0),
            counts.get((row.endpoint_id, store.DELIVERED), 0),
            counts.get((row.endpoint_id, store.DEAD), 0),
            row.previous_secret_expires_at if row.previous_secret is not None else None,
        )
        for row in store.list_endpoints(conn)
    ]


def message_body(message_id: str, kind: str, created_at: datetime, data: Any) -> bytes:
    """The exact bytes POSTed for a message (compact JSON, keys sorted)."""
    document = {
        "id": message_id,
        "kind": kind,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 with ``secret`` over ``f"{timestamp}.".encode() + body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signature_header(secret: str, previous: str | None, timestamp: str, body: bytes) -> str:
    """``v1=<new>``, or ``v1=<new>,v1=<old>`` while a rotation's grace period lasts."""
    current = sign(secret, timestamp, body)
    return current if previous is None else f"{current},{sign(previous, timestamp, body)}"


def verify_signature(
    secret: str | Sequence[str],
    body: bytes,
    *,
    timestamp: str,
    signature: str,
    now: datetime | None = None,
    tolerance_seconds: int = SIGNATURE_TOLERANCE,
) -> bool:
    """Check a received message (for receivers written in Python).

    Args:
        secret: The endpoint secret shown when it was added (or rotated), or several
            secrets (a receiver in the middle of switching); one match is enough.
        body: The raw request body, byte for byte (do not re-serialise it).
        timestamp: The ``Leadgate-Timestamp`` header.
        signature: The ``Leadgate-Signature`` header (several ``v1=`` values may be
            separated by commas or spaces; one match is enough).
        now: The receiver's clock; when given, a timestamp further than
            ``tolerance_seconds`` away is refused (replay protection).
        tolerance_seconds: How far the timestamp may be from ``now``.

    Example:
        >>> ok = verify_signature(secret, request.body, timestamp=request.headers[
        ...     "Leadgate-Timestamp"], signature=request.headers["Leadgate-Signature"],
        ...     now=datetime.now(UTC))  # doctest: +SKIP
    """
    if not timestamp.isdigit():
        return False
    if now is not None and abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        return False
    known = [secret] if isinstance(secret, str) else list(secret)
    expected = [sign(s, timestamp, body) for s in known]
    offered = [p.strip() for p in signature.replace(",", " ").split() if p.startswith("v1=")]
    # every comparison runs (no early exit), each in constant time
    matches = [hmac.compare_digest(e, c) for e in expected for c in offered]
    return any(matches)


def urllib_sender(timeout: float = RetryPolicy.timeout_seconds) -> Sender:
    """A sender on the standard library (POST, no redirects followed, ``timeout`` seconds)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)

    def send(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        # only http(s) URLs are stored (add_endpoint checks), so no file: or custom schemes
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
        try:
            with opener.open(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    return send


def _attempt(
    claimed: store.ClaimedDelivery,
    send: Sender,
    *,
    now: datetime,
    policy: RetryPolicy,
    sent_at: int,
) -> store.DeliveryResult:
    body = message_body(claimed.message_id, claimed.kind, claimed.created_at, claimed.payload)
    timestamp = str(sent_at)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "leadgate-webhooks/1",
        MESSAGE_ID_HEADER: claimed.message_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature_header(
            claimed.secret, claimed.previous_secret, timestamp, body
        ),
    }
    status: int | None = None
    error: str | None = None
    try:
        status = int(send(claimed.url, body, headers))
    except Exception as exc:  # any failure to send is a failed attempt
        error = f"{type(exc).__name__}: {exc}"[:300]
    if status is not None and 200 <= status < 300:
        return store.DeliveryResult(
            claimed.message_id, claimed.endpoint_id, store.DELIVERED, status, None, None
        )
    if error is None:
        error = f"HTTP {status}"
    if claimed.attempts >= policy.max_attempts:
        return store.DeliveryResult(
            claimed.message_id, claimed.endpoint_id, store.DEAD, status, error, None
        )
    wait = policy.delay(claimed.attempts, f"{claimed.message_id}:{claimed.endpoint_id}")
    return store.DeliveryResult(
        claimed.message_id, claimed.endpoint_id, store.PENDING, status, error, now + wait
    )


def deliver_due(
    engine: Engine,
    *,
    now: datetime,
    send: Sender | None = None,
    limit: int = 500,
    policy: RetryPolicy = RetryPolicy(),
    clock: Callable[[], float] = time.time,
) -> DeliverySummary:
    """Fan new outbox messages out to endpoints and send every delivery due at ``now``.

    Sends at most ``limit`` deliveries, in claims of ``policy.batch``; each claim commits
    before its sends, and each batch's results commit after them.

    Args:
        engine: The store.
        now: Due-ness and retry times are computed from it.
        send: ``send(url, body, headers) -> status``; the standard-library sender by default.
        limit: Most deliveries to attempt in this pass.
        policy: Backoff, attempts, lease, batch size and timeout.
        clock: Unix time for the signature timestamp (the moment of sending).
    """
    sender = send if send is not None else urllib_sender(policy.timeout_seconds)
    with transaction(engine) as conn:
        dispatched = store.dispatch(conn, now=now, limit=max(limit, policy.batch) * 10)
    lease = timedelta(seconds=max(policy.lease_seconds, policy.timeout_seconds * policy.batch))
    attempted = delivered = retrying = dead = 0
    while attempted < limit:
        with transaction(engine) as conn:
            claimed = store.claim_due(
                conn, now=now, lease=lease, limit=min(policy.batch, limit - attempted)
            )
        if not claimed:
            break
        results = [
            _attempt(item, sender, now=now, policy=policy, sent_at=int(clock())) for item in claimed
        ]
        with transaction(engine) as conn:
            store.record_results(conn, results, now=now)
        attempted += len(results)
        delivered += sum(r.state == store.DELIVERED for r in results)
        retrying += sum(r.state == store.PENDING for r in results)
        dead += sum(r.state == store.DEAD for r in results)
        if len(claimed) < policy.batch:
            break
    with engine.connect() as conn:
        dead_total = store.count_state(conn, store.DEAD)
    return DeliverySummary(dispatched, attempted, delivered, retrying, dead, dead_total)


def dead_deliveries(conn: Connection) -> list[dict[str, Any]]:
    """Deliveries given up on: message, endpoint, kind, attempts, last status and error."""
    frame = store.read_deliveries(conn, state=store.DEAD)
    return frame.select(
        "message_id", "endpoint_id", "kind", "attempts", "last_status", "last_error"
    ).to_dicts()


__all__ = [
    "DEFAULT_ROTATION_GRACE",
    "MESSAGE_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CreatedEndpoint",
    "DeliverySummary",
    "EndpointInfo",
    "PruneSummary",
    "RetryPolicy",
    "RotatedSecret",
    "Sender",
    "add_endpoint",
    "dead_deliveries",
    "deliver_due",
    "list_endpoints",
    "message_body",
    "parse_duration",
    "prune",
    "remove_endpoint",
    "replay_dead",
    "rotate_secret",
    "sign",
    "signature_header",
    "urllib_sender",
    "verify_signature",
]
