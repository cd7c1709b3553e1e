"""The change feed's full pull (`Client.changes`): pages of `classificationChangeTable`, as Arrow
(pyarrow installed) or JSON rows, rather than one GraphQL object per change, so 200k changes
arrive as fast per row as `customers()` does."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from gql import gql
from tqdm.auto import tqdm

from . import _arrow

__all__ = ["CHANGE_TABLE", "CHANGE_COLUMNS", "MAX_CHANGE_PAGE", "pull_changes", "changes_frame"]

# by the shape a page is asked in: Arrow or JSON rows, as `Client.arrow` says
CHANGE_TABLE = {
    field: gql(f"""
query ChangeTable($first: Int!, $after: String, $count: Boolean! = false) {{
  classificationChangeTable(first: $first, after: $after) {{
    columns {field} totalCount @include(if: $count)
    pageInfo {{ hasNextPage endCursor }}
  }}
}}""")
    for field in ("arrow", "rows")
}
CHANGE_COLUMNS = ["seq", "at", "source", "run_id", "override_id", "customer_id", "dimension", "old_value", "new_value"]
MAX_CHANGE_PAGE = 50_000  # the API's largest table page


def changes_frame(rows: list[list] | pd.DataFrame, columns: list[str] = CHANGE_COLUMNS) -> pd.DataFrame:
    """Rows as the API sends them (or a frame of them) → seq an int, `at` tz-aware UTC, run_id and
    override_id nullable ints (a change has one or the other), the rest strings or None."""
    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)
    df["seq"] = df["seq"].astype("int64")
    df["at"] = pd.to_datetime(df["at"], utc=True, format="ISO8601")
    for col in ("run_id", "override_id"):
        df[col] = df[col].astype("Int64")
    return df


def pull_changes(
    execute: Callable[..., dict], first: int, after: str | None, progress: bool, arrow: bool
) -> pd.DataFrame:
    """Every change after the cursor `after`, page by page (as Arrow with `arrow`, else JSON rows);
    `.attrs["cursor"]` is the last non-null `endCursor` (or `after` when nothing was new), where
    the next pull resumes."""
    field = "arrow" if arrow else "rows"
    arrow, rows, columns, cursor = [], [], CHANGE_COLUMNS, after
    with tqdm(desc="changes", unit="rows", disable=not progress, leave=False) as bar:
        while True:
            page = execute(CHANGE_TABLE[field], first=first, after=cursor, count=bar.total is None and progress)
            page = page["classificationChangeTable"]
            if "totalCount" in page:
                bar.total = page["totalCount"]
            columns = page["columns"]
            if field == "arrow":
                arrow.append(_arrow.read(page["arrow"]))
                bar.update(arrow[-1].num_rows)
            else:
                rows += page["rows"]
                bar.update(len(page["rows"]))
            cursor = page["pageInfo"]["endCursor"] or cursor
            if not page["pageInfo"]["hasNextPage"]:
                break
    df = changes_frame(_arrow.frame(arrow, columns) if field == "arrow" else rows, columns)
    df.attrs["cursor"] = cursor
    return df
