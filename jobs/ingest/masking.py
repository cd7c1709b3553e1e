"""PII in bundle values, masked as the API masks it (graph/record/pii.py, JR/T 0171-2020).

Which columns are PII is the bundle contract's `pii` flag; each gets the mask of its kind. Used
wherever an ingest shows values to someone who may not hold `read_pii`: the change sample of the
ingest report and the quarantine.
"""

from __future__ import annotations

from collections.abc import Callable

from clientstrata.graph.record.pii import mask_account_number, mask_address, mask_id_number, mask_phone

from .bundle import TABLE_BY_NAME

__all__ = ["pii_columns", "mask_cell", "mask_any"]

_BY_NAME: dict[str, Callable[[str | None], str | None]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "address": mask_address,
}


def pii_columns(table: str) -> tuple[str, ...]:
    t = TABLE_BY_NAME.get(table)
    return tuple(c.name for c in t.columns if c.pii) if t else ()


def mask_any(value: object) -> object:
    """A value that may be anything, PII included: its length and outer characters only."""
    if value is None or value == "":
        return value
    text = str(value)
    if len(text) <= 4:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_cell(table: str, column: str, value: object) -> object:
    """The value as a reader without `read_pii` sees it: PII masked by its kind (account numbers
    and any other PII column: first six and last four), everything else as it is."""
    if column not in pii_columns(table) or value is None or value == "":
        return value
    return _BY_NAME.get(column, mask_account_number)(str(value))
