"""`classificationChangeTable`: the change feed as columns and rows (bulk, for the SDK), with the
cursors, order and book of `classificationChanges`, so an integration resumes on either."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from clientstrata.api.pagination import PageInfo, decode_cursor, encode_cursor
from clientstrata.api.tables import arrow_text, json_rows
from clientstrata.graph.record.queries import MAX_TABLE_PAGE
from clientstrata.jobs.runs.change_table import change_table, changes_count

__all__ = ["ChangeTable", "ChangeTableQuery"]


@strawberry.type(
    description="A page of the change feed as columns and rows: the bulk path for full pulls. `rows` is a "
    "JSON list of lists in `columns` order; `at` is an ISO 8601 string in UTC with its offset. `arrow` is the "
    "same page as one Arrow IPC stream in base64 (what the SDK reads when pyarrow is installed). "
    "`pageInfo.endCursor` is a `classificationChanges` cursor (and the reverse): null on an empty page, "
    "keep yours."
)
class ChangeTable:
    columns: list[str]
    page_info: PageInfo
    page: strawberry.Private[Any]  # an Arrow table; encoded only in the shape the query asks for
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The page's rows, each a list in `columns` order.")
    def rows(self) -> JSON:
        return json_rows(self.page)

    @strawberry.field(
        description="The page as an Arrow IPC stream, base64: one record batch, columns in `columns` order, "
        "`at` a UTC timestamp (microseconds), ids 64-bit integers, text dictionary encoded, nulls where a "
        "change has no value."
    )
    def arrow(self) -> str:
        return arrow_text(self.page)

    @strawberry.field(
        description="Changes after `after` that you may see (this page included); counted only when asked for."
    )
    async def total_count(self) -> int:
        return await self.count()


async def resolve_change_table(info: Info, after: str | None, first: int) -> ChangeTable:
    ctx, seq = info.context, decode_cursor("change", after) or 0
    page, has_next = await ctx.run(partial(change_table, book=ctx.principal.book), first, seq)
    end = encode_cursor("change", page.column("seq")[-1].as_py()) if page.num_rows else None
    return ChangeTable(
        columns=list(page.column_names),
        page=page,
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
