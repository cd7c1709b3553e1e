"""Ingestion: validate every row, load the good ones in batches, quarantine the rest.

The whole ingest is one database transaction, so a job that dies leaves nothing
half-written; re-ingesting the same bundle upserts identical rows and changes nothing.
Rows go in through the bulk path of each database (graph/record/bulk.py: executemany on SQLite,
COPY on PostgreSQL), a validated chunk at a time. A table that is empty when its file starts
takes the first-load path (graph/record/bulk_first.py): plain inserts, its secondary indexes
built once after the file, its foreign keys checked once (the rows' references were checked
here already), since nothing stored can conflict with or be changed by a new row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record.bulk import UpsertDiff, bulk_upsert, load_tuning
from clientstrata.graph.record.bulk_first import check_foreign_keys, first_load, foreign_keys_off, insert_new
from clientstrata.graph.record.db import count_rows as db_count
from clientstrata.graph.record.db import get_engine, insert_ignore, migrate
from clientstrata.graph.record.models import Base, CustomerRollup, HouseholdRollup, IngestRun, QuarantinedRow
from clientstrata.jobs.progress import bar

from .accounting import changes_summary
from .bundle import Table
from .quarantine import IngestRefused, over_limit, quarantine_rows
from .rollups import Touched, refresh_after_ingest
from .sources import CHUNK_ROWS, Piece, bundle_pieces
from .updates import kept_columns, with_defaults
from .validate import ROW, SHAPE, validate_chunk

__all__ = ["ingest", "IngestReport", "TableReport", "FORMATS"]

FORMATS = ("bundle", "berka")
BATCH_ROWS = 100_000  # rows per bulk statement (COPY or executemany)
# written by every ingest beside the bundle's tables (their foreign keys are checked too)
_ALSO_WRITTEN = tuple(m.__tablename__ for m in (QuarantinedRow, CustomerRollup, HouseholdRollup))


@dataclass
class TableReport:
    table: str
    source_file: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    derived: bool = False
    reasons: Counter = field(default_factory=Counter)
    changes: UpsertDiff = field(default_factory=UpsertDiff)  # loaded = inserted + updated + unchanged

    @property
    def new(self) -> int:  # the rows the table did not have before (the report's older name)
        return self.changes.inserted

    def to_dict(self) -> dict:
        top = [{"reason": r, "rows": n} for r, n in self.reasons.most_common(5)]
        return {
            "table": self.table,
            "source_file": self.source_file,
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "new": self.new,
            **changes_summary(self.table, self.changes),
            "derived": self.derived,
            "top_reasons": top,
        }


@dataclass
class IngestReport:
    ingest_id: int
    source: str
    format: str
    tables: list[TableReport]
    warnings: list[str]
    refused: str | None = None  # why nothing was loaded (over `max_quarantined`)

    def _read_rows(self) -> list[TableReport]:
        return [t for t in self.tables if not t.derived]

    @property
    def read(self) -> int:
        return sum(t.read for t in self._read_rows())

    @property
    def loaded(self) -> int:
        return sum(t.loaded for t in self._read_rows())

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self._read_rows())

    def _changed(self, what: str) -> int:  # derived rows count: they change the record too
        return sum(getattr(t.changes, what) for t in self.tables)

    def to_dict(self) -> dict:
        derived = [t for t in self.tables if t.derived]
        return {
            "ingest_id": self.ingest_id,
            "source": self.source,
            "format": self.format,
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "inserted": self._changed("inserted"),
            "updated": self._changed("updated"),
            "unchanged": self._changed("unchanged"),
            "refused": self.refused,
            "tables": {t.table: t.to_dict() for t in self._read_rows()},
            "derived": {t.table: t.to_dict() for t in derived},
            "warnings": self.warnings,
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.to_dict() for t in self.tables]).drop(
            columns=["top_reasons", "changed_fields", "changes_sample"]
        )

    def __repr__(self) -> str:
        return (
            f"IngestReport(ingest_id={self.ingest_id}, read={self.read}, loaded={self.loaded}, "
            f"quarantined={self.quarantined})"
        )


class _Keys:
    """Known key values per (table, column), read once from the database and then kept
    current as this ingest loads rows, so foreign keys are checked without re-querying.
    Python sets and dicts: membership of a chunk is then linear in the chunk, not in the
    millions of parent keys."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.values: dict[tuple[str, str], set] = {}
        self.owners: dict[tuple[str, str, str], dict] = {}

    def known(self, table: str, column: str) -> set:
        if (table, column) not in self.values:
            t = Base.metadata.tables[table]
            rows = self.conn.execute(sa.select(t.c[column]).distinct()).scalars()
            self.values[(table, column)] = set(rows)
        return self.values[(table, column)]

    def owner(self, table: str, column: str, key: str) -> dict:
        if (table, column, key) not in self.owners:
            t = Base.metadata.tables[table]
            rows = self.conn.execute(sa.select(t.c[column], t.c[key]).where(t.c[column].is_not(None)))
            self.owners[(table, column, key)] = {r[0]: r[1] for r in rows}
        return self.owners[(table, column, key)]

    def loaded(self, table: Table, good: pd.DataFrame) -> None:
        for (t, c), known in self.values.items():
            if t == table.name:
                known.update(good[c].dropna().astype(str).tolist())
        for (t, c, k), owners in self.owners.items():
            if t == table.name:
                sub = good[[c, k]].dropna()
                owners.update(zip(sub[c].tolist(), sub[k].tolist()))


def _storage(col, s: pd.Series) -> list:
    """One typed column as plain Python values in the form the record stores: what
    SQLAlchemy's own processors would bind (ISO dates, "YYYY-MM-DD HH:MM:SS.ffffff"
    date-times, bools), made vectorised. Missing values are None (NaN would reach
    PostgreSQL's COPY as the text "nan")."""
    missing = s.isna().to_numpy()
    if col.kind in ("date", "datetime"):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)  # wall time, as SQLAlchemy stores an aware datetime
        unit = "D" if col.kind == "date" else "us"
        text = np.datetime_as_string(s.to_numpy(dtype=f"datetime64[{unit}]"), unit=unit)
        out = (pd.Series(text).str.slice_replace(10, 11, " ") if col.kind == "datetime" else pd.Series(text)).to_numpy(
            dtype=object
        )
    elif col.kind in ("int", "bool"):
        out = s.to_numpy(dtype=object, na_value=None)
    else:
        out = s.to_numpy(dtype=object)
    out = np.where(missing, None, out)
    return out.tolist()


def _tuples(table: Table, good: pd.DataFrame) -> list[tuple]:
    return list(zip(*(_storage(c, good[c.name]) for c in table.columns)))


def _rule(reason: str) -> str:
    """A reason without the row's own values, so the summary groups rows by rule."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'", "…", reason))


def _load_piece(
    conn: Connection,
    ingest_id: int,
    piece: Piece,
    keys: _Keys,
    progress_bar,
    warnings: list[str],
    tolerant: bool,
    touched: Touched,
    chunk_rows: int,
    load: bool = True,
    as_of: dt.date | None = None,
) -> TableReport:
    """Validate a piece, load its good rows (stamped with the ingest id; what they change is
    measured unless the table was empty) and quarantine the rest. `load=False` only quarantines."""
    table = Base.metadata.tables[piece.table.name]
    rep = TableReport(piece.table.name, piece.source_file, derived=piece.derived)
    # empty: every row is new (repeated keys are quarantined before they are written), so there
    # is nothing to compare with or conflict with: plain inserts, indexes built once afterwards
    was_empty = load and db_count(conn, table) == 0
    with first_load(conn, table.name) if was_empty else nullcontext():
        _load_chunks(
            conn,
            ingest_id,
            piece,
            keys,
            progress_bar,
            warnings,
            tolerant,
            touched,
            chunk_rows,
            load,
            as_of,
            rep,
            was_empty,
        )
    return rep


def _load_chunks(
    conn: Connection,
    ingest_id: int,
    piece: Piece,
    keys: _Keys,
    progress_bar,
    warnings: list[str],
    tolerant: bool,
    touched: Touched,
    chunk_rows: int,
    load: bool,
    as_of: dt.date | None,
    rep: TableReport,
    was_empty: bool,
) -> None:
    table = Base.metadata.tables[piece.table.name]
    quarantine = QuarantinedRow.__table__
    stamp = {"ingest_id": ingest_id}
    seen: dict = {}  # name -> SeenKeys, across the chunks of this file
    for chunk in piece.chunks(warnings, tolerant, chunk_rows):
        result = validate_chunk(piece.table, chunk, keys.known, keys.owner, seen, as_of)
        rows = _tuples(piece.table, with_defaults(conn, piece.table, result.good)) if load else []
        keep = kept_columns(piece.table, chunk.columns)  # what an empty or absent cell leaves as stored
        for i in range(0, len(rows), BATCH_ROWS):
            batch = rows[i : i + BATCH_ROWS]
            if was_empty:
                insert_new(conn, table, piece.table.column_names, batch, stamp)
                rep.changes.all_new(len(batch))
            else:
                bulk_upsert(conn, table, piece.table.column_names, batch, piece.table.key, keep, stamp, rep.changes)
        keys.loaded(piece.table, result.good)
        if load:
            touched.note(piece.table.name, result.good)  # rollups hook (1/2): what this load changed
        if len(result.bad):
            misaligned = set(chunk.loc[chunk[SHAPE] != "", ROW].astype(int)) if SHAPE in chunk else set()
            bad = quarantine_rows(ingest_id, piece.table.name, piece.source_file, result.bad, misaligned)
            insert_ignore(conn, quarantine, bad, ["fingerprint"])
            rep.reasons.update(_rule(part) for r in result.bad["reason"] for part in r.split("; "))
        rep.read += len(chunk)
        rep.loaded += len(result.good)
        rep.quarantined += len(result.bad)
        progress_bar.update(len(chunk))


def _load_pieces(
    conn: Connection,
    ingest_id: int,
    pieces: list[Piece],
    pbar,
    warnings: list[str],
    touched: Touched,
    chunk_rows: int,
    load: bool = True,
    as_of: dt.date | None = None,
) -> list[TableReport]:
    keys = _Keys(conn)
    reports = []
    for piece in pieces:
        pbar.set_postfix_str(piece.table.name)
        savepoint = conn.begin_nested()
        try:
            rep = _load_piece(conn, ingest_id, piece, keys, pbar, warnings, False, touched, chunk_rows, load, as_of)
            savepoint.commit()
        except pd.errors.ParserError:
            # A file pandas cannot parse although its rows fit the header (a quoted field
            # still open at its end): undo this file and read it again with the tolerant
            # reader, which quarantines exactly the rows at fault.
            savepoint.rollback()
            keys = _Keys(conn)
            warnings.append(f"{piece.source_file}: malformed rows, re-read with the tolerant reader")
            rep = _load_piece(conn, ingest_id, piece, keys, pbar, warnings, True, touched, chunk_rows, load, as_of)
        reports.append(rep)
    return reports


def ingest(
    source: str | Path,
    format: str = "bundle",
    engine: Engine | None = None,
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    max_quarantined: float | None = None,
    as_of: dt.date | None = None,
) -> IngestReport:
    """Ingest a bundle folder (or the PKDD'99 data with format="berka") into the record.
    Files are read, validated and written `chunk_rows` rows at a time (memory stays bounded;
    the outcome does not depend on it). Events dated after `as_of` (the date the data describes;
    default: today, wherever on Earth it is latest) are quarantined. With `max_quarantined` (a
    share of the rows read), an ingest that quarantines more loads nothing, keeps its quarantined
    rows and report, and raises IngestRefused."""
    if format not in FORMATS:
        from clientstrata.graph.errors import InvalidInput

        raise InvalidInput(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    source = Path(source)
    # no time zone is ahead of UTC+14: a date later than today there has not begun anywhere
    as_of = as_of or (dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)).date()
    engine = engine or get_engine()
    migrate(engine)
    if format == "berka":
        from .berka import berka_pieces

        pieces, warnings = berka_pieces(source)
    else:
        pieces, warnings = bundle_pieces(source)

    total = sum(p.rows for p in pieces)
    with engine.connect() as outer, foreign_keys_off(outer), outer.begin(), load_tuning(outer):
        report = _ingest_in(
            outer, source, format, pieces, warnings, total, progress, chunk_rows, max_quarantined, as_of
        )
    if report.refused:
        raise IngestRefused(f"ingest #{report.ingest_id} refused, nothing loaded: {report.refused}", report)
    return report


def _ingest_in(
    conn: Connection,
    source: Path,
    format: str,
    pieces: list[Piece],
    warnings: list[str],
    total: int,
    progress: bool | None,
    chunk_rows: int,
    max_quarantined: float | None,
    as_of: dt.date,
) -> IngestReport:
    """The ingest inside its transaction (foreign keys checked once, at the end, on SQLite)."""
    with bar(total, desc="ingest", progress=progress) as pbar:
        ingest_id = conn.execute(
            sa.insert(IngestRun.__table__).values(source=str(source.resolve()), format=format, started_at=utcnow())
        ).inserted_primary_key[0]
        touched = Touched()
        data = conn.begin_nested()
        reports = _load_pieces(conn, ingest_id, pieces, pbar, warnings, touched, chunk_rows, as_of=as_of)
        report = IngestReport(ingest_id, str(source), format, reports, warnings)
        report.refused = over_limit(report.read, report.quarantined, max_quarantined)
        if report.refused:
            # nothing of it loads; its quarantined rows stay as the evidence (read once more)
            data.rollback()
            with bar(0, progress=False) as quiet:
                _load_pieces(conn, ingest_id, pieces, quiet, [], Touched(), chunk_rows, load=False, as_of=as_of)
        else:
            data.commit()
            # rollups hook (2/2): households and customers it touched are current when this commits
            refresh_after_ingest(conn, touched)
        # SQLite checked no foreign key row by row in this transaction: every table it wrote, once
        written = [r.table for r in reports if r.loaded and not report.refused]
        check_foreign_keys(conn, list(dict.fromkeys([*written, *_ALSO_WRITTEN])))
        conn.execute(
            sa.update(IngestRun.__table__)
            .where(IngestRun.ingest_id == ingest_id)
            .values(
                finished_at=utcnow(),
                read=report.read,
                loaded=0 if report.refused else report.loaded,
                quarantined=report.quarantined,
                summary=report.to_dict(),
            )
        )
    return report
