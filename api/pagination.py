"""Relay-style page info shared by every connection, and opaque cursors over numbered keys
(runs, alerts, audit entries, the change feed): base64 of `kind:number`, stable across
restarts because the numbers are the record's own keys."""

from __future__ import annotations

import base64

import strawberry

from clientstrata.graph.errors import InvalidInput

__all__ = ["PageInfo", "encode_cursor", "decode_cursor"]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, edges: list, has_next: bool) -> PageInfo:
        """A page's info: its last edge's cursor, null when the page is empty, on every connection
        (Relay's rule; a poller keeps the cursor it passed, see docs/graphql.md#pagination)."""
        return cls(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None)


def encode_cursor(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{int(key)}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The number inside a cursor of `kind`; None for no cursor. Anything else is refused."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix == kind and number.isdigit():
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidInput(f"`after` is not a {kind} cursor returned by this API")
