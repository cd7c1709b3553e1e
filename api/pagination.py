"""Relay-style page info shared by every connection."""
from __future__ import annotations

import strawberry

__all__ = ["PageInfo"]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
