"""Fixtures for the jobs' tests: a run killed at a named point of its publish."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clientstrata.jobs.runs.pipeline import RunHook


@pytest.fixture
def crash_run() -> Callable[..., RunHook]:
    """crash_run(stage, rows=0): a `classify(on_stage=…)` hook that raises at `stage`
    (`TAGS_WRITTEN`, `BEFORE_COMMIT`) once `rows` tag rows are written — a run that dies there."""

    def make(stage: str, rows: int = 0) -> RunHook:
        def hook(at: str, written: int) -> None:
            if at == stage and written >= rows:
                raise RuntimeError(f"simulated failure at {stage!r}")

        return hook

    return make
