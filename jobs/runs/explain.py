"""Stored tags put into words for whoever reads them, in English and Chinese.

A tag keeps a rule key and its inputs (`dimensions._explain`); its reason is written here, when
read, from the standard of the run being read (by the run's sha256, parsed once per process:
a standard's text never changes under its hash). A manual override in force leads the words
with who decided it and why, then the computed reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import ClassificationRun, StandardVersion
from clientstrata.graph.record.queries import tags_by_customer
from clientstrata.jobs.classification.dimensions import explain
from clientstrata.jobs.classification.standard import Standard, load_standard, parse_standard

__all__ = ["explained", "explained_tags", "with_standards", "words", "standard_by_sha", "run_standards"]

_runs, _standards = ClassificationRun.__table__, StandardVersion.__table__
_PARSED: dict[str, Standard] = {}
_KEEP = 32  # standards parsed and kept per process; a bank runs a handful


@cache
def _packaged() -> Standard:
    return load_standard()


def standard_by_sha(conn: Connection, sha256: str | None) -> Standard:
    """The registered standard with this hash (the packaged one when unknown: tags stored before
    the register kept their words, so nothing read here depends on it)."""
    packaged = _packaged()
    if sha256 is None or sha256 == packaged.sha256:  # the one in the package needs no read
        return packaged
    found = _PARSED.get(sha256)
    if found is None:
        text = conn.execute(sa.select(_standards.c.text).where(_standards.c.sha256 == sha256)).scalar()
        found = parse_standard(text, f"registered standard {sha256[:12]}") if text else packaged
        if len(_PARSED) >= _KEEP:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[sha256] = found
    return found


def run_standards(conn: Connection, run_ids: Iterable[int]) -> dict[int, Standard]:
    """run_id → the standard it ran, in one read."""
    ids = sorted({int(r) for r in run_ids if r is not None})
    if not ids:
        return {}
    rows = conn.execute(sa.select(_runs.c.run_id, _runs.c.standard_sha256).where(_runs.c.run_id.in_(ids))).all()
    return {run: standard_by_sha(conn, sha) for run, sha in rows}


def _override_words(row: Mapping, computed: str, lang: str) -> str:
    who, by, why = row.get("override_proposed_by"), row.get("overridden_by"), row.get("override_reason")
    if lang == "zh":
        return f"人工调整 #{row['override_id']}（{who} 提出，{by} 批准）：{why}；系统计算：{row['computed_value']} — {computed}"
    return (
        f"manual override #{row['override_id']} (proposed by {who}, approved by {by}): {why}; "
        f"computed: {row['computed_value']} — {computed}"
    )


def _computed(row: Mapping) -> dict:
    """The tag as the run computed it (an override replaces value and labels for readers)."""
    if row.get("override_id") is None:
        return dict(row)
    return {
        **row,
        "value": row["computed_value"],
        "label_zh": row.get("computed_label_zh", row["label_zh"]),
        "label_en": row.get("computed_label_en", row["label_en"]),
    }


def with_standards(conn: Connection, rows: Sequence[dict], standards: Mapping[int, Standard] | None = None) -> list:
    """`rows` (tags with dimension, value, labels, score, rule, inputs and run_id, and the run's
    `standard_sha256` when the query brought it) each given the `standard` of its run, so
    `words` can put it into either language when, and only if, someone asks."""
    if standards is None and rows and all("standard_sha256" in r for r in rows):
        shas = {r["run_id"]: r["standard_sha256"] for r in rows}
        standards = {run: standard_by_sha(conn, sha) for run, sha in shas.items()}
    elif standards is None:
        standards = run_standards(conn, (r["run_id"] for r in rows))
    for row in rows:
        row["standard"] = standards.get(row["run_id"]) or _packaged()
    return list(rows)


def words(row: Mapping, lang: str = "en") -> str:
    """The reason of one tag row (given its `standard` by `with_standards`) in `lang`."""
    computed = explain(_computed(row), row["standard"], lang)
    return computed if row.get("override_id") is None else _override_words(row, computed, lang)


def explained(conn: Connection, rows: Sequence[dict], standards: Mapping[int, Standard] | None = None) -> list[dict]:
    """`with_standards`, and the words now: `explanation` (English) and `explanation_zh`."""
    for row in with_standards(conn, rows, standards):
        row["explanation"], row["explanation_zh"] = words(row, "en"), words(row, "zh")
    return list(rows)


def explained_tags(conn: Connection, ids: Sequence[str], run_id: int | None = None, at=None) -> dict[str, list[dict]]:
    """`queries.tags_by_customer`, each tag ready for `words` (its run's standard attached)."""
    found = tags_by_customer(conn, ids, run_id, at=at)
    for tags in found.values():
        with_standards(conn, tags)
    return found
