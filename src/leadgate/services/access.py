"""Who may do what: API keys checked against the store, and the rules for each role.

``admin`` may do everything; ``revops`` works with every lead, the reports and the queues;
``sales`` sees and acts on its own rep's leads and queue only; ``ingest`` sends events and
lead, account and consent records, and reads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from leadgate.exceptions import NotFoundError, PermissionDeniedError, UsageError
from leadgate.services.keys import Principal, Role, authenticate
from leadgate.storage.live import ping
from leadgate.storage.repositories import get_lead_state

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def authenticate_token(engine: Engine, token: str, *, now: datetime) -> Principal | None:
    """The principal of a bearer token, or ``None`` when it is unknown, malformed or revoked."""
    with engine.connect() as conn:
        return authenticate(conn, token, now=now)


def require_role(principal: Principal, roles: Iterable[Role], *, what: str) -> None:
    """Refuse a principal whose role is not among ``roles``.

    Raises:
        PermissionDeniedError: With the roles that may do ``what``.
    """
    allowed = tuple(roles)
    if principal.role in allowed:
        return
    names = ", ".join(role.value for role in allowed)
    raise PermissionDeniedError(
        f"A {principal.role.value} key may not {what}.",
        hint=f"Use a key with one of the roles: {names}.",
    )


def check_lead_access(engine: Engine, principal: Principal, lead_id: str) -> None:
    """Refuse access to a lead the principal may not see or act on.

    A sales key may only touch leads its rep owns: another rep's lead (or an unassigned
    one) is refused with 403, so a rep learns nothing about it beyond its existence.

    Raises:
        NotFoundError: No such lead, or it was erased.
        PermissionDeniedError: A sales key and a lead its rep does not own.
    """
    with engine.connect() as conn:
        state = get_lead_state(conn, lead_id)
    if state is None or state.erased_at is not None:
        raise NotFoundError(f"No lead {lead_id!r}.", hint="Check the lead id.")
    if principal.role is Role.SALES and state.owner_id != principal.owner_id:
        raise PermissionDeniedError(
            f"Lead {lead_id!r} is not assigned to this key's rep.",
            hint="A sales key sees and acts on its own rep's leads only.",
        )


def queue_owner(principal: Principal, owner_id: str | None) -> str:
    """Whose queue a principal asks for: a rep's own, or any rep's for admin and revops.

    Raises:
        PermissionDeniedError: A sales key asking for another rep's queue.
        UsageError: An admin or revops key that names no rep.
    """
    if principal.role is Role.SALES:
        if owner_id is not None and owner_id != principal.owner_id:
            raise PermissionDeniedError(
                "A sales key may only read its own rep's queue.",
                hint="Leave out owner_id, or use a revops key.",
            )
        assert principal.owner_id is not None  # sales keys always name their rep
        return principal.owner_id
    if owner_id is None:
        raise UsageError(
            "Say whose queue to read.", hint="Pass ?owner_id=<rep id>.", code="owner_required"
        )
    return owner_id


def database_ok(engine: Engine) -> bool:
    """Whether the store answers."""
    try:
        with engine.connect() as conn:
            return ping(conn)
    except Exception:  # a health check reports, never raises
        return False


__all__ = [
    "Principal",
    "Role",
    "authenticate_token",
    "check_lead_access",
    "database_ok",
    "queue_owner",
    "require_role",
]
