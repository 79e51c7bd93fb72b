"""``leadgate keys``, ``leadgate webhooks`` and ``leadgate erase``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from leadgate.cli.output import Output

keys_app = typer.Typer(
    help="API keys for the service (stored only as hashes).", no_args_is_help=True
)
webhooks_app = typer.Typer(
    help="Webhook endpoints and the delivery of outbox messages.", no_args_is_help=True
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database", help="Database URL (default: LEADGATE_DATABASE_URL or leadgate.db)."
    ),
]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who does this (for the audit log).")]


def _url(database: str | None) -> str:
    from leadgate.settings import Settings

    return database or Settings().database_url


def _now() -> datetime:
    return datetime.now(UTC)  # the entry point reads the clock; services are given it


def _when(value: datetime | None) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="admin, revops, sales or ingest.")],
    name: Annotated[str, typer.Option("--name", help="What uses the key.")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Sales keys: the rep's owner id.")
    ] = None,
    actor: ActorOpt = "cli",
    database: DbOpt = None,
) -> None:
    """Create an API key and print its token once (it cannot be shown again)."""
    from leadgate.services.database import open_database
    from leadgate.services.keys import create_key

    with open_database(_url(database)) as engine, engine.begin() as conn:
        key = create_key(conn, role=role, name=name, owner_id=owner, now=_now(), actor=actor)
    output = Output()
    scope = f" for {key.owner_id}" if key.owner_id else ""
    output.success(f"created {key.role.value} key {key.key_id}{scope}")
    output.line("Token (shown once; store it in a secret manager):")
    output.out.print(key.token, markup=False, highlight=False)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `leadgate keys list`).")],
    actor: ActorOpt = "cli",
    database: DbOpt = None,
) -> None:
    """Revoke a key at once."""
    from leadgate.services.database import open_database
    from leadgate.services.keys import revoke_key

    with open_database(_url(database)) as engine, engine.begin() as conn:
        changed = revoke_key(conn, key_id, actor=actor, now=_now())
    Output().success(f"key {key_id} " + ("revoked" if changed else "was already revoked"))


@keys_app.command("list")
def keys_list(database: DbOpt = None) -> None:
    """List keys (never their secrets)."""
    from leadgate.services.database import open_database
    from leadgate.services.keys import list_keys

    with open_database(_url(database)) as engine, engine.connect() as conn:
        keys = list_keys(conn)
    output = Output()
    output.line(f"{len(keys)} API keys")
    for k in keys:
        state = f"revoked {_when(k.revoked_at)}" if k.revoked_at else "active"
        owner = f" owner={k.owner_id}" if k.owner_id else ""
        used = f", last used {_when(k.last_used_at)}" if k.last_used_at else ""
        output.out.print(
            f"{k.key_id}  {k.role}{owner}  {k.name!r}  created {_when(k.created_at)}, "
            f"{state}{used}",
            markup=False,
        )


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="The receiver's http(s) URL.")],
    kinds: Annotated[
        str | None,
        typer.Option(
            "--kinds", help="Comma-separated message kinds (default all), e.g. lead.assigned."
        ),
    ] = None,
    actor: ActorOpt = "cli",
    database: DbOpt = None,
) -> None:
    """Register a receiver and print its signing secret once."""
    from leadgate.services.database import open_database
    from leadgate.services.webhooks import add_endpoint

    chosen = None if kinds is None else kinds.split(",")
    with open_database(_url(database)) as engine, engine.begin() as conn:
        endpoint = add_endpoint(conn, url, kinds=chosen, now=_now(), actor=actor)
    output = Output()
    what = ", ".join(endpoint.kinds) if endpoint.kinds else "all kinds"
    output.success(f"added endpoint {endpoint.endpoint_id} ({what})")
    output.line("Signing secret (shown once; the receiver verifies Leadgate-Signature with it):")
    output.out.print(endpoint.secret, markup=False, highlight=False)


@webhooks_app.command("list")
def webhooks_list(database: DbOpt = None) -> None:
    """List endpoints with their pending, delivered and dead deliveries."""
    from leadgate.services.database import open_database
    from leadgate.services.webhooks import list_endpoints

    with open_database(_url(database)) as engine, engine.connect() as conn:
        endpoints = list_endpoints(conn)
    output = Output()
    output.line(f"{len(endpoints)} webhook endpoints")
    now = _now()
    for e in endpoints:
        kinds = ",".join(e.kinds) if e.kinds else "all kinds"
        grace = e.previous_secret_until
        rotation = (
            f", old secret also signs until {_when(grace)}"
            if grace is not None and grace > now
            else ""
        )
        output.out.print(
            f"{e.endpoint_id}  {e.url}  ({kinds})  pending {e.pending}, "
            f"delivered {e.delivered}, dead {e.dead}{rotation}",
            markup=False,
        )


@webhooks_app.command("remove")
def webhooks_remove(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id.")],
    actor: ActorOpt = "cli",
    database: DbOpt = None,
) -> None:
    """Remove a receiver (its undelivered messages are dropped)."""
    from leadgate.services.database import open_database
    from leadgate.services.webhooks import remove_endpoint

    with open_database(_url(database)) as engine, engine.begin() as conn:
        remove_endpoint(conn, endpoint_id, now=_now(), actor=actor)
    Output().success(f"removed endpoint {endpoint_id}")


@webhooks_app.command("deliver")
def webhooks_deliver(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between passes.")
    ] = 5.0,
    database: DbOpt = None,
) -> None:
    """Send due webhook deliveries (retrying with backoff); loops until Ctrl-C unless --once."""
    from leadgate.services.database import open_database
    from leadgate.services.webhooks import deliver_due

    output = Output()
    with open_database(_url(database)) as engine:
        while True:
            summary = deliver_due(engine, now=_now())
            if once or summary.attempted:
                output.success(
                    f"{summary.attempted} sent: {summary.delivered} delivered, "
                    f"{summary.retrying} to retry, {summary.dead} given up"
                )
            if summary.dead_total:
                output.warn(
                    f"{summary.dead_total} deliveries are dead (gave up after every retry); "
                    "`leadgate webhooks list` shows where"
                )
            if once:
                return
            time.sleep(interval)


def _since(value: str | None) -> datetime | None:
    from leadgate.exceptions import UsageError

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(
            f"{value!r} is not a date.",
            hint="ISO 8601: 2026-04-01, or 2026-04-01T09:30:00Z (no zone means UTC)",
            code="bad_date",
        ) from None


@webhooks_app.command("replay")
def webhooks_replay(
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Only this endpoint's deliveries.")
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", help="Only this message's deliveries.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only messages created at or after this date (ISO 8601, UTC)."
        ),
    ] = None,
    actor: ActorOpt = "cli",
    database: DbOpt = None,
) -> None:
    """Put dead deliveries back to pending, due now, with their message ids unchanged."""
    from leadgate.services.database import open_database
    from leadgate.services.webhooks import replay_dead

    moment = _since(since)
    with open_database(_url(database)) as engine:
        replayed = replay_dead(
            engine,
            now=_now(),
            endpoint_id=endpoint,
            message_id=message,
            since=moment,
            actor=actor,
        )
    Output().success(
        f"{replayed} dead deliveries replayed"
        + (" (the next delivery pass sends them)" if replayed else "")
    )


@webhooks_app.command("prune")
def webhooks_prune(
    older_than: Annotated[
        str,
        typer.Option("--older-than", help="Age to delete from: 30d, 12h, 2w (default 30d)."),
    ] = "30d",
    database: DbOpt = None,
) -> None:
    """Delete delivered and dead deliveries, and handled outbox messages, older than a cutoff.

    Pending deliveries and messages not yet dispatched are never deleted.
    """
    from leadgate.services.database import open_database
    from leadgate.services.webhooks import parse_duration, prune

    age = parse_duration(older_than)
    with open_database(_url(database)) as engine:
        summary = prune(engine, now=_now(), older_than=age)
    Output().success(
        f"pruned {summary.deliveries} deliveries and {summary.messages} outbox messages "
        f"finished before {_when(summary.cutoff)}"
    )


@webhooks_app.command("rotate-secret")
def webhooks_rotate_secret(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id.")],
    grace: Annotated[
        str,
        typer.Option(
            "--grace", help="How long the old secret also signs: 24h, 7d, 0s (default 24h)."
        ),
    ] = "24h",
    actor: ActorOpt = "cli",
    database: DbOpt = None,
) -> None:
    """Give an endpoint a new signing secret (printed once); the old one signs too for a while."""
    from leadgate.services.database import open_database
    from leadgate.services.webhooks import parse_duration, rotate_secret

    period = parse_duration(grace)
    with open_database(_url(database)) as engine, engine.begin() as conn:
        rotated = rotate_secret(conn, endpoint_id, now=_now(), grace=period, actor=actor)
    output = Output()
    if rotated.grace_until is None:
        output.success(f"rotated the secret of {endpoint_id}; the old one no longer signs")
    else:
        output.success(
            f"rotated the secret of {endpoint_id}; messages are signed with both secrets "
            f"until {_when(rotated.grace_until)}"
        )
    output.line("New signing secret (shown once; give it to the receiver):")
    output.out.print(rotated.secret, markup=False, highlight=False)


def erase(
    lead_id: Annotated[str, typer.Argument(help="The lead (person) to erase.")],
    actor: Annotated[str, typer.Option("--actor", help="Who asked (for the audit log).")],
    database: DbOpt = None,
) -> None:
    """Erase a person's personal data and events; anonymised funnel counts stay."""
    from leadgate.services.database import open_database
    from leadgate.services.privacy import erase_lead

    with open_database(_url(database)) as engine, engine.begin() as conn:
        summary = erase_lead(conn, lead_id, actor=actor, now=_now())
    again = " (it was already erased)" if summary.already_erased else ""
    Output().success(
        f"lead {summary.lead_id} erased{again}: {summary.events_deleted} events, "
        f"{summary.consents_deleted} consents, {summary.discovery_answers_deleted} answers "
        f"deleted; {summary.feedback_notes_cleared} notes and {summary.reasons_cleared} "
        f"free-text reasons cleared; {summary.outbox_deleted} queued messages dropped"
    )


def register(app: typer.Typer) -> None:
    """Add ``keys``, ``webhooks`` and ``erase`` to the CLI."""
    app.add_typer(keys_app, name="keys")
    app.add_typer(webhooks_app, name="webhooks")
    app.command("erase")(erase)
