"""Every customer gets exactly one package, the first selector in precedence that holds, with why."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.strategies.packages import assign_packages, matching
from clientstrata.jobs.strategies.playbook import playbook_of

PB = playbook_of(load_standard())


def _tags(**dims) -> pd.DataFrame:
    return pd.DataFrame(
        [{"customer_id": "C1", "dimension": d, "value": v, "label_zh": f"{v}标签"} for d, v in dims.items()]
    )


def _one(**dims):
    return assign_packages(_tags(**dims), PB).iloc[0]


# The default selectors' boundaries: the tier right at each package and the one just below.
@pytest.mark.parametrize(
    "tags, package, selector",
    [
        (
            {"wealth_tier": "private_banking", "household_wealth_tier": "private_banking"},
            "private_banking",
            "packages[0].selectors[0]",
        ),
        (
            {"wealth_tier": "wealth", "household_wealth_tier": "private_banking"},
            "private_banking",
            "packages[0].selectors[1]",
        ),
        ({"wealth_tier": "wealth", "household_wealth_tier": "wealth"}, "wealth", "packages[1].selectors[0]"),
        ({"wealth_tier": "affluent", "household_wealth_tier": "wealth"}, "wealth", "packages[1].selectors[1]"),
        (
            {"wealth_tier": "affluent", "household_wealth_tier": "affluent", "value_contribution": "D10"},
            "affluent",
            "packages[2].selectors[0]",
        ),
        (
            {"wealth_tier": "mass", "household_wealth_tier": "mass", "value_contribution": "D9"},
            "affluent",
            "packages[2].selectors[1]",
        ),
        ({"wealth_tier": "mass", "household_wealth_tier": "mass", "value_contribution": "D8"}, "mass", "packages[3]"),
        ({"wealth_tier": "mass", "household_wealth_tier": "affluent"}, "mass", "packages[3]"),
        ({}, "mass", "packages[3]"),
    ],
)
def test_default_package_boundaries(tags, package, selector):
    got = assign_packages(
        _tags(**tags) if tags else pd.DataFrame({"customer_id": ["C1"], "dimension": ["x"], "value": ["y"]}), PB
    ).iloc[0]
    assert (got["package"], got["selector"]) == (package, selector)


def test_the_explanation_names_the_selector_and_the_customers_value():
    got = _one(wealth_tier="affluent", household_wealth_tier="wealth")
    assert got["explanation_en"] == "selector 2 of wealth: household_wealth_tier = wealth → Wealth management service"
    assert got["explanation_zh"] == "财富管理服务：满足选择条件2（household_wealth_tier：wealth标签）"
    assert "default package" in _one(wealth_tier="mass")["explanation_en"]


DIMENSIONS = {
    "wealth_tier": ["mass", "affluent", "wealth", "private_banking"],
    "household_wealth_tier": ["mass", "affluent", "wealth", "private_banking"],
    "value_contribution": [f"D{i}" for i in range(1, 11)],
    "risk_preference": ["C1", "C3", "C5", "unassessed"],
    "credit_risk_tier": ["high_risk", "watch", "good"],
    "aml_risk": ["low", "medium", "high"],
}
RANK = {"private_banking": 3, "wealth": 2, "affluent": 1, "mass": 0}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({}, optional={d: st.sampled_from(v) for d, v in DIMENSIONS.items()}),
        min_size=1,
        max_size=30,
    )
)
def test_exactly_one_package_per_customer_and_never_below_the_tiers(customers):
    rows = [
        {"customer_id": f"C{i:03d}", "dimension": d, "value": v}
        for i, c in enumerate(customers)
        for d, v in {"_seen": "x", **c}.items()
    ]
    tags = pd.DataFrame(rows).sample(frac=1, random_state=1)  # order must not matter
    out = assign_packages(tags, PB).set_index("customer_id")
    assert sorted(out.index) == [f"C{i:03d}" for i in range(len(customers))]
    for i, c in enumerate(customers):
        got = out.loc[f"C{i:03d}", "package"]
        household = RANK.get(c.get("household_wealth_tier"), 0)  # a household lifts to wealth or above only
        tier = max(RANK.get(c.get("wealth_tier"), 0), household if household >= 2 else 0)
        top = c.get("value_contribution") in ("D9", "D10")
        assert RANK[got] == max(tier, 1 if top else 0), (c, got)


def test_plays_and_measures_are_every_match():
    tags = pd.concat(
        [
            _tags(wealth_tier="wealth", risk_preference="C1", credit_risk_tier="high_risk", aml_risk="high"),
            _tags(wealth_tier="mass", aml_risk="low").assign(customer_id="C2"),
        ]
    )
    plays = matching(tags, PB.marketing_plays, PB.dimensions)
    assert set(plays.loc[plays["customer_id"] == "C1", "value"]) == {"wealth_salons", "low_risk_focus"}
    measures = matching(tags, PB.risk_measures, PB.dimensions).groupby("customer_id")["value"].apply(set)
    assert measures["C1"] == {"credit_tighten", "aml_edd"} and measures["C2"] == {"aml_standard_review"}
