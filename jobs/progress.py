"""Progress bars: tqdm.auto (a widget in Jupyter, a bar in a terminal), switchable off."""
from __future__ import annotations

import os

from tqdm.auto import tqdm

__all__ = ["bar", "enabled"]


def enabled(progress: bool | None = None) -> bool:
    if progress is not None:
        return progress
    return os.environ.get("CLIENTSTRATA_PROGRESS", "1") not in ("0", "false", "no")


def bar(total: int | None = None, desc: str = "", unit: str = "rows", progress: bool | None = None):
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled(progress), leave=False,
                unit_scale=True, dynamic_ncols=True)
