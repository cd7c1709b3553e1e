"""The pages of a bulk table (`customerTable`, `actionTable`, `packageTable`) as one frame.

Each table is asked for in one of two shapes: `arrow` (an Arrow IPC stream a page, when pyarrow is
installed: `_arrow`) or its JSON field (`columnValues` or `rows`). `Pages` keeps what arrives and
builds the frame once at the end; both shapes give the same frame."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from . import _arrow

__all__ = ["Pages", "arrow_wanted"]


def arrow_wanted(arrow: bool | None) -> bool:
    """Whether to ask for pages as Arrow: `None` when pyarrow is importable; `True` requires it."""
    if arrow and not _arrow.available():
        raise ImportError("arrow=True needs pyarrow: pip install 'clientstrata[arrow]' (or leave arrow=None)")
    return _arrow.available() if arrow is None else bool(arrow)


class Pages:
    """The pages of one pull, in the shape they were asked for (`arrow`, `columnValues`, `rows`)."""

    def __init__(self, field: str) -> None:
        self.field, self.parts, self.columns = field, [], None

    def __repr__(self) -> str:
        return f"Pages(field={self.field!r}, pages={len(self.parts)})"

    def add(self, page: dict) -> int:
        """Keep one page's answer; returns its rows (for the progress bar)."""
        self.columns = page["columns"]
        if self.field == "arrow":
            part = _arrow.read(page["arrow"])
            self.parts.append(part)
            return part.num_rows
        if self.field == "columnValues":  # no row lists to build on the server or to turn round here
            values = page["columnValues"]
            # no rows: empty object columns, as a frame of no rows is everywhere in the SDK
            part = pd.DataFrame(dict(zip(self.columns, values)) if values and values[0] else None, columns=self.columns)
        else:
            part = pd.DataFrame(page["rows"], columns=self.columns)
        self.parts.append(part)
        return len(part)

    def frame(self, empty: Sequence[str] = (), categorical: Iterable[str] = ()) -> pd.DataFrame:
        """Every page as one frame (`empty`: the columns when no page came; `categorical`: the text
        columns an Arrow read keeps as categoricals, see `_arrow.frame`)."""
        if self.field == "arrow":
            return _arrow.frame(self.parts, self.columns or empty, categorical)
        if not self.parts:
            return pd.DataFrame(columns=list(self.columns or empty))
        return pd.concat(self.parts, ignore_index=True)
