"""Cooperation depth (合作深度): basic service, comprehensive, ecosystem synergy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._tags import tag_frame

__all__ = ["cooperation_depth", "ecosystem_links"]


def ecosystem_links(features: pd.DataFrame, std: Standard) -> pd.Series:
    """Graph links to other customers counted by the standard (payroll, control, household…)."""
    links = std.dimensions["cooperation_depth"]["ecosystem_links"]
    return features.reindex(columns=links).fillna(0).sum(axis=1).astype("int64")


def cooperation_depth(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """From the product families held (`families`, comma-joined) and the graph's ecosystem
    link counts (`payroll_employer`, `controls`, `household_members`, `co_holders`, `supply_chain`)."""
    spec = std.dimensions["cooperation_depth"]
    basic, comp, eco = spec["classes"]
    basic_fams = set(spec["basic_families"])
    links = spec["ecosystem_links"]
    fams = features["families"].fillna("").map(lambda s: sorted(f for f in s.split(",") if f))
    n_other = fams.map(lambda f: sum(1 for x in f if x not in basic_fams)).to_numpy()
    n_links = ecosystem_links(features, std).to_numpy()
    is_eco = (n_other >= eco.get("min_other_families", 0)) & (n_links >= eco.get("min_ecosystem_links", 1))
    is_comp = ~is_eco & (n_other >= comp.get("min_other_families", 1))
    pick = np.select([is_eco, is_comp], [2, 1], default=0)
    counts = features.reindex(columns=links).fillna(0).astype("int64")
    held = [", ".join(f) or "nothing" for f in fams]
    ties = [", ".join(f"{k}={v}" for k, v in zip(links, row) if v) for row in counts.to_numpy().tolist()]
    beyond = "/".join(sorted(basic_fams))
    rule = [
        f"holds {h}; {o} beyond {beyond}; linked to other customers ({t})"
        if p == 2
        else f"holds {h}: {o} famil{'y' if o == 1 else 'ies'} beyond deposits and payments"
        if p == 1
        else f"holds {h}: deposits and payments only"
        if f
        else "holds no products"
        for h, o, t, p, f in zip(held, n_other.tolist(), ties, pick.tolist(), fams)
    ]
    inputs = [{"families": f, **dict(zip(links, row))} for f, row in zip(fams, counts.to_numpy().tolist())]
    return tag_frame(
        features["customer_id"], "cooperation_depth", spec["classes"], pick, n_links.astype(float), rule, inputs, std
    )
