"""Runs as history: list them, read any customer's tags as of a moment, and migration
matrices between any two runs (who moved from which value to which)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.access import book_subjects
from clientstrata.graph.record.models import ClassificationRun, Tag
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.errors import InvalidState, UnknownDimension
from clientstrata.jobs.governance.standards import dimension_values, run_standard_dimensions

from .explain import explained, explained_tags
from .lease import reap_lapsed

__all__ = [
    "list_runs",
    "runs_page",
    "get_run",
    "RUN_COLUMNS",
    "MAX_RUNS_PAGE",
    "run_as_of",
    "tags_as_of",
    "tags_as_of_batch",
    "tag_history",
    "tag_histories",
    "migration_matrix",
    "Migration",
    "NONE",
]

NONE = "(none)"  # the row/column of customers present in only one of the two runs
_runs, _tags = ClassificationRun.__table__, Tag.__table__


def _moment(at: dt.date | dt.datetime) -> dt.datetime:
    """A date means the end of that day: "as of 30 June" includes what was published that day."""
    if isinstance(at, dt.datetime):
        return at
    return dt.datetime.combine(at, dt.time.max)


def list_runs(conn: Connection) -> pd.DataFrame:
    """Every run, oldest first (runs whose worker died reaped first, as in `get_run`)."""
    reap_lapsed(conn.engine)
    cols = [
        "run_id",
        "status",
        "kind",
        "requested_by",
        "standard_version",
        "standard_sha256",
        "started_at",
        "published_at",
        "customer_count",
        "snapshot",
        "error",
    ]
    rows = conn.execute(sa.select(*[_runs.c[c] for c in cols]).order_by(_runs.c.run_id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


RUN_COLUMNS = (
    "run_id",
    "status",
    "kind",
    "requested_by",
    "standard_version",
    "standard_sha256",
    "started_at",
    "published_at",
    "customer_count",
    "error",
)
MAX_RUNS_PAGE = 100


def runs_page(conn: Connection, first: int = 20, before: int | None = None) -> tuple[list[dict], bool]:
    """Runs newest first, at most `first`, those numbered below `before` (keyset paging: pass
    the last run_id back), and whether older ones follow."""
    if not 1 <= first <= MAX_RUNS_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_RUNS_PAGE}")
    reap_lapsed(conn.engine)
    q = sa.select(*[_runs.c[c] for c in RUN_COLUMNS])
    if before is not None:
        q = q.where(_runs.c.run_id < before)
    rows = conn.execute(q.order_by(_runs.c.run_id.desc()).limit(first + 1)).mappings().all()
    return [dict(r) for r in rows[:first]], len(rows) > first


def get_run(conn: Connection, run_id: int) -> dict:
    """One run. A run whose worker died (its lease lapsed, `jobs.runs.lease`) is marked failed
    first, so a poller sees `failed` ("worker died") rather than `running` for ever."""
    reap_lapsed(conn.engine)
    row = conn.execute(sa.select(*[_runs.c[c] for c in RUN_COLUMNS]).where(_runs.c.run_id == run_id)).mappings().first()
    if row is None:
        raise NotFound("classification run", str(run_id))
    return dict(row)


def run_as_of(conn: Connection, at: dt.date | dt.datetime) -> int | None:
    """The run readers saw at `at`: the latest published at or before it (None before the first)."""
    return latest_run_id(conn, _moment(at))


def tags_as_of(conn: Connection, customer_ids: Sequence[str], at: dt.date | dt.datetime) -> dict[str, list[dict]]:
    """Tags as readers saw them at `at`: the run published last by then, with the overrides in
    force at that moment applied (each tag shows `computed_value` and the effective `value`)."""
    moment = _moment(at)
    run = latest_run_id(conn, moment)
    if run is None:
        return {}
    return explained_tags(conn, customer_ids, run, at=moment)


def tags_as_of_batch(conn: Connection, keys: Sequence[tuple[str, dt.date | dt.datetime]]) -> dict[tuple, list[dict]]:
    """`tags_as_of` for many (customer_id, moment) keys at once: one read per distinct moment."""
    by_moment: dict = {}
    for cid, at in keys:
        by_moment.setdefault(at, []).append(cid)
    out: dict[tuple, list[dict]] = {}
    for at, ids in by_moment.items():
        for cid, tags in tags_as_of(conn, ids, at).items():
            out[(cid, at)] = tags
    return out


_HISTORY_COLUMNS = (
    "run_id",
    "published_at",
    "standard_version",
    "value",
    "label_zh",
    "label_en",
    "score",
    "explanation",
    "explanation_zh",
)


def tag_histories(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
    """For each (customer_id, dimension): the value every published run computed, oldest run
    first (run_id, published_at, standard_version, value, labels, score and the explanation in
    English and Chinese, by each run's standard). Manual overrides are not part of a run;
    `tags_as_of` reads what readers saw on a day."""
    if not keys:
        return {}
    ids, dims = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
    # the runs by number, so each is one seek per customer in the primary key (run, customer, dimension)
    runs = conn.execute(sa.select(_runs.c.run_id).where(_runs.c.status == "published")).scalars().all()
    q = (
        sa.select(
            _tags.c.customer_id,
            _tags.c.dimension,
            _tags.c.run_id,
            _runs.c.published_at,
            _tags.c.standard_version,
            _tags.c.value,
            _tags.c.label_zh,
            _tags.c.label_en,
            _tags.c.score,
            _tags.c.rule,
            _tags.c.inputs,
            _runs.c.standard_sha256,
        )
        .join(_runs, _runs.c.run_id == _tags.c.run_id)
        .where(_tags.c.run_id.in_(runs), _tags.c.customer_id.in_(ids), _tags.c.dimension.in_(dims))
        .order_by(_runs.c.published_at, _tags.c.run_id)
    )
    wanted, out = set(keys), {}
    for r in conn.execute(q).mappings().all():
        key = (r["customer_id"], r["dimension"])
        if key in wanted:
            out.setdefault(key, []).append(dict(r))
    for rows in out.values():
        explained(conn, rows)
        rows[:] = [{c: row[c] for c in _HISTORY_COLUMNS} for row in rows]
    return out


def tag_history(conn: Connection, customer_id: str, dimension: str) -> pd.DataFrame:
    """One customer's values on one dimension across the published runs, oldest first."""
    rows = tag_histories(conn, [(customer_id, dimension)]).get((customer_id, dimension), [])
    return pd.DataFrame(rows, columns=list(_HISTORY_COLUMNS))


@dataclass
class Migration:
    from_run: int
    to_run: int
    dimension: str
    matrix: pd.DataFrame  # index from-value, columns to-value, customer counts; NONE for absent
    moves: pd.DataFrame  # customer_id, from_value, to_value: everyone whose value differs

    @property
    def customers(self) -> int:
        return int(self.matrix.to_numpy().sum())

    def to_dict(self) -> dict:
        return {
            "from_run": self.from_run,
            "to_run": self.to_run,
            "dimension": self.dimension,
            "customers": self.customers,
            "moved": len(self.moves),
            "matrix": {f: {t: int(n) for t, n in row.items() if n} for f, row in self.matrix.iterrows()},
            "moves": self.moves.to_dict("records"),
        }

    def __repr__(self) -> str:
        return (
            f"Migration({self.dimension}: run {self.from_run} → {self.to_run}, customers={self.customers}, "
            f"moved={len(self.moves)})"
        )


def _published(conn: Connection, run_id: int) -> None:
    status = conn.execute(sa.select(_runs.c.status).where(_runs.c.run_id == run_id)).scalar()
    if status is None:
        raise NotFound("classification run", str(run_id))
    if status != "published":
        raise InvalidState(f"run {run_id} is {status}, not published: it has no tags to compare")


def migration_matrix(
    conn: Connection, from_run: int, to_run: int, dimension: str, book: str | None = None
) -> Migration:
    """From-value × to-value customer counts of the computed tags of two runs (manual overrides
    are not part of a run). Customers in only one run count in the NONE row or column, so the
    matrix adds up to every customer of either run. `book` (a relationship manager's id) counts
    only that RM's customers."""
    for run in (from_run, to_run):
        _published(conn, run)
    q = sa.select(_tags.c.run_id, _tags.c.customer_id, _tags.c.value).where(
        _tags.c.run_id.in_((from_run, to_run)), _tags.c.dimension == dimension
    )
    if book is not None:
        q = q.where(_tags.c.customer_id.in_(book_subjects(book)))
    tags = pd.DataFrame([tuple(r) for r in conn.execute(q).all()], columns=["run_id", "customer_id", "value"])
    if tags.empty:
        known = conn.execute(sa.select(_tags.c.dimension).where(_tags.c.run_id == to_run).distinct()).scalars().all()
        if dimension in known:  # a book with no customers in either run
            empty = pd.DataFrame(dtype=int).rename_axis(index="from", columns="to")
            return Migration(
                from_run, to_run, dimension, empty, pd.DataFrame(columns=["customer_id", "from_value", "to_value"])
            )
        raise UnknownDimension(
            f"no {dimension!r} tags in run {from_run} or {to_run} (run {to_run} has: {', '.join(sorted(known))})"
        )
    a = tags[tags["run_id"] == from_run].set_index("customer_id")["value"].rename("from_value")
    b = tags[tags["run_id"] == to_run].set_index("customer_id")["value"].rename("to_value")
    both = pd.concat([a, b], axis=1).fillna(NONE).rename_axis("customer_id").reset_index()
    order = _value_order(conn, to_run, from_run, dimension, set(both["from_value"]) | set(both["to_value"]))
    matrix = pd.crosstab(both["from_value"], both["to_value"]).reindex(
        index=[v for v in order if v in set(both["from_value"])],
        columns=[v for v in order if v in set(both["to_value"])],
        fill_value=0,
    )
    matrix.index.name, matrix.columns.name = "from", "to"
    moves = both[both["from_value"] != both["to_value"]].sort_values("customer_id").reset_index(drop=True)
    return Migration(from_run, to_run, dimension, matrix, moves)


def _value_order(conn: Connection, to_run: int, from_run: int, dimension: str, present: set[str]) -> list[str]:
    """The standard's value order (mass, affluent, …), then any others sorted, NONE last."""
    listed: list[str] = []
    for run in (to_run, from_run):
        dims = run_standard_dimensions(conn, run) or {}
        listed += [v for v in dimension_values(dims.get(dimension)) if v not in listed]
    rest = sorted(present - set(listed) - {NONE})
    return [*listed, *rest, NONE]
