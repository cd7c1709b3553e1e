"""Credit risk tier (信贷风险) from credit score, debt-to-income and repayment history.

On the PKDD'99 data, where there is no bureau score nor income, the loan status is the real
signal: B (finished, not paid) and D (running, in debt) are high risk, A and C a clean history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import Lang, arrow, match_words
from ._tags import first_match, fmt, inputs_of, tag_frame

__all__ = ["credit_risk_tier", "credit_inputs", "probability_of_default", "explain_credit_risk_tier"]


def credit_inputs(features: pd.DataFrame) -> pd.DataFrame:
    """The rule features: loan_in_debt, loan_unpaid, days_past_due, credit_score, debt_to_income…"""
    income = features["annual_income"].astype(float)
    income = income.where(income > 0, features["salary_monthly"].astype(float) * 12)
    income = income.where(income > 0)
    payments = features["loan_monthly_payment"].astype(float) * 12
    dti = np.where(payments <= 0, 0.0, payments / income)
    return pd.DataFrame(
        {
            "credit_score": features["credit_score"].astype(float),
            "debt_to_income": dti.astype(float),
            "days_past_due": features["max_dpd"].astype(float),
            "loan_in_debt": features["loans_D"] > 0,
            "loan_unpaid": features["loans_B"] > 0,
            "has_loan_history": features["loans_count"] > 0,
            "loans_outstanding": features["loans_outstanding"].astype(float),
            "loans_by_status": [
                f"A={a}, B={b}, C={c}, D={d}"
                for a, b, c, d in zip(
                    features["loans_A"], features["loans_B"], features["loans_C"], features["loans_D"]
                )
            ],
        },
        index=features.index,
    )


def probability_of_default(features: pd.DataFrame, std: Standard) -> np.ndarray:
    """One-year PD per customer from the tier that fires (feeds expected loss)."""
    rules = std.dimensions["credit_risk_tier"]["rules"]
    m = first_match(credit_inputs(features), rules)
    return np.array([float(r.get("pd", 0.0)) for r in rules])[m.pick]


def credit_risk_tier(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    rules = std.dimensions["credit_risk_tier"]["rules"]
    x = credit_inputs(features)
    m = first_match(x, rules)
    pd_ = np.array([float(r.get("pd", 0.0)) for r in rules])[m.pick]
    inputs = inputs_of(x.assign(pd=pd_), round_to=4)
    return tag_frame(features["customer_id"], "credit_risk_tier", rules, m.pick, pd_, m.keys, inputs, std)


def explain_credit_risk_tier(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    rules = std.dimensions["credit_risk_tier"]["rules"]
    why = match_words(tag["rule"], rules, inputs, lang)
    pd_ = float(inputs.get("pd") or 0.0)
    if lang == "zh":
        return f"{why} {arrow(tag, lang)}，违约概率 {fmt(100 * pd_)}%"
    return f"{why} {arrow(tag, lang)}, PD {fmt(100 * pd_)}%"
