"""Bulk pages as Arrow (the tables' `arrow` field), when pyarrow is installed (`clientstrata[arrow]`).

A page of JSON is thousands of Python objects to parse and then to turn into columns; the same
page as an Arrow IPC stream is the columns' buffers, decoded without a Python object per value,
and its text columns arrive dictionary encoded, so a tag column becomes a categorical without
hashing a string per customer. Without pyarrow the SDK reads the JSON fields, and both paths give
the same frame (tests/sdk/test_customers_frame.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

try:
    import pyarrow as pa
except ImportError:  # the SDK's base install: the JSON path
    pa = None

__all__ = ["available", "frame", "read"]


def available() -> bool:
    """Whether pages can be read as Arrow here."""
    return pa is not None


def read(text: str) -> pa.Table:
    """One page: the `arrow` field's base64 IPC stream."""
    with pa.ipc.open_stream(base64.b64decode(text)) as reader:
        return reader.read_all()


def _text_unit() -> str:
    """The resolution pandas reads ISO text in (ns in pandas 2, us in pandas 3): the JSON path's
    dates and moments have it, so the Arrow path's take it too."""
    return np.datetime_data(pd.to_datetime(["2000-01-01T00:00:00"], format="ISO8601").dtype)[0]


def _plain(col: pa.ChunkedArray, unit: str) -> pa.ChunkedArray:
    """A column as the frame holds it: text decoded unless asked for as a categorical, dates and
    moments at pandas' resolution for text (a date as midnight, a moment keeping its zone)."""
    if pa.types.is_dictionary(col.type):
        return col.cast(col.type.value_type)
    if pa.types.is_date(col.type):
        return col.cast(pa.timestamp(unit))
    if pa.types.is_timestamp(col.type):
        return col.cast(pa.timestamp(unit, col.type.tz))
    return col


def frame(tables: Sequence[pa.Table], columns: Sequence[str], categorical: Iterable[str] = ()) -> pd.DataFrame:
    """The pages (`read`, the same columns; `columns` names them when there is none) as one frame,
    typed as pandas types the JSON path's: dates and moments as datetime64 (moments in UTC),
    integers with a null as floats, text as text, a column without a value as objects, each None
    (and no rows: a frame of empty object columns). Only the columns named in `categorical` stay
    categoricals (their categories the values met, in no order: `_dimensions.categorise` orders
    them); other text is decoded."""
    if not tables or not any(t.num_rows for t in tables):
        return pd.DataFrame(columns=list(tables[0].column_names if tables else columns))
    # a page whose column is empty throughout carries it as nulls: permissive promotion types it
    table = pa.concat_tables(tables, promote_options="permissive").unify_dictionaries()
    keep, unit = set(categorical), _text_unit()
    table = pa.Table.from_arrays(
        [col if name in keep else _plain(col, unit) for name, col in zip(table.column_names, table.columns)],
        names=table.column_names,
    )
    df = table.to_pandas()
    for name, col in zip(table.column_names, table.columns):
        if col.null_count == len(col):  # as pandas reads a JSON column of nulls: objects, each None
            df[name] = pd.Series([None] * len(col), index=df.index, dtype=object)
    return df
