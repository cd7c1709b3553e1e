"""PII masking per JR/T 0171-2020 (C2 identifying data): shown only to roles that need it."""

from __future__ import annotations

import re

__all__ = ["mask_id_number", "mask_phone", "mask_account_number", "mask_address", "mask_email"]

# the last administrative unit an address may show: province, city, district or county
_REGION_END = re.compile(r"^.*?(?:省|自治区|市|区|县|旗)(?!.*(?:市|区|县|旗))")


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


def mask_address(value: str | None) -> str | None:
    """北京市朝阳区***: the region down to district or county, never the street and number."""
    if not value:
        return value
    region = _REGION_END.match(value)
    keep = len(region.group(0)) if region and region.end() < len(value) else len(value) // 3
    return value[:keep] + "*" * (len(value) - keep)


def mask_email(value: str | None) -> str | None:
    """z***@example.com: the first letter of the mailbox and the domain."""
    if not value or "@" not in value:
        return _mask(value, 1, 0)
    box, domain = value.rsplit("@", 1)
    return (box[:1] + "***" if box else "***") + "@" + domain
