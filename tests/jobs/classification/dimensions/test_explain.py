"""Explanations as keys: a tag stores a short rule key and its inputs, and its words are made on
read, in English or Chinese, from the standard. The English must say what the rule saw and did —
here held to a plain re-statement of the first-match rule, over generated rules and rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.stores.base import ECOSYSTEM_FEATURES
from clientstrata.jobs.classification.dimensions import DIMENSIONS, explain, explain_frame
from clientstrata.jobs.classification.dimensions._explain import match_words
from clientstrata.jobs.classification.dimensions._tags import first_match, fmt
from clientstrata.jobs.classification.standard import rule_tests
from clientstrata.jobs.ingest.bundle import PRODUCT_FAMILIES

_SYM = {"_min": "≥", "_max": "≤", "_below": "<", "_above": ">"}
_NOT = {"_min": "<", "_max": ">", "_below": "≥", "_above": "≤"}
_OPS = {"_min": np.greater_equal, "_max": np.less_equal, "_below": np.less, "_above": np.greater}


def _holds(row: dict, feat: str, op: str, thr) -> bool:
    if op == "":
        return bool(row[feat]) == bool(thr)
    v = row[feat]
    return v is not None and bool(_OPS[op](v, thr))


def _words(row: dict, feat: str, op: str, thr, held: bool) -> str:
    if op == "":
        return feat if bool(thr) == held else f"not {feat}"
    if row[feat] is None:
        return f"{feat} unknown"
    return f"{feat} {fmt(row[feat])} {(_SYM if held else _NOT)[op]} {fmt(thr)}"


def reference(row: dict, rules: list[dict]) -> tuple[int, str]:
    """The first rule whose tests hold (all or any) and why; for the catch-all, why not each above."""
    for i, rule in enumerate(rules):
        kind = "any" if "any" in rule else "all" if "all" in rule else None
        if kind is None:
            why = []
            for r in rules[:i]:
                k = "any" if "any" in r else "all"
                failed = [_words(row, *t, held=False) for t in rule_tests(r[k]) if not _holds(row, *t)]
                why.append(f"not {r['label_en']} ({(', ' if k == 'any' else ' or ').join(failed)})")
            return i, "; ".join(why) or "no rule applies"
        tests = rule_tests(rule[kind])
        held = [_holds(row, *t) for t in tests]
        if any(held) if kind == "any" else all(held):
            said = [_words(row, *t, held=True) for t, h in zip(tests, held) if h]
            return i, (" or " if kind == "any" else " and ").join(said)
    raise AssertionError("the rules end with a catch-all")


FEATURES = ("x", "y", "z")
_values = st.one_of(st.none(), st.integers(-50, 50).map(lambda n: n / 4))
_test = st.tuples(
    st.sampled_from(FEATURES), st.sampled_from(["_min", "_max", "_below", "_above"]), st.integers(-40, 40)
)


@st.composite
def rule_lists(draw) -> list[dict]:
    rules = []
    for i in range(draw(st.integers(0, 4))):
        tests = draw(st.lists(_test, min_size=1, max_size=3, unique_by=lambda t: (t[0], t[1])))
        cond = {f"{feat}{op}": thr / 4 for feat, op, thr in tests}
        if draw(st.booleans()):
            cond["flag"] = draw(st.booleans())
        rules.append(
            {
                "value": f"v{i}",
                "label_en": f"Rule {i}",
                "label_zh": f"规则{i}",
                draw(st.sampled_from(["any", "all"])): cond,
            }
        )
    return [*rules, {"value": "rest", "label_en": "Rest", "label_zh": "其余"}]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=rule_lists(),
    rows=st.lists(
        st.fixed_dictionaries({**{f: _values for f in FEATURES}, "flag": st.booleans()}), min_size=1, max_size=8
    ),
)
def test_the_key_says_in_words_which_rule_fired_and_why(rules, rows):
    frame = pd.DataFrame(rows).astype({f: float for f in FEATURES})
    m = first_match(frame, rules)
    for row, pick, key in zip(rows, m.pick, m.keys):
        index, why = reference(row, rules)
        assert pick == index
        assert match_words(key, rules, row, "en") == why
        zh = match_words(key, rules, row, "zh")
        assert zh and "@" not in zh and ("not " not in zh)


def test_words_stored_before_keys_are_read_as_they_were_written(std):
    old = {"dimension": "wealth_tier", "rule": "own month-average AUM 1,000 ≥ 0 → Mass (大众客户)", "inputs": {}}
    assert explain(old, std, "en") == old["rule"] and explain(old, std, "zh") == old["rule"]


def test_every_dimension_speaks_both_languages_and_stores_only_a_key(features, std, said):
    rows = [
        {},
        {"aum": 12_000_000.0, "q_level": 5, "q_professional": True, "age": 70.0},
        {"aum": 60_000.0, "monthly": [80_000.0, 80_000.0, 40_000.0], "loans_count": 1, "loans_D": 1},
        {"families": "deposit,fund,wealth_management", "q_level": 2, "max_risk_held": 4, "txn_data": False},
        # every product family, and ties to other customers (the ecosystem links)
        {"families": ",".join(PRODUCT_FAMILIES), **{k: 1 for k in ECOSYSTEM_FEATURES}},
    ]
    from clientstrata.jobs.classification.dimensions import classify_partition, population_parameters

    f = features(*rows)
    tags = classify_partition(f, std, population_parameters(f, std))
    assert set(tags["dimension"]) == {d.name for d in DIMENSIONS if d.subject == "individual"}
    assert tags["rule"].str.len().max() <= 24  # a key, not a sentence
    en, zh = said(tags), said(tags, lang="zh")
    assert not en.str.contains("@").any() and not zh.str.contains("@").any()
    # Chinese words, not English ones with Chinese labels: every reason has Chinese in it and
    # none of the English templates' words
    assert zh.str.contains(r"[\u4e00-\u9fff]").all()
    assert not zh.str.contains(r"\b(?:holds|month-average|questionnaire|transactions|contribution)\b").any()
    # nor codes: a product family (`wealth_management`) or a graph link (`payroll_employer`) is said
    # in Chinese; the only Latin letters left are the levels' and scores' own (C3, R4, 近度R)
    assert not zh.str.contains(r"[a-z]").any(), [z for z in zh if re.search(r"[a-z]", z)]
    assert (en != zh).all()


def test_an_unknown_language_is_refused_by_name(std, features):
    from clientstrata.jobs.classification.dimensions import classify_partition, population_parameters

    f = features({})
    tags = classify_partition(f, std, population_parameters(f, std))
    with pytest.raises(ValueError, match="'fr'"):
        explain_frame(tags, std, "fr")
