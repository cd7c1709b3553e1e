"""A page of the bulk customer table read as columns, in one statement.

The statement selects, per customer of the page, the record's base columns, the current AUM
(`customer_rollups`), the household and its tier, and the wide row of the latest run's values
(`current_tag_values`); the overrides in force over the page's id range are a second, small read.
The driver's tuples become Arrow columns at once and the wide rows are parsed by Arrow's JSON
reader, so nothing builds a Python object per customer beyond the driver's tuple: at a hundred
thousand customers a pull is ten of these pages, and a Row, a dict and a pandas row per customer
on the way were most of its time.

An override is applied only where the run tagged that dimension, as the 360 shows an override
beside its tag and never alone, and a filter on the dimension matches only a tag; the last decided
wins, as everywhere."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput

from .frames import driver_rows
from .models import CurrentTagValues, CustomerRollup, HouseholdMember, HouseholdRollup, Individual, Override
from .queries import MAX_TABLE_PAGE, TABLE_COLUMNS, CustomerFilter, customer_select, in_force_clause

__all__ = ["BESIDE_COLUMNS", "CustomerRows", "customer_rows"]

# what the statement reads beside the individual's own columns, named as the table names them
BESIDE_COLUMNS = ("aum_month_average", "household_id", "household_tier")
_people, _rollups, _current = Individual.__table__, CustomerRollup.__table__, CurrentTagValues.__table__
_members, _households, _overrides = HouseholdMember.__table__, HouseholdRollup.__table__, Override.__table__
_FROM = (
    _people.outerjoin(_rollups, _rollups.c.customer_id == _people.c.customer_id)
    .outerjoin(_members, _members.c.customer_id == _people.c.customer_id)
    .outerjoin(_households, _households.c.household_id == _members.c.household_id)
    .outerjoin(_current, _current.c.customer_id == _people.c.customer_id)
)
_SELECTED = (
    *(_people.c[c] for c in TABLE_COLUMNS),
    # a float from the database on both backends: PostgreSQL's numeric would arrive as Decimal
    sa.cast(_rollups.c.aum, sa.Float),
    _members.c.household_id,
    _households.c.tier,
    _current.c.tag_values,
)
# each column's Arrow type; the driver gives SQLite's dates as text, PostgreSQL's as dates
_TYPES = {
    **{c: pa.string() for c in (*TABLE_COLUMNS, *BESIDE_COLUMNS)},
    "birth_date": pa.date32(),
    "onboarded_on": pa.date32(),
    "aum_month_average": pa.float64(),
}


@dataclass(frozen=True)
class CustomerRows:
    """One page: `table` holds TABLE_COLUMNS, BESIDE_COLUMNS and a column per requested
    dimension, in id order (null where the record has none: a customer without rollups has no AUM
    here, one without a run no tags); `has_next` says whether more follow."""

    table: pa.Table
    has_next: bool

    def __len__(self) -> int:
        return self.table.num_rows


def _column(values: Sequence, type_: pa.DataType) -> pa.Array:
    if pa.types.is_date32(type_):  # text on SQLite: Arrow parses it; dates elsewhere
        return pa.array(values).cast(type_) if any(isinstance(v, str) for v in values) else pa.array(values, type_)
    return pa.array(values, type_)


def _in_force(conn: Connection, lo: str, hi: str, dimensions: Sequence[str]) -> list[tuple[str, str, str]]:
    """(customer, dimension, value) of the overrides in force now over [lo, hi], oldest decision
    first: a page is a contiguous id range, so one range read, not an IN list of its ids."""
    q = (
        sa.select(_overrides.c.customer_id, _overrides.c.dimension, _overrides.c.value)
        .where(in_force_clause(utcnow()), _overrides.c.customer_id.between(lo, hi))
        .where(_overrides.c.dimension.in_(list(dimensions)))
        .order_by(_overrides.c.decided_at)
    )
    return driver_rows(conn, q)


def _tag_columns(wide: Sequence[str | None], dimensions: Sequence[str]) -> list[pa.Array]:
    """Each dimension's values from the page's wide rows, parsed by Arrow's JSON reader (one JSON
    object a line; a customer without a row reads as an empty object)."""
    text = "\n".join(w if w is not None else "{}" for w in wide).encode()
    schema = pa.schema([(d, pa.string()) for d in dimensions])
    parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    read = pa_json.read_json(io.BytesIO(text), parse_options=parse)
    return [read.column(d).combine_chunks() for d in dimensions]


def _with_overrides(conn: Connection, ids: Sequence[str], dims: Sequence[str], tags: list[pa.Array]) -> list[pa.Array]:
    hits: dict[int, dict[int, str]] = {}
    at: dict[str, int] | None = None
    for cid, dim, value in _in_force(conn, ids[0], ids[-1], dims):
        at = at if at is not None else {c: i for i, c in enumerate(ids)}
        i, k = at.get(cid), dims.index(dim)
        if i is not None and tags[k][i].is_valid:
            hits.setdefault(k, {})[i] = value  # later decisions overwrite earlier ones
    for k, by_row in hits.items():
        mask = np.zeros(len(ids), dtype=bool)
        rows = sorted(by_row)
        mask[rows] = True
        tags[k] = pc.replace_with_mask(tags[k], pa.array(mask), pa.array([by_row[i] for i in rows], pa.string()))
    return tags


def customer_rows(
    conn: Connection,
    first: int,
    after: str | None,
    flt: CustomerFilter,
    book: str | None,
    dimensions: Sequence[str],
) -> CustomerRows:
    """Up to `first` (≤ MAX_TABLE_PAGE) customers after the cursor that `flt` selects within
    `book` (a relationship manager's id), as columns: TABLE_COLUMNS, BESIDE_COLUMNS, then the
    latest run's value of each of `dimensions` (each once) with the overrides in force applied."""
    if not 1 <= first <= MAX_TABLE_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_TABLE_PAGE:,}")
    names = (*TABLE_COLUMNS, *BESIDE_COLUMNS)
    dims = list(dict.fromkeys(dimensions))
    clash = sorted(set(dims) & set(names))
    if clash:
        raise InvalidInput(f"`dimensions` names columns of the table, not dimensions: {', '.join(clash)}")
    q = customer_select(conn, flt, book, _SELECTED, after).select_from(_FROM).limit(first + 1)
    rows = driver_rows(conn, q)
    has_next = len(rows) > first
    read = list(zip(*rows[:first])) or [()] * len(_SELECTED)
    columns = [_column(values, _TYPES[name]) for name, values in zip(names, read)]
    ids, wide = read[0], read[-1]
    tags = _tag_columns(wide, dims) if ids and dims else [pa.nulls(len(ids), pa.string()) for _ in dims]
    if ids and dims:
        tags = _with_overrides(conn, ids, dims, tags)
    table = pa.Table.from_arrays([*columns, *tags], names=[*names, *dims])
    return CustomerRows(table, has_next)
