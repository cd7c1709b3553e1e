"""Typed errors: the refusals a caller can act on, as members of each mutation's result union
(clients branch on `__typename`; every one implements `Error { code message }`). The domain's
exceptions are translated here, at the boundary, and nowhere else; an unexpected failure stays
in the response's `errors`, masked by the root schema.

`attempt` is the whole of a mutation's transport work: check the caller's permission, run one
domain function in a write transaction, turn its result or its refusal into GraphQL types."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from clientstrata.graph import errors as graph_errors
from clientstrata.graph.record import access
from clientstrata.jobs import errors as job_errors
from clientstrata.jobs.classification.standard import InvalidStandard as _InvalidStandard

__all__ = [
    "Error",
    "NotFound",
    "NotAllowed",
    "InvalidInput",
    "InvalidState",
    "MakerIsChecker",
    "InvalidStandard",
    "as_error",
    "attempt",
    "Requires",
]


@strawberry.interface(
    description="An expected refusal: `code` is machine-readable (NOT_FOUND, NOT_ALLOWED, "
    "INVALID_INPUT, INVALID_VALUE, UNKNOWN_DIMENSION, REASON_REQUIRED, "
    "INVALID_STATE, MAKER_IS_CHECKER, INVALID_STANDARD), `message` says why in words."
)
class Error:
    code: str
    message: str


@strawberry.type(description="There is no such object.")
class NotFound(Error):
    kind: str = strawberry.field(description="What was looked for: customer, override, alert, classification run.")
    key: str


@strawberry.type(description="The caller's role or book does not allow this step.")
class NotAllowed(Error):
    pass


@strawberry.type(
    description="An argument cannot be acted on (a value the standard does not list, a missing "
    "reason, a score out of range …); `code` says which rule."
)
class InvalidInput(Error):
    pass


@strawberry.type(
    description="The object is not in a state that allows this step (e.g. approving a rejected "
    "override, acknowledging an alert twice)."
)
class InvalidState(Error):
    pass


@strawberry.type(
    description="The person deciding an override is the one who proposed it: a second person "
    "must decide (maker–checker)."
)
class MakerIsChecker(Error):
    pass


@strawberry.type(description="The draft standard cannot be used: `message` names the line and the problem.")
class InvalidStandard(Error):
    line: int | None = strawberry.field(
        description="1-based line of the offending key (or its nearest "
        "ancestor), when the problem was located in the text."
    )
    key: str | None = strawberry.field(description="The offending key, e.g. `dimensions.wealth_tier.bands[2]`.")


# most specific first: InvalidStandard and the governance codes are InvalidInput too
_MAP: tuple[tuple[type[Exception], type], ...] = (
    (job_errors.MakerIsChecker, MakerIsChecker),
    (job_errors.InvalidState, InvalidState),
    (_InvalidStandard, InvalidStandard),
    (graph_errors.NotFound, NotFound),
    (access.NotAllowed, NotAllowed),
    (graph_errors.InvalidInput, InvalidInput),
)


def as_error(exc: graph_errors.ClientStrataError, allowed: tuple[type, ...]):
    """The typed error for a domain refusal, if the result union has one; else re-raised (our
    errors' messages are safe: the caller still reads it in `errors`)."""
    for exc_type, error_type in _MAP:
        if isinstance(exc, exc_type):
            if error_type not in allowed:
                break
            extra = {}
            if error_type is NotFound:
                extra = {"kind": exc.kind, "key": exc.key}
            elif error_type is InvalidStandard:
                extra = {"line": exc.line, "key": exc.key}
            return error_type(code=exc.code, message=str(exc), **extra)
    raise exc


async def attempt(
    info: Info,
    permission: access.Permission,
    fn: Callable,
    convert: Callable,
    errors: tuple[type, ...],
    *args,
    write: bool = True,
    **kwargs,
):
    """`fn(conn, *args, **kwargs)` in a transaction of its own (write) after the permission
    check, its result through `convert`; an expected refusal as its typed error."""
    ctx = info.context
    try:
        ctx.principal.require(permission)
        return convert(await (ctx.write if write else ctx.run)(partial(fn, **kwargs), *args))
    except access.OutOfBook as exc:  # answered as NotFound, word for word; audited apart (rolled back here)
        await ctx.refused(exc.kind, exc.key, info.field_name)
        return as_error(exc, errors)
    except graph_errors.ClientStrataError as exc:
        return as_error(exc, errors)


class Requires(BasePermission):
    """A field for callers whose role has `permission`; others get a GraphQL error naming it
    (code NOT_ALLOWED), never the data."""

    def __init__(self, permission: access.Permission) -> None:
        self.permission = permission
        self.message = f"Not allowed: this needs the `{permission.value}` permission, which your role does not have."
        self.error_extensions = {"code": "NOT_ALLOWED", "permission": permission.value}

    def has_permission(self, source, info: Info, **kwargs) -> bool:
        return info.context.principal.can(self.permission)
