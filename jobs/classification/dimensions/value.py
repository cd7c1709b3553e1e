"""Value contribution (价值贡献度): yearly CNY contribution, a 0–100 score and deciles.

Two steps, because a decile is a statement about the whole population:
1. `contribution(features, std)` — per customer, per partition, pure: AUM spread + net
   interest income on loans + fee income (中间业务收入) − expected loss (PD × LGD × outstanding),
   each weighted by the standard.
2. `cut_points(contributions)` — once per run over every customer's contribution: the 1st..100th
   percentiles. They are passed to `value_contribution(features, std, params)` for each
   partition, so a partition's tags never depend on which other customers share it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang
from ._tags import fmt, inputs_of, tag_frame
from .credit import probability_of_default

__all__ = ["value_contribution", "contribution", "cut_points", "components", "explain_value_contribution"]


def _deciles(spec: dict) -> list[dict]:
    return [
        {
            "value": f"D{i}",
            "label_zh": spec["decile_label_zh"].format(n=i),
            "label_en": spec["decile_label_en"].format(n=i),
        }
        for i in range(1, 11)
    ]


def components(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """The four weighted components of the yearly contribution, CNY."""
    spec = std.dimensions["value_contribution"]
    w = spec["weights"]
    spread = sum(features[f"bal_{fam}"].astype(float) * rate for fam, rate in spec["aum_spread"].items())
    fees = sum(features[f"bal_{fam}"].astype(float) * rate for fam, rate in spec["fee_rates"].items())
    outstanding = features["loans_outstanding"].astype(float)
    interest = outstanding * float(spec["loan_margin"])
    loss = probability_of_default(features, std) * float(spec["lgd"]) * outstanding
    return pd.DataFrame(
        {
            "aum_spread": w["aum_spread"] * spread,
            "net_interest": w["net_interest"] * interest,
            "fee_income": w["fee_income"] * fees,
            "expected_loss": w["expected_loss"] * loss,
        },
        index=features.index,
    )


def contribution(features: pd.DataFrame, std: Standard) -> pd.Series:
    """Per-partition step: yearly contribution in CNY per customer."""
    c = components(features, std)
    return (c["aum_spread"] + c["net_interest"] + c["fee_income"] - c["expected_loss"]).rename("contribution")


def cut_points(contributions: pd.Series | np.ndarray) -> dict:
    """Population step, once per run: the 1st..100th percentiles of every customer's contribution."""
    values = np.asarray(contributions, dtype=float)
    if len(values) == 0:
        return {"percentiles": [0.0] * 100, "customers": 0}
    q = np.quantile(values, np.arange(1, 101) / 100, method="inverted_cdf")
    return {"percentiles": [float(x) for x in q], "customers": int(len(values))}


def value_contribution(features: pd.DataFrame, std: Standard, params: dict) -> pd.DataFrame:
    """Score = how many of the population's percentiles (from the run's `cut_points`) lie below
    this customer's contribution, i.e. the percent of customers who contribute less (0–100);
    decile D1..D10 = score // 10 + 1, D10 best."""
    if not params or "percentiles" not in params:
        raise ValueError(
            "value_contribution needs the population's cut points: compute "
            "cut_points(contribution(all features, std)) once per run and pass them in"
        )
    q = np.asarray(params["percentiles"], dtype=float)
    comp = components(features, std)
    total = (comp["aum_spread"] + comp["net_interest"] + comp["fee_income"] - comp["expected_loss"]).to_numpy()
    score = np.searchsorted(q, total, side="left").astype(float)  # percentiles strictly below: 0..100
    pick = np.minimum(score // 10, 9).astype(int)
    inputs = inputs_of(
        comp.assign(
            contribution=total,
            aum=features["aum"].astype(float),
            loans_outstanding=features["loans_outstanding"].astype(float),
        )
    )
    return tag_frame(
        features["customer_id"],
        "value_contribution",
        _deciles(std.dimensions["value_contribution"]),
        pick,
        score,
        [KEY] * len(pick),
        inputs,
        std,
    )


def explain_value_contribution(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    t, a, n, f, e = (
        fmt(inputs.get(k)) for k in ("contribution", "aum_spread", "net_interest", "fee_income", "expected_loss")
    )
    s = fmt(tag.get("score"))
    if lang == "zh":
        return (
            f"年贡献 {t} 元 = 资产利差 {a} + 净利息收入 {n} + 中间业务收入 {f} − 预期损失 {e}；"
            f"超过 {s}% 的客户贡献低于此 → {tag['label_zh']}"
        )
    return (
        f"yearly contribution {t} CNY = AUM spread {a} + net interest {n} + fees {f} "
        f"− expected loss {e}; more than {s}% of customers contribute less → {tag['value']}"
    )
