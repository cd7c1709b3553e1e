"""The data layer's exceptions. Driver and SQLAlchemy errors are translated into these at
the boundary so callers (jobs, API, CLI) never see a stack trace from a library."""
from __future__ import annotations

__all__ = ["ClientStrataError", "NotFound", "StoreUnavailable", "InvalidInput"]


class ClientStrataError(Exception):
    """Base class: the message is safe to show to a user."""


class NotFound(ClientStrataError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} with id {key!r}")
        self.kind, self.key = kind, key


class StoreUnavailable(ClientStrataError):
    """A database or graph server cannot be reached or refused us."""


class InvalidInput(ClientStrataError):
    """The caller passed something we cannot act on (bad file, bad argument)."""
