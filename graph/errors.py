"""The data layer's exceptions. Driver and SQLAlchemy errors are translated into these at
the boundary so callers (jobs, API, CLI) never see a stack trace from a library.

Every class carries a machine-readable `code` so the API can turn an expected failure into a
typed result (`… | OverrideError { code message }`) instead of a masked error."""

from __future__ import annotations

__all__ = ["ClientStrataError", "NotFound", "StoreUnavailable", "GraphUnavailable", "InvalidInput"]


class ClientStrataError(Exception):
    """Base class: the message is safe to show to a user."""

    code = "ERROR"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={str(self)!r})"


class NotFound(ClientStrataError):
    code = "NOT_FOUND"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} with id {key!r}")
        self.kind, self.key = kind, key


class StoreUnavailable(ClientStrataError):
    """A database or graph server cannot be reached, or refused us (credentials, or a statement it
    could not run: a missing table, a constraint, a lock). The message names hosts, files and the
    driver's reason for the operator; API callers see it masked."""

    code = "STORE_UNAVAILABLE"


class GraphUnavailable(StoreUnavailable):
    """The graph server is down, did not answer in time, or failed so recently that the circuit
    breaker does not try it yet. Only the graph's own reads fail: the API answers the rest of a
    request and the graph fields with code GRAPH_UNAVAILABLE."""

    code = "GRAPH_UNAVAILABLE"


class InvalidInput(ClientStrataError):
    """The caller passed something we cannot act on (bad file, bad argument)."""

    code = "INVALID_INPUT"
