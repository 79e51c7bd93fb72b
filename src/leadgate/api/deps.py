"""FastAPI dependencies (``XDep``): the service state, the caller, and role gates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from leadgate.api.errors import ApiProblemError
from leadgate.api.limits import retry_after
from leadgate.api.state import ServiceState
from leadgate.services.access import Principal, Role, authenticate_token, require_role

_bearer = HTTPBearer(auto_error=False, description="An API key: `Bearer lg_...`")


async def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.leadgate
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_principal(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of this request, after its key and its rate limit were checked."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblemError(
            401,
            "unauthenticated",
            "This request needs an API key.",
            hint="Send Authorization: Bearer lg_... (create one with `leadgate keys create`).",
            headers=challenge,
        )
    token = credentials.credentials
    principal = state.auth_cache.get(token)
    if principal is None:
        principal = await run_in_threadpool(
            authenticate_token, state.engine, token, now=state.clock()
        )
        if principal is None:
            raise ApiProblemError(
                401,
                "invalid_key",
                "The API key is unknown, malformed or revoked.",
                hint="Check the key, or ask an admin for a new one.",
                headers=challenge,
            )
        state.auth_cache.put(token, principal)
    request.state.key_id = principal.key_id  # for the access log
    wait = state.limiter.take(principal.key_id)
    if wait > 0:
        raise ApiProblemError(
            429,
            "rate_limited",
            "This API key is sending requests faster than its rate limit.",
            hint="Slow down and retry after the Retry-After seconds.",
            headers={"Retry-After": retry_after(wait)},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def allow(*roles: Role, what: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency letting only ``roles`` through (a 403 problem for the others)."""

    async def gate(principal: PrincipalDep) -> Principal:
        require_role(principal, roles, what=what)
        return principal

    return gate


ADMIN, REVOPS, SALES, INGEST = Role.ADMIN, Role.REVOPS, Role.SALES, Role.INGEST
IngestDep = Annotated[Principal, Depends(allow(ADMIN, REVOPS, INGEST, what="send data"))]
LeadReaderDep = Annotated[
    Principal, Depends(allow(ADMIN, REVOPS, SALES, what="read or act on leads"))
]
ReportsDep = Annotated[Principal, Depends(allow(ADMIN, REVOPS, what="read reports"))]
AdminDep = Annotated[Principal, Depends(allow(ADMIN, what="run operations"))]


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def refuse_unknown_query(request: Request) -> None:
    """Refuse query parameters the route does not declare (as unknown body fields are)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names(route.dependant)
    for name in request.query_params:
        if name not in known:
            raise ApiProblemError(
                422,
                "unknown_parameter",
                f"Unknown query parameter {name!r}.",
                field=name,
                hint="See the parameters this route takes at /docs.",
            )


__all__ = [
    "AdminDep",
    "IngestDep",
    "LeadReaderDep",
    "PrincipalDep",
    "ReportsDep",
    "StateDep",
    "allow",
    "get_principal",
    "get_state",
    "refuse_unknown_query",
]
