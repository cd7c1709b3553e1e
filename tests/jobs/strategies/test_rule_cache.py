"""The cross-sell rules are mined again only when what they are mined from changed: the same
holdings (in any order), bank size and thresholds reuse the stored rules, exactly as mined; any
change mines again. A reader never writes them."""

import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal

from clientstrata.graph.record.models import CrossSellRuleSet
from clientstrata.jobs.strategies.association import association_rules
from clientstrata.jobs.strategies.rule_cache import mined_rules, rules_key

PARAMS = {"min_support": 0.05, "min_confidence": 0.1, "min_lift": 1.0}
HELD = pd.DataFrame(
    [(f"C{c:03d}", item) for c in range(60) for item in ("P1", "P2", "P3", "P4")[: 1 + c % 4]]
    + [(f"C{c:03d}", "P9") for c in range(0, 60, 3)],
    columns=["customer_id", "item"],
)


def _stored(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(CrossSellRuleSet.__table__)).scalar()


def test_unchanged_holdings_reuse_the_rules_exactly_as_mined(engine):
    with engine.begin() as conn:
        mined, used = mined_rules(conn, HELD, 80, PARAMS, store=True)
    assert used["mined"] and used["rules"] == len(mined) > 0
    assert_frame_equal(mined, association_rules(HELD, n_baskets=80, **PARAMS))
    shuffled = HELD.sample(frac=1.0, random_state=3).reset_index(drop=True)
    with engine.begin() as conn:
        again, reused = mined_rules(conn, shuffled, 80, PARAMS, store=True)
    assert (reused["mined"], reused["key"]) == (False, used["key"])
    assert_frame_equal(again, mined)


@pytest.mark.parametrize(
    "change",
    [
        lambda held, n, p: (held.iloc[1:], n, p),  # a holding gone
        lambda held, n, p: (pd.concat([held, pd.DataFrame({"customer_id": ["C001"], "item": ["P9"]})]), n, p),
        lambda held, n, p: (held.assign(item=held["item"].replace("P9", "P8")), n, p),  # another product
        lambda held, n, p: (held, n + 1, p),  # one more customer without holdings
        lambda held, n, p: (held, n, {**p, "min_lift": 1.2}),  # the playbook's thresholds
    ],
)
def test_any_change_of_the_inputs_mines_again(engine, change):
    with engine.begin() as conn:
        _, first = mined_rules(conn, HELD, 80, PARAMS, store=True)
        held, n, params = change(HELD, 80, PARAMS)
        rules, used = mined_rules(conn, held, n, params, store=True)
    assert used["mined"] and used["key"] != first["key"] == rules_key(HELD, 80, PARAMS)
    assert_frame_equal(rules, association_rules(held, n_baskets=n, **params))
    assert _stored(engine) == 1  # only the latest rule set is kept


def test_a_reader_mines_without_writing(engine):
    with engine.begin() as conn:
        _, used = mined_rules(conn, HELD, 80, PARAMS, store=False)
    assert used["mined"] and _stored(engine) == 0
