"""Reads that another book keeps from the caller answer as if there were nothing (null), word for
word; the attempt itself is audited (`access.refused`) so an RM probing ids is seen."""

from __future__ import annotations

from strawberry.types import Info

from clientstrata.graph.record.existence import exists

__all__ = ["hidden"]


async def hidden(info: Info, kind: str, key: str) -> None:
    """A by-id read of `kind` found nothing in the caller's book: audit it if it is another's."""
    ctx = info.context
    if ctx.principal.book is not None and await ctx.run(exists, kind, str(key)):
        await ctx.refused(kind, str(key), info.field_name)
