"""The reports by their CLI names, and `run_report` that runs one with the caller's options."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from clientstrata.graph.errors import InvalidInput

from .books import branch_view, rm_book
from .concentration import contribution_concentration
from .quality import data_quality
from .segments import clusters, distribution, tier_distribution

REPORTS: dict[str, Callable[..., pd.DataFrame]] = {
    "tiers": tier_distribution,
    "concentration": contribution_concentration,
    "branches": branch_view,
    "rm-book": rm_book,
    "data-quality": data_quality,
    "clusters": clusters,
    "distribution": distribution,
}


def run_report(name: str, engine=None, **options) -> pd.DataFrame:
    """Run a report by its CLI name; options not given (None) take the report's default."""
    import inspect

    from clientstrata.graph.record.db import get_engine, migrate

    if name not in REPORTS:
        raise InvalidInput(f"no report {name!r}; reports: {', '.join(REPORTS)}")
    fn = REPORTS[name]
    params = inspect.signature(fn).parameters
    unknown = [k for k, v in options.items() if v is not None and k not in params]
    if unknown:
        raise InvalidInput(f"report {name} takes no {', '.join('--' + k.replace('_', '-') for k in unknown)}")
    if (
        "dimension" in params
        and params["dimension"].default is inspect.Parameter.empty
        and options.get("dimension") is None
    ):
        raise InvalidInput(f"report {name} needs --dimension (e.g. wealth_tier, cooperation_depth)")
    engine = engine or get_engine()
    migrate(engine)
    with engine.connect() as conn:
        return fn(conn, **{k: v for k, v in options.items() if v is not None and k in params})
