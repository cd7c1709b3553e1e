"""Progress bars: tqdm.auto (a widget in Jupyter, a bar in a terminal), switchable off."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from tqdm.auto import tqdm

__all__ = ["bar", "enabled", "Stopwatch"]


def enabled(progress: bool | None = None) -> bool:
    if progress is not None:
        return progress
    return os.environ.get("CLIENTSTRATA_PROGRESS", "1") not in ("0", "false", "no")


def bar(total: int | None = None, desc: str = "", unit: str = "rows", progress: bool | None = None):
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled(progress),
        leave=False,
        unit_scale=False,  # whole counts ("3/7 steps"); scaling prints "3.00/7.00" and "1.23k"
        dynamic_ncols=True,
    )


class Stopwatch(dict):
    """Seconds per named phase, summed over every time it is entered: `with watch("write"):`.
    A run reports them, so an operator sees where its time went without a profiler."""

    @contextmanager
    def __call__(self, phase: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self[phase] = self.get(phase, 0.0) + time.perf_counter() - t

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in self.items()}
