"""Cooperation depth (合作深度): basic service, comprehensive, ecosystem synergy."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..standard import Standard
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

    def why(i: int) -> str:
        held = ", ".join(fams.iat[i]) or "nothing"
        if pick[i] == 2:
            ties = ", ".join(f"{k}={int(counts[k].iat[i])}" for k in links if counts[k].iat[i])
            return f"holds {held}; {n_other[i]} beyond {'/'.join(sorted(basic_fams))}; linked to other customers ({ties})"
        if pick[i] == 1:
            return f"holds {held}: {n_other[i]} famil{'y' if n_other[i] == 1 else 'ies'} beyond deposits and payments"
        return f"holds {held}: deposits and payments only" if fams.iat[i] else "holds no products"

    inputs = [{"families": fams.iat[i], **{k: int(counts[k].iat[i]) for k in links}} for i in range(len(features))]
    return tag_frame(features["customer_id"], "cooperation_depth", spec["classes"], pick, n_links.astype(float),
                     [why(i) for i in range(len(features))], inputs, std)
