"""`classificationChangeTable`: the change feed as columns and rows (bulk, for the SDK), with the
cursors, order and book of `classificationChanges`, so an integration resumes on either."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from clientstrata.api.pagination import PageInfo, decode_cursor, encode_cursor
from clientstrata.api.scalars import serialize_datetime
from clientstrata.graph.record.queries import MAX_TABLE_PAGE
from clientstrata.jobs.runs.change_table import change_table, changes_count

__all__ = ["ChangeTable", "ChangeTableQuery"]


@strawberry.type(
    description="A page of the change feed as columns and rows: the bulk path for full pulls. `rows` is a "
    "JSON list of lists in `columns` order; `at` is an ISO 8601 string in UTC with its offset. "
    "`pageInfo.endCursor` is a `classificationChanges` cursor (and the reverse): null on an empty page, "
    "keep yours."
)
class ChangeTable:
    columns: list[str]
    rows: JSON
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="Changes after `after` that you may see (this page included); counted only when asked for."
    )
    async def total_count(self) -> int:
        return await self.count()


def _rows(df) -> list[list]:
    at = df.columns.get_loc("at")
    rows = df.values.tolist()  # object columns: ints, strings, None and datetimes as stored
    # a run's changes share one moment: each distinct `at` is formatted once, not once a row
    formatted: dict = {}
    for r in rows:
        moment = r[at]
        text = formatted.get(moment)
        if text is None:
            text = formatted[moment] = serialize_datetime(moment)
        r[at] = text
    return rows


async def resolve_change_table(info: Info, after: str | None, first: int) -> ChangeTable:
    ctx, seq = info.context, decode_cursor("change", after) or 0
    df, has_next = await ctx.run(partial(change_table, book=ctx.principal.book), first, seq)
    rows = _rows(df)
    end = encode_cursor("change", rows[-1][0]) if rows else None
    return ChangeTable(
        columns=list(df.columns),
        rows=rows,
        page_info=PageInfo(has_next_page=has_next, end_cursor=end),
        count=partial(ctx.run, partial(changes_count, book=ctx.principal.book), seq),
    )


@strawberry.type
class ChangeTableQuery:
    @strawberry.field(
        description=f"The change feed as a table (`first` ≤ {MAX_TABLE_PAGE:,}) after a cursor, oldest first: "
        "the same changes and cursors as `classificationChanges`, for bulk pulls; relationship managers see "
        "their book's changes."
    )
    async def classification_change_table(
        self, info: Info, after: str | None = None, first: int = 10_000
    ) -> ChangeTable:
        return await resolve_change_table(info, after, first)
