"""Pure classification functions: features DataFrame in, tags DataFrame out.

No I/O and no global state, so the same functions run per partition on Spark
(`mapInPandas`) when a bank outgrows one machine. Every tag says why: the inputs it used,
the rule that fired and the standard version.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .standard import Standard

__all__ = ["TAG_COLUMNS", "wealth_tier", "cooperation_depth"]

TAG_COLUMNS = ["customer_id", "dimension", "value", "label_zh", "label_en", "score", "rule",
               "inputs", "standard_version"]


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def wealth_tier(monthly: pd.DataFrame, customers: pd.Series, std: Standard) -> pd.DataFrame:
    """Tier from monthly daily-average AUM (long frame customer_id, month, aum), stable as banks
    run it: up as soon as a month's average meets a higher band; down only after the band's
    `downgrade_after_months` consecutive months below it, flagged "watch" (关注) meanwhile."""
    spec = std.dimensions["wealth_tier"]
    bands = spec["bands"]
    mins = np.array([b["min"] for b in bands], dtype=float)
    grace = np.array([b.get("downgrade_after_months", 3) for b in bands])
    wide = (monthly.pivot_table(index="customer_id", columns="month", values="aum", aggfunc="sum")
            .reindex(customers, fill_value=np.nan).fillna(0.0).sort_index(axis=1))
    months = list(wide.columns)
    aum = wide.to_numpy() if months else np.zeros((len(customers), 1))
    raw = np.searchsorted(mins, aum, side="right") - 1  # band index each month
    tier = raw[:, 0].copy()
    below = np.zeros(len(tier), dtype=int)
    for t in range(1, raw.shape[1]):
        r = raw[:, t]
        up = r > tier
        down = r < tier
        below = np.where(down, below + 1, 0)
        demote = down & (below >= grace[tier])
        tier = np.where(up, r, np.where(demote, r, tier))
        below = np.where(demote | up, 0, below)
    latest = aum[:, -1]
    hnw = latest >= float(spec.get("hnw_min", np.inf))
    rules = []
    for i in range(len(tier)):
        b = bands[tier[i]]
        if below[i]:
            rule = (f"month-average AUM {_fmt(latest[i])} is below {b['label_en']} (min {_fmt(b['min'])}) for "
                    f"{below[i]} of {grace[tier[i]]} months: stays {b['label_en']}, on watch (关注)")
        else:
            nxt = f" < {_fmt(mins[tier[i] + 1])}" if tier[i] + 1 < len(mins) else ""
            rule = f"month-average AUM {_fmt(latest[i])} ≥ {_fmt(b['min'])}{nxt} → {b['label_en']} ({b['label_zh']})"
        if hnw[i]:
            rule += f"; ≥ {_fmt(spec['hnw_min'])}: high net worth (高净值)"
        rules.append(rule)
    inputs = [{"aum": round(float(latest[i]), 2), "month": months[-1] if months else None,
               "months_below": int(below[i]), "watch": bool(below[i]), "hnw": bool(hnw[i]),
               "monthly_aum": {m: round(float(v), 2) for m, v in zip(months, aum[i])}}
              for i in range(len(tier))]
    return pd.DataFrame({
        "customer_id": list(wide.index), "dimension": "wealth_tier",
        "value": [bands[t]["value"] for t in tier], "label_zh": [bands[t]["label_zh"] for t in tier],
        "label_en": [bands[t]["label_en"] for t in tier], "score": np.round(latest, 2),
        "rule": rules, "inputs": inputs, "standard_version": std.version,
    }, columns=TAG_COLUMNS)


def cooperation_depth(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Basic service / comprehensive / ecosystem synergy from the product families held
    (`families`, comma-joined) and the graph's ecosystem link counts."""
    spec = std.dimensions["cooperation_depth"]
    basic, comp, eco = spec["classes"]
    basic_fams = set(spec["basic_families"])
    links = spec["ecosystem_links"]
    fams = features["families"].fillna("").map(lambda s: sorted(f for f in s.split(",") if f))
    other = fams.map(lambda f: [x for x in f if x not in basic_fams])
    n_other = other.map(len)
    n_links = features[links].sum(axis=1)
    is_eco = (n_other >= eco.get("min_other_families", 0)) & (n_links >= eco.get("min_ecosystem_links", 1))
    is_comp = ~is_eco & (n_other >= comp.get("min_other_families", 1))
    pick = np.select([is_eco, is_comp], [2, 1], default=0)
    classes = [basic, comp, eco]

    def why(i: int) -> str:
        held = ", ".join(fams.iat[i]) or "nothing"
        if pick[i] == 2:
            ties = ", ".join(f"{k}={int(features[k].iat[i])}" for k in links if features[k].iat[i])
            return f"holds {held}; {n_other.iat[i]} beyond {'/'.join(sorted(basic_fams))}; linked to other customers ({ties})"
        if pick[i] == 1:
            return f"holds {held}: {n_other.iat[i]} famil{'y' if n_other.iat[i] == 1 else 'ies'} beyond deposits and payments"
        return f"holds {held}: deposits and payments only" if fams.iat[i] else "holds no products"

    inputs = [{"families": fams.iat[i], **{k: int(features[k].iat[i]) for k in links}}
              for i in range(len(features))]
    return pd.DataFrame({
        "customer_id": features["customer_id"].to_numpy(), "dimension": "cooperation_depth",
        "value": [classes[p]["value"] for p in pick], "label_zh": [classes[p]["label_zh"] for p in pick],
        "label_en": [classes[p]["label_en"] for p in pick], "score": n_links.to_numpy(dtype=float),
        "rule": [why(i) for i in range(len(features))], "inputs": inputs, "standard_version": std.version,
    }, columns=TAG_COLUMNS)
