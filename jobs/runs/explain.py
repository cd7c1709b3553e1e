"""Stored tags put into words for whoever reads them, in English and Chinese.

A tag keeps a rule key and its inputs (`dimensions._explain`); its reason is written here, when
read, from the standard of the run being read (by the run's sha256, parsed once per process:
a standard's text never changes under its hash). A manual override in force leads the words
with who decided it and why, then the computed reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from sqlalchemy.engine import Connection

from clientstrata.graph.record.queries import tags_by_customer
from clientstrata.jobs.classification.dimensions import explain
from clientstrata.jobs.classification.standard import Standard, load_standard, parse_standard
from clientstrata.jobs.governance.standards import registered_text

__all__ = [
    "computed_words",
    "explained",
    "override_decision",
    "explained_tags",
    "with_standards",
    "words",
    "standard_by_sha",
]

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
        text = registered_text(conn, sha256)
        found = parse_standard(text, f"registered standard {sha256[:12]}") if text else packaged
        if len(_PARSED) >= _KEEP:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[sha256] = found
    return found


def override_decision(override_id: int, proposed_by, approved_by, reason, lang: str = "en") -> str:
    """Who decided a manual override and why: how a tag's words and the change feed name it."""
    if lang == "zh":
        return f"人工调整 #{override_id}（{proposed_by} 提出，{approved_by} 批准）：{reason}"
    return f"manual override #{override_id} (proposed by {proposed_by}, approved by {approved_by}): {reason}"


def _override_words(row: Mapping, computed: str, lang: str) -> str:
    who, by, why = row.get("override_proposed_by"), row.get("overridden_by"), row.get("override_reason")
    lead = override_decision(row["override_id"], who, by, why, lang)
    if lang == "zh":
        return f"{lead}；系统计算：{row['computed_value']} — {computed}"
    return f"{lead}; computed: {row['computed_value']} — {computed}"


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


def with_standards(conn: Connection, rows: Sequence[dict]) -> list:
    """`rows` (tags with dimension, value, labels, score, rule, inputs, and the `standard_sha256`
    of their run, which the readers' queries bring along) each given that `standard`, so `words`
    can put it into either language when, and only if, someone asks."""
    for row in rows:
        row["standard"] = standard_by_sha(conn, row["standard_sha256"])
    return list(rows)


def words(row: Mapping, lang: str = "en") -> str:
    """The reason of one tag row (given its `standard` by `with_standards`) in `lang`."""
    computed = explain(_computed(row), row["standard"], lang)
    return computed if row.get("override_id") is None else _override_words(row, computed, lang)


def computed_words(row: Mapping, lang: str = "en") -> str:
    """The reason the run gave for its own value, whatever override is in force now."""
    return explain(_computed(row), row["standard"], lang)


def explained(conn: Connection, rows: Sequence[dict]) -> list[dict]:
    """`with_standards`, and the words now: `explanation` (English) and `explanation_zh`."""
    for row in with_standards(conn, rows):
        row["explanation"], row["explanation_zh"] = words(row, "en"), words(row, "zh")
    return list(rows)


def explained_tags(conn: Connection, ids: Sequence[str], run_id: int | None = None, at=None) -> dict[str, list[dict]]:
    """`queries.tags_by_customer`, each tag ready for `words` (its run's standard attached)."""
    found = tags_by_customer(conn, ids, run_id, at=at)
    for tags in found.values():
        with_standards(conn, tags)
    return found
