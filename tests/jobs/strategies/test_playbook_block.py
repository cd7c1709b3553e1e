"""The `playbook:` block is refused with its file, line and key when it is wrong."""

import copy
import re

import pytest
import yaml

from clientstrata.jobs.classification.standard import InvalidStandard, load_standard, parse_standard
from clientstrata.jobs.strategies.playbook import playbook_of

DEFAULT = load_standard()
BASE = yaml.safe_load(DEFAULT.text)


def _refused(doc: dict) -> InvalidStandard:
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    with pytest.raises(InvalidStandard) as info:
        parse_standard(text, "draft.yaml")
    exc = info.value
    assert str(exc).startswith(f"draft.yaml, line {exc.line}: {exc.key}: ")
    line = text.splitlines()[exc.line - 1]  # the line named is the offending key's (or its list item's)
    last = re.split(r"[.\[]", exc.key)[-1].rstrip("]")
    assert last in line or line.lstrip().startswith("-"), (exc.key, line)
    return exc


def test_the_default_playbook_has_the_articles_packages():
    pb = playbook_of(DEFAULT)
    assert [p.value for p in pb.packages] == ["private_banking", "wealth", "affluent", "mass"]
    assert pb.package("private_banking").team["name"] == "1+3" and pb.package("wealth").team["name"] == "1+N"
    kinds = {e.value for e in pb.package("wealth").entitlements}
    assert {"priority_service", "gifts", "priority_purchase", "events", "fee_waivers"} <= kinds
    assert {m.kind for m in pb.risk_measures} == {"credit", "aml", "suitability"}


def test_the_catch_all_must_be_last_and_exist():
    doc = copy.deepcopy(BASE)
    doc["playbook"]["packages"][-1]["selectors"] = [{"wealth_tier": ["mass"]}]
    exc = _refused(doc)
    assert exc.key == "playbook.packages[3]" and "must be a catch-all" in str(exc)
    doc = copy.deepcopy(BASE)
    del doc["playbook"]["packages"][1]["selectors"]
    exc = _refused(doc)
    assert exc.key == "playbook.packages[1]" and "must be the last" in str(exc)


@pytest.mark.parametrize(
    "selector, key, says",
    [
        ({"wealth_teir": ["wealth"]}, "playbook.packages[0].selectors[0].wealth_teir", "is not a dimension"),
        (
            {"wealth_tier": ["rich"]},
            "playbook.packages[0].selectors[0].wealth_tier[0]",
            "'rich' is not a value of wealth_tier",
        ),
        ({"value_contribution": ["D11"]}, "playbook.packages[0].selectors[0].value_contribution[0]", "not a value"),
        (
            {"composite_segment": ["high_asset.x.ecosystem"]},
            "playbook.packages[0].selectors[0].composite_segment[0]",
            "not a value",
        ),
        ({"wealth_tier": []}, "playbook.packages[0].selectors[0].wealth_tier", "at least 1"),
        ({}, "playbook.packages[0].selectors[0]", "at least 1"),
    ],
)
def test_selectors_name_this_standards_dimensions_and_values(selector, key, says):
    doc = copy.deepcopy(BASE)
    doc["playbook"]["packages"][0]["selectors"] = [selector]
    exc = _refused(doc)
    assert exc.key == key and says in str(exc)


def test_discounts_name_fee_items_and_descend_with_precedence():
    doc = copy.deepcopy(BASE)
    doc["playbook"]["packages"][2]["discounts"]["parking"] = 10
    exc = _refused(doc)
    assert exc.key == "playbook.packages[2].discounts.parking" and "not a fee item" in str(exc)
    doc = copy.deepcopy(BASE)
    doc["playbook"]["packages"][3]["discounts"] = {"card_annual_fee": 60}  # mass above wealth's 50
    exc = _refused(doc)
    assert exc.key == "playbook.packages[3].discounts.card_annual_fee" and "must descend" in str(exc)
    doc = copy.deepcopy(BASE)
    doc["playbook"]["packages"][1]["discounts"]["sms_alerts"] = 101
    assert _refused(doc).key == "playbook.packages[1].discounts.sms_alerts"


def test_contribution_bonuses_rise_with_the_decile():
    doc = copy.deepcopy(BASE)
    doc["playbook"]["contribution_discounts"] = [
        {"deciles": ["D10"], "extra_pct": 5},
        {"deciles": ["D9"], "extra_pct": 20},
    ]
    exc = _refused(doc)
    assert exc.key == "playbook.contribution_discounts[0]" and "must rise" in str(exc)
    doc["playbook"]["contribution_discounts"] = [
        {"deciles": ["D9"], "extra_pct": 5},
        {"deciles": ["D9"], "extra_pct": 5},
    ]
    assert "already in entry 0" in str(_refused(doc))


def test_risk_measures_and_fees_are_declared():
    doc = copy.deepcopy(BASE)
    doc["playbook"]["risk_measures"][0]["kind"] = "market"
    assert _refused(doc).key == "playbook.risk_measures[0].kind"
    doc = copy.deepcopy(BASE)
    doc["playbook"]["fee_schedule"][0]["volume"] = "guesses"
    assert _refused(doc).key == "playbook.fee_schedule[0].volume"
    doc = copy.deepcopy(BASE)
    doc["playbook"]["fee_schedule"][0]["price"] = -1
    assert _refused(doc).key == "playbook.fee_schedule[0].price"


def test_a_standard_without_a_playbook_gets_the_default_one():
    doc = copy.deepcopy(BASE)
    del doc["playbook"]
    std = parse_standard(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    assert std.playbook is None and playbook_of(std).packages == playbook_of(DEFAULT).packages
