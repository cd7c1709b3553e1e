"""Tables as GraphQL carries them: a page's rows as JSON lists, built a column at a time, or the
whole page as one Arrow IPC stream in base64.

The bulk fields (`customerTable`, `actionTable`, `packageTable`, `classificationChangeTable`) send
tens of thousands of cells a page. As JSON, converting them value by value was a large share of a
page's time, so each column is converted once (`tolist()`: numpy scalars become Python numbers;
`to_pylist()` for Arrow) and only dates, moments and numpy objects are touched cell by cell — an
Arrow column's dates once per distinct value. As Arrow (`arrow`), the page is the columns' own
buffers: no value becomes a Python object on either side, and text columns travel dictionary
encoded, so a tag's value is sent once a page and arrives as a categorical.

A page is a pandas frame (the strategy tables) or an Arrow table (the customer table and the
change feed, which are read as Arrow)."""

from __future__ import annotations

import base64
import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["Page", "arrow_text", "json_columns", "json_rows", "page_columns", "page_length"]

Page = pd.DataFrame | pa.Table
_PLAIN = {str, int, bool, type(None), list, dict}  # floats may be NaN: checked


def _cell(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, dt.date):  # datetimes and pandas Timestamps are dates too
        return v.isoformat()
    return v.item() if hasattr(v, "item") else v


def _column(s: pd.Series) -> list:
    values = s.tolist()
    return values if set(map(type, values)) <= _PLAIN else list(map(_cell, values))


def _arrow_column(col: pa.ChunkedArray) -> list:
    if pa.types.is_temporal(col.type):  # a run's changes share a moment: each distinct one formatted once
        coded = col.combine_chunks().dictionary_encode()
        text = np.array([*map(_cell, coded.dictionary.to_pylist()), None], dtype=object)
        codes = coded.indices.fill_null(len(text) - 1).to_numpy(zero_copy_only=False)
        return text[codes].tolist()
    values = col.to_pylist()
    return list(map(_cell, values)) if pa.types.is_floating(col.type) else values


def page_columns(page: Page) -> list[str]:
    return list(page.column_names) if isinstance(page, pa.Table) else list(page.columns)


def page_length(page: Page) -> int:
    return page.num_rows if isinstance(page, pa.Table) else len(page)


def json_columns(page: Page) -> list[list]:
    """The page's columns as lists of JSON values: dates as ISO text, NaN, NaT and nulls as null."""
    if isinstance(page, pa.Table):
        return [_arrow_column(c) for c in page.columns]
    return [_column(page[c]) for c in page.columns]


def json_rows(page: Page) -> list[list]:
    """The page's rows as lists of JSON values (`json_columns` turned round)."""
    if page_length(page) == 0:
        return []
    return [list(r) for r in zip(*json_columns(page))]


def _encoded(col: pa.ChunkedArray) -> pa.Array:
    col = col.combine_chunks()  # one dictionary a column: a stream's batches would each need their own
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col.cast(pa.string()).dictionary_encode()
    return col


def arrow_text(page: Page) -> str:
    """The page as an Arrow IPC stream in base64 (text columns dictionary encoded, no pandas
    metadata: the reader decides its own types). A frame's object columns are typed by Arrow."""
    table = page if isinstance(page, pa.Table) else pa.Table.from_pandas(page, preserve_index=False)
    table = pa.Table.from_arrays([_encoded(c) for c in table.columns], names=table.column_names)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return base64.b64encode(sink.getvalue()).decode("ascii")
