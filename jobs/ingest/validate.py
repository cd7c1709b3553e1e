"""Vectorised validation and normalisation of one chunk of one bundle table.

Input is text exactly as read (every cell a string, "" for empty); output is the typed,
normalised good rows plus every bad row with all of its reasons, so a data steward can
fix a row in one pass instead of one error at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from .bundle import DATE_MAX, DATE_MIN, Column, Table
from .seen import SeenKeys, key_hashes, repeats_within

__all__ = ["Validated", "validate_chunk", "KeyLookup", "UniqueLookup", "ROW", "SHAPE"]

ROW = "_row"  # 1-based data row number in the source file, carried through validation
SHAPE = "_shape_error"  # set by the tolerant CSV reader on rows with a wrong field count

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")
# a UTC offset after a time of day ("…T10:00:00+08:00", "…Z"): the record keeps the wall time
_OFFSET = r"(?<=\d)(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_MAY_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"  # a superset of _OFFSET's matches
# every character Python's \s matches (str.isspace: 29, all below U+3001), written out: pandas
# runs a pattern with \s in Python value by value, since RE2's \s is ASCII and misses some; this
# class goes to Arrow's RE2 and matches the same (a test holds it to Python's \s)
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_TIME_MARK = f"[T:{_SPACES}]"  # a time of day follows: what r"[T:\s]" matched

# (table, column) -> values already known (in the database or loaded earlier in this ingest):
# a set (fast membership for millions of parent keys) or a pd.Index
KeyLookup = Callable[[str, str], "set[str] | pd.Index"]
# (table, unique column, key column) -> unique value -> owning key, from the database
UniqueLookup = Callable[[str, str, str], "dict | pd.Series"]


@dataclass
class Validated:
    good: pd.DataFrame  # contract columns, typed; plus ROW
    bad: pd.DataFrame  # ROW, reason, and the raw contract columns


class _Reasons:
    """Collects per-row messages without a Python loop over rows."""

    def __init__(self, index: pd.Index) -> None:
        self.text = pd.Series("", index=index, dtype=object)

    def add(self, mask: pd.Series, message: str | pd.Series | Callable[[pd.Series], pd.Series]) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        if callable(message):
            message = message(mask).reindex(mask.index)
        msg = message[mask] if isinstance(message, pd.Series) else message
        cur = self.text[mask]
        self.text[mask] = np.where(cur == "", msg, cur + "; " + msg)

    @property
    def bad(self) -> pd.Series:
        return self.text != ""


def _isin(values: pd.Series, known) -> pd.Series:
    """Membership without pandas' isin, which hashes the whole parent set on every call
    (seconds per chunk against a few million accounts)."""
    if isinstance(known, (set, frozenset)):
        hits = [v in known for v in values.to_numpy(dtype=object)]
        return pd.Series(np.array(hits, dtype=bool), index=values.index)
    return values.isin(known)


def _said(prefix: str, raw: pd.Series, suffix: str = ""):
    """A message quoting the raw cell, built only for the rows that break the rule: quoting
    every cell of every column of a clean chunk cost more than the checks themselves."""
    return lambda mask: prefix + _quote(raw[mask]) + suffix


def _quote(raw: pd.Series) -> pd.Series:
    return "'" + raw.str.slice(0, 40) + "'"


def _parse_date(s: pd.Series) -> pd.Series:
    # microseconds, not nanoseconds: year 0001 or 9999 must reach the plausibility check as a
    # date, where datetime64[ns] (1677–2262) raised and stopped the whole ingest
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    for fmt in _DATE_FORMATS:
        todo = out.isna() & (s != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(s[todo], format=fmt, errors="coerce").astype("datetime64[us]")
    return out


def _parse_datetime(s: pd.Series) -> pd.Series:
    """ISO 8601 date-times as wall time. The offset is dropped from the text before parsing: rows
    with different offsets (+08:00 beside Z) made pandas refuse the whole chunk, and the record
    stores the wall time of an aware value anyway."""
    timed = s.str.contains(_TIME_MARK, regex=True)
    # the offset's look-behind makes pandas run the replacement in Python, value by value: only
    # on the values that may carry one (an offset-free search runs vectorised)
    offset = timed & s.str.contains(_MAY_OFFSET, regex=True)
    wall = s.copy()
    if offset.any():
        wall[offset] = s[offset].str.replace(_OFFSET, "", regex=True)
    out = pd.to_datetime(wall.where(s != "", None), format="ISO8601", errors="coerce")
    return out.astype("datetime64[us]")


def _id_number_ok(s: pd.Series) -> pd.Series:
    """ISO 7064 MOD 11-2 check character and an embedded birth date that exists."""
    shaped = s.str.fullmatch(r"\d{17}[\dX]")
    ok = pd.Series(False, index=s.index)
    if not shaped.any():
        return ok
    v = s[shaped]
    digits = np.frombuffer("".join(v.str.slice(0, 17)).encode(), dtype=np.uint8).reshape(-1, 17) - 48
    expected = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    birth = pd.to_datetime(v.str.slice(6, 14), format="%Y%m%d", errors="coerce")
    ok[shaped] = (expected == v.str.slice(17).to_numpy()) & birth.notna().to_numpy()
    return ok


def _normalise(col: Column, s: pd.Series) -> pd.Series:
    if col.normalise == "upper" or col.normalise == "id_number":
        return s.str.upper()
    if col.normalise == "phone":
        s = s.str.replace(r"[\s\-()]", "", regex=True)
        return s.str.replace(r"^(?:\+86|0086|86(?=1\d{10}$))", "", regex=True)
    return s


def _parse_column(col: Column, raw: pd.Series, reasons: _Reasons, as_of: dt.date | None = None) -> pd.Series:
    """Returns the typed column; adds a reason for every bad cell. `as_of` bounds the events
    (`Column.past`): nothing is born, opened or booked after the date the data describes."""
    s = _normalise(col, raw.str.strip())
    present = s != ""
    if col.required:
        reasons.add(~present, f"{col.name} is required")
    name = col.name
    if col.kind in ("str",):
        out = s.where(present, None)
        if col.pattern:
            reasons.add(present & ~s.str.fullmatch(col.pattern), _said(name + ": bad format ", raw))
        if col.normalise == "phone":
            ok = s.str.fullmatch(r"1[3-9]\d{9}|0\d{9,11}")
            reasons.add(present & ~ok, _said(name + ": not a phone number ", raw))
        if col.normalise == "id_number":
            reasons.add(present & ~_id_number_ok(s), name + ": not a valid resident ID number")
    elif col.kind in ("int", "decimal", "float"):
        num = pd.to_numeric(s, errors="coerce")
        retry = present & num.isna()  # "1,234.50": separators are rare, and stripping them with a
        if retry.any():  # regex runs in Python per value, so only where plain parsing failed
            num[retry] = pd.to_numeric(s[retry].str.replace(r"[,_\s]", "", regex=True), errors="coerce")
        reasons.add(present & num.isna(), _said(name + ": not a number ", raw))
        if col.kind == "int":
            frac = present & num.notna() & (num != np.floor(num))
            reasons.add(frac, _said(name + ": not a whole number ", raw))
        if col.min is not None:
            reasons.add(num < col.min, _said(f"{name}: below the minimum {col.min:g}: ", raw))
        if col.max is not None:
            reasons.add(num > col.max, _said(f"{name}: above the maximum {col.max:g}: ", raw))
        out = num.round().astype("Int64") if col.kind == "int" else num.astype("float64")
        if col.kind == "decimal":
            out = out.round(2)
    elif col.kind in ("date", "datetime"):
        d = _parse_date(s) if col.kind == "date" else _parse_datetime(s)
        form = "a date (YYYY-MM-DD)" if col.kind == "date" else "an ISO 8601 date-time"
        reasons.add(present & d.isna(), _said(f"{name}: not {form} ", raw))
        plausible = d.dt.year.between(DATE_MIN, DATE_MAX)
        reasons.add(d.notna() & ~plausible, _said(name + ": implausible year ", raw))
        if col.past and as_of is not None:
            late = plausible & (d.dt.normalize() > pd.Timestamp(as_of))
            reasons.add(late, _said(f"{name}: after the as-of date {as_of.isoformat()} ", raw))
        out = d
    elif col.kind == "bool":
        low = s.str.lower()
        ok = low.isin(_TRUE | _FALSE)
        reasons.add(present & ~ok, _said(name + ": not true/false ", raw))
        out = pd.Series(low.isin(_TRUE), index=s.index, dtype="boolean").where(present & ok, pd.NA)
    elif col.kind == "enum":
        canon = {c.casefold(): c for c in col.choices}
        # a handful of distinct values per column: each casefolded once, not once per row
        codes, distinct = pd.factorize(s)
        named = np.array(
            [canon.get(v.casefold()) if isinstance(v, str) else None for v in distinct] + [None], dtype=object
        )
        out = pd.Series(named[codes], index=s.index)  # code -1 (missing) takes the None at the end
        allowed = ", ".join(col.choices)
        reasons.add(present & out.isna(), _said(name + ": ", raw, f" is not one of {allowed}"))
        out = out.astype(object).where(out.notna(), None)
    elif col.kind == "month":
        ok = s.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")
        reasons.add(present & ~ok, _said(name + ": not a month (YYYY-MM) ", raw))
        if col.past and as_of is not None:
            late = ok.fillna(False).astype(bool) & (s > as_of.strftime("%Y-%m"))
            reasons.add(late, _said(f"{name}: after the as-of date {as_of.isoformat()} ", raw))
        out = s.where(present, None)
    else:  # pragma: no cover - guarded by the Kind literal
        raise ValueError(col.kind)
    # an empty cell stays empty, also where the column has a default: the load gives a new row
    # the default and keeps an updated row's stored value (bundle.md, "Updates")
    return out


def validate_chunk(
    table: Table,
    raw: pd.DataFrame,
    known: KeyLookup,
    owners: UniqueLookup,
    seen: dict[str, dict] | None = None,
    as_of: dt.date | None = None,
) -> Validated:
    """Validate one chunk. `seen` carries keys and unique values across chunks of one file
    (name -> SeenKeys, filled in here); events after `as_of` are bad rows (None: not checked)."""
    seen = {} if seen is None else seen
    raw = raw.reset_index(drop=True)
    reasons = _Reasons(raw.index)
    if SHAPE in raw:
        reasons.add(raw[SHAPE] != "", raw[SHAPE])
    missing = [c.name for c in table.columns if c.name not in raw.columns]
    for name in missing:
        raw[name] = ""
        if table.column(name).required:
            reasons.add(pd.Series(True, index=raw.index), f"file lacks required column {name}")

    typed = pd.DataFrame(
        {c.name: _parse_column(c, raw[c.name].astype(str), reasons, as_of) for c in table.columns}, index=raw.index
    )

    for col, limit in _lengths(table.name, tuple(c.name for c in table.columns if c.kind == "str")):
        # the record's column is VARCHAR(limit): PostgreSQL would refuse the whole load for one row
        reasons.add(typed[col].str.len() > limit, f"{col}: longer than {limit} characters")

    for chk in table.checks:
        left, right = typed[chk.left], typed[chk.right]
        both = left.notna() & right.notna()
        broken = both & ~(left >= right if chk.op == ">=" else left != right)
        reasons.add(broken, chk.message)

    for col in table.columns:
        if col.references:
            ref_table, ref_col = col.references
            vals = typed[col.name]
            dangling = vals.notna() & ~_isin(vals, known(ref_table, ref_col))
            reasons.add(dangling, _said(col.name + " ", raw[col.name], f" not found in {ref_table}"))
    if table.polymorphic:
        col, type_col, targets = table.polymorphic
        for kind, (ref_table, ref_col) in targets.items():
            rows = typed[type_col] == kind
            dangling = rows & ~_isin(typed[col].where(rows, ""), known(ref_table, ref_col))
            reasons.add(dangling, _said(col + " ", raw[col], f" not found in {ref_table}"))

    _check_duplicates(table, typed, raw, reasons, owners, seen)

    bad = reasons.bad
    good = typed[~bad].copy()
    good[ROW] = raw.loc[~bad, ROW].astype(int)
    bad_rows = raw.loc[bad, [ROW] + table.column_names].copy()
    bad_rows.insert(1, "reason", reasons.text[bad])
    return Validated(good=good, bad=bad_rows)


@cache
def _lengths(table: str, text_columns: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """(column, VARCHAR length) of a table's text columns, read from the record's own model."""
    from clientstrata.graph.record.models import Base

    record = Base.metadata.tables[table]
    return tuple((c, record.c[c].type.length) for c in text_columns if getattr(record.c[c].type, "length", None))


def _check_duplicates(
    table: Table,
    typed: pd.DataFrame,
    raw: pd.DataFrame,
    reasons: _Reasons,
    owners: UniqueLookup,
    seen: dict[str, SeenKeys],
) -> None:
    """Keys and unique columns: the first valid row wins, later ones are quarantined."""
    key = list(table.key)
    cand = ~reasons.bad
    key_str = typed[key[0]].astype(str)
    for k in key[1:]:  # vectorised: a row-wise join took most of the ingest of monthly balances
        key_str = key_str + "|" + typed[k].astype(str)
    _first_wins(
        key_str,
        cand,
        raw[ROW],
        reasons,
        seen.setdefault("key", SeenKeys()),
        "duplicate of row {first} (same " + ", ".join(key) + ")",
    )
    for ucol in table.unique:
        cand = ~reasons.bad & typed[ucol].notna()
        vals = typed[ucol].astype(str)
        if cand.any():
            # the database: a value already owned by another key is the same person twice
            existing = owners(table.name, ucol, key[0])
            owner = vals[cand].map(existing)
            clash = owner.notna() & (owner != typed.loc[cand, key[0]])
            reasons.add(
                clash.reindex(typed.index, fill_value=False),
                f"{ucol} already belongs to " + owner.reindex(typed.index).astype(object).fillna("").astype(str),
            )
        cand = ~reasons.bad & typed[ucol].notna()
        _first_wins(vals, cand, raw[ROW], reasons, seen.setdefault(ucol, SeenKeys()), ucol + " repeats row {first}")


def _first_wins(
    values: pd.Series, cand: pd.Series, rows: pd.Series, reasons: _Reasons, seen: SeenKeys, template: str
) -> None:
    if not cand.any():
        return
    v = values[cand]
    r = rows[cand].astype(int)
    hashes = key_hashes(v)  # once per chunk, for the earlier chunks' keys and for this one's
    first = seen.first_rows(v, hashes)  # seen in an earlier chunk
    if repeats_within(hashes):  # only then is pandas asked which rows repeat (two more hashings)
        dup_here = v.duplicated(keep="first")
        first = first.where(first.notna(), r.groupby(v).transform("first").where(dup_here))
    is_dup = first.notna()
    if is_dup.any():
        msgs = pd.Series("", index=values.index, dtype=object)
        msgs[first.index[is_dup]] = [template.format(first=int(f)) for f in first[is_dup]]
        reasons.add(is_dup.reindex(values.index, fill_value=False), msgs)
    fresh = ~is_dup.to_numpy()
    seen.add(v[fresh], r[fresh], (hashes[0][fresh], hashes[1][fresh]))
