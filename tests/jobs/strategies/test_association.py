from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from clientstrata.graph.errors import InvalidInput
from clientstrata.jobs.strategies.association import association_rules, holdings, per_row, recommend

# c1..c3 hold A and B (c3 also C); c4 C; c5 C and D; c6 D. N = 6.
BASKETS = {"c1": "AB", "c2": "AB", "c3": "ABC", "c4": "C", "c5": "CD", "c6": "D"}


def _long(baskets: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([(c, i) for c, items in baskets.items() for i in items], columns=["customer_id", "item"])


def _rule(rules: pd.DataFrame, antecedent: tuple, consequent: str) -> pd.Series:
    hit = rules[(rules["antecedent"] == antecedent) & (rules["consequent"] == consequent)]
    assert len(hit) == 1, f"{antecedent} → {consequent} not found once"
    return hit.iloc[0]


def test_support_confidence_and_lift_are_the_hand_computed_ones():
    rules = association_rules(_long(BASKETS), min_support=0.1, min_confidence=0, min_lift=0)
    ab = _rule(rules, ("A",), "B")  # 3 of 6 hold both, every A holder holds B, B in 3 of 6
    assert (ab["support"], ab["confidence"], ab["lift"]) == (
        pytest.approx(3 / 6),
        pytest.approx(1.0),
        pytest.approx(2.0),
    )
    cd = _rule(rules, ("C",), "D")  # 1 of 6; 1 of the 3 C holders; D in 2 of 6
    assert (cd["support"], cd["confidence"], cd["lift"]) == (
        pytest.approx(1 / 6),
        pytest.approx(1 / 3),
        pytest.approx(1.0),
    )
    abc = _rule(rules, ("A", "B"), "C")  # only c3 of the three A+B holders has C; C in 3 of 6
    assert (abc["support"], abc["confidence"], abc["lift"]) == (
        pytest.approx(1 / 6),
        pytest.approx(1 / 3),
        pytest.approx(2 / 3),
    )
    assert (abc["n_antecedent"], abc["n_both"], abc["n_consequent"], abc["n_baskets"]) == (3, 1, 3, 6)
    # pairs with a co-holder: AB BA AC CA BC CB CD DC; triples: AB→C AC→B BC→A
    assert (rules["antecedent_size"] == 1).sum() == 8 and (rules["antecedent_size"] == 2).sum() == 3
    assert len(association_rules(_long(BASKETS), min_support=0.1, min_confidence=0, min_lift=0, max_len=2)) == 8


def test_thresholds_filter_and_empty_baskets_count_when_given():
    b = _long(BASKETS)
    strong = association_rules(b, min_support=0.1, min_confidence=0, min_lift=1.5)
    # A→B, B→A (lift 2); A+C→B and B+C→A: c3 is the only A+C (B+C) holder and holds B (A): lift 2
    assert set(zip(strong["antecedent"], strong["consequent"])) == {
        (("A",), "B"),
        (("B",), "A"),
        (("A", "C"), "B"),
        (("B", "C"), "A"),
    }
    acb = _rule(strong, ("A", "C"), "B")
    assert (acb["support"], acb["confidence"], acb["lift"]) == (pytest.approx(1 / 6), 1.0, pytest.approx(2.0))
    assert set(association_rules(b, min_support=0.4, min_confidence=0, min_lift=0)["consequent"]) == {"A", "B"}
    ten = association_rules(b, min_support=0, min_confidence=0, min_lift=0, n_baskets=10)
    ab = _rule(ten, ("A",), "B")
    assert ab["support"] == pytest.approx(0.3) and ab["lift"] == pytest.approx(1.0 / (3 / 10))
    with pytest.raises(InvalidInput, match="fewer than"):
        association_rules(b, n_baskets=3)


def test_matrix_counts_match_a_brute_force_count():
    rng = np.random.default_rng(4)
    items = list("PQRSTU")
    baskets = {f"c{i}": "".join(x for x in items if rng.random() < 0.35) for i in range(300)}
    baskets = {c: s for c, s in baskets.items() if s}
    rules = association_rules(_long(baskets), min_support=0.02, min_confidence=0, min_lift=0)
    n = len(baskets)
    sets = [set(s) for s in baskets.values()]
    count = lambda *xs: sum(1 for s in sets if set(xs) <= s)  # noqa: E731
    expected = {}
    for size in (1, 2):
        for ante in combinations(items, size):
            for c in items:
                if c in ante or count(*ante, c) < 0.02 * n or count(*ante, c) == 0:
                    continue
                if size == 2 and count(*ante) < 0.02 * n:
                    continue
                conf = count(*ante, c) / count(*ante)
                expected[(ante, c)] = (count(*ante, c) / n, conf, conf / (count(c) / n))
    got = {
        (a, c): (s, f, l)
        for a, c, s, f, l in rules[["antecedent", "consequent", "support", "confidence", "lift"]].itertuples(
            index=False
        )
    }
    assert got.keys() == expected.keys()
    for key, vals in expected.items():
        assert got[key] == pytest.approx(vals)


def test_recommend_never_returns_a_refused_or_held_product():
    rules = association_rules(_long(BASKETS), min_support=0.1, min_confidence=0, min_lift=0)
    holdings_ = _long({"x": "A", "y": "C", "z": "AB"})
    free = recommend(holdings_, rules, top_n=5, allowed=lambda c: np.ones(len(c), bool))
    assert {"D", "B"} <= set(free.loc[free["customer_id"] == "y", "product_id"])
    refuse_d = lambda c: (c["product_id"] != "D").to_numpy()  # noqa: E731
    rec = recommend(holdings_, rules, top_n=5, allowed=refuse_d)
    assert "D" not in set(rec["product_id"])
    assert set(free.loc[free["product_id"] != "D", ["customer_id", "product_id"]].itertuples(index=False)) == set(
        rec[["customer_id", "product_id"]].itertuples(index=False)
    )
    held = set(holdings_.itertuples(index=False))
    assert not held & set(rec[["customer_id", "product_id"]].itertuples(index=False))
    x = rec[rec["customer_id"] == "x"].iloc[0]  # A holder: B first (lift 2 × confidence 1)
    assert (x["product_id"], x["rank"], x["score"], x["because"]) == ("B", 1, pytest.approx(2.0), "A")
    z = rec[rec["customer_id"] == "z"]  # A+B holder: C through the pair rule or a single one
    assert list(z["product_id"]) == ["C"]


def test_refused_products_do_not_take_a_slot_and_allowed_is_mandatory():
    rules = association_rules(_long(BASKETS), min_support=0.1, min_confidence=0, min_lift=0)
    h = _long({"y": "C"})
    top = recommend(h, rules, top_n=1, allowed=lambda c: np.ones(len(c), bool)).iloc[0]["product_id"]
    one = recommend(h, rules, top_n=1, allowed=per_row(lambda cid, pid: pid != top))
    assert len(one) == 1 and one.iloc[0]["product_id"] != top
    with pytest.raises(TypeError):
        recommend(h, rules, top_n=1)  # no default: the suitability check cannot be forgotten
    with pytest.raises(InvalidInput, match="suitability"):
        recommend(h, rules, top_n=1, allowed=None)
    with pytest.raises(InvalidInput, match="one bool per row"):
        recommend(h, rules, top_n=1, allowed=lambda c: [True])


def test_rules_from_the_record(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        by_product, by_family = holdings(conn, "product"), holdings(conn, "family")
    assert by_product["customer_id"].nunique() == 300  # everyone holds a demand deposit
    assert set(by_family["item"]) <= {"deposit", "wealth_management", "fund", "insurance", "loan", "card"}
    rules = association_rules(by_family, min_support=0.01, min_confidence=0.05, min_lift=0)
    assert len(rules) and rules["support"].between(0, 1).all() and rules["confidence"].between(0, 1).all()
    assert (rules["lift"] * rules["confidence"]).is_monotonic_decreasing
    with pytest.raises(InvalidInput, match="level"):
        with engine.connect() as conn:
            holdings(conn, "brand")
