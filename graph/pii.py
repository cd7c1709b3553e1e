"""PII masking per JR/T 0171-2020 (C2 identifying data): shown only to roles that need it."""
from __future__ import annotations

__all__ = ["mask_id_number", "mask_phone", "mask_account_number"]


def _mask(value: str | None, head: int, tail: int) -> str | None:
    if not value:
        return value
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id_number(value: str | None) -> str | None:
    """110***********1234: region prefix and the last four."""
    return _mask(value, 3, 4)


def mask_phone(value: str | None) -> str | None:
    """138****8000."""
    return _mask(value, 3, 4)


def mask_account_number(value: str | None) -> str | None:
    """First six (the bank identification number) and last four."""
    return _mask(value, 6, 4)
