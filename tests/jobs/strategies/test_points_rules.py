"""The playbook's `points:` block (refused with its line when it disagrees with the playbook) and
the pure earn rule (first rule wins, minimum amounts, package multipliers, whole points)."""

import datetime as dt
from importlib import resources

import pandas as pd
import pytest
import yaml

from clientstrata.jobs.classification.standard import DEFAULT_STANDARD, InvalidStandard, parse_standard
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.points_earn import EVENT_COLUMNS, earned_points

TEXT = resources.files("clientstrata.jobs.classification").joinpath("standards", DEFAULT_STANDARD).read_text("utf-8")
RULES = playbook_of(parse_standard(TEXT)).points


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (
            "multipliers: {private_banking: 3,",
            "multipliers: {platinum: 3,",
            "points.multipliers.platinum",
            "'platinum' is not a package",
        ),
        (
            "fee_items: [interbank_withdrawal,",
            "fee_items: [parking,",
            "points.redeem.fee_items[0]",
            "'parking' is not a fee item of fee_schedule",
        ),
        (
            "source: card_spend, points_per_100: 100}",
            "source: card_spend, families: [fund], points_per_100: 100}",
            "families",
            "families only narrow purchases",
        ),
        ("expiry_months: 24", "expiry_months: 0", "points.expiry_months", "a whole number from 1 to 240"),
    ],
)
def test_a_points_block_that_disagrees_is_refused_with_its_line(old, new, key, problem):
    assert old in TEXT
    with pytest.raises(InvalidStandard) as err:
        parse_standard(TEXT.replace(old, new, 1))
    assert key in str(err.value) and problem in str(err.value) and err.value.line


def test_a_playbook_without_points_earns_nothing():
    doc = yaml.safe_load(TEXT)
    del doc["playbook"]["points"]
    assert playbook_of(parse_standard(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))).points is None


def _events(*rows) -> pd.DataFrame:
    at = dt.datetime(2026, 1, 31, 10)
    return pd.DataFrame([(*r, at) for r in rows], columns=EVENT_COLUMNS)


def test_earned_points_follow_the_first_rule_the_minimum_and_the_package():
    events = _events(
        ("C1", "purchase:1", "purchases", "wealth_management", 12_345.0),  # 10 per CNY 100 → 1,234
        ("C2", "purchase:2", "purchases", "deposit", 199_999.0),  # under the CD minimum: nothing
        ("C2", "purchase:3", "purchases", "deposit", 200_000.0),  # 5 per 100, ×2 (wealth) → 20,000
        ("C3", "card:1", "card_spend", None, 0.99),  # less than one point: nothing
        ("C3", "txn:1", "deposits", "deposit", 60_000.0),  # 2 per 100 → 1,200
    )
    packages = pd.DataFrame({"customer_id": ["C2"], "package": ["wealth"]})
    out = earned_points(events, RULES, packages).set_index("source")
    assert out["points"].to_dict() == {"purchase:1": 1234, "purchase:3": 20_000, "txn:1": 1200}
    assert out.loc["purchase:3", ["rule", "multiplier", "package"]].tolist() == [
        "large_deposit_purchase",
        2.0,
        "wealth",
    ]
    assert out.loc["purchase:1", "expires_on"] == dt.date(2028, 1, 31)  # 24 months on
    assert out.loc["purchase:1", "package"] is None and out.loc["purchase:1", "multiplier"] == 1.0
