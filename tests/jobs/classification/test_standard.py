import re
from importlib import resources

import pytest
import yaml

from clientstrata.jobs.classification.standard import KNOWN_DIMENSIONS, InvalidStandard, load_standard

# the packaged standard less its governance block, so tests can append their own sections
DEFAULT = re.sub(
    r"^governance:\n(?:[ #].*\n|\n)*",
    "",
    resources.files("clientstrata.jobs.classification").joinpath("standards", "default.yaml").read_text("utf-8"),
    flags=re.MULTILINE,
)


def _refused(tmp_path, text: str) -> str:
    path = tmp_path / "my.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidStandard) as exc:
        load_standard(path)
    return str(exc.value)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_default_standard_configures_every_dimension():
    std = load_standard()
    assert set(std.dimensions) == set(KNOWN_DIMENSIONS) and std.version == "2026.2"


def test_overlapping_bands_name_the_line(tmp_path):
    text = DEFAULT.replace("label_en: Wealth, min: 500000", "label_en: Wealth, min: 40000")
    msg = _refused(tmp_path, text)
    line = _line(text, "label_en: Wealth, min: 40000")
    assert msg == (
        f"{tmp_path / 'my.yaml'}, line {line}: dimensions.wealth_tier.bands[2]: min 40,000 overlaps "
        f"the band before it (min 50,000); bands must ascend"
    )


def test_the_exact_example_of_the_brief(tmp_path):
    msg = _refused(
        tmp_path,
        """version: x
fx_to_cny: {CNY: 1}
dimensions:
  wealth_tier:
    bands:
      - {value: mass, label_zh: 大众, label_en: Mass, min: 0}
      - {value: affluent, label_zh: 贵宾, label_en: Affluent, min: 500000}
      - {value: wealth, label_zh: 财富, label_en: Wealth, min: 400000}
""",
    )
    assert msg.endswith(
        "my.yaml, line 8: dimensions.wealth_tier.bands[2]: min 400,000 overlaps the band before it "
        "(min 500,000); bands must ascend"
    )


@pytest.mark.parametrize(
    "old, new, where, problem, line_with",
    [
        (
            "  demand_tier:",
            "  loyalty_points: {}\n  demand_tier:",
            "dimensions.loyalty_points",
            "unknown dimension",
            "loyalty_points",
        ),
        (
            "{value: C3, label_zh: 平衡型, label_en: Balanced}",
            "{value: C3, label_zh: 平衡型}",
            "dimensions.risk_preference.levels[2]",
            "missing label_en",
            "{value: C3, label_zh: 平衡型}",
        ),
        (
            "lgd: 0.45",
            "lgd: 1.45",
            "dimensions.value_contribution.lgd",
            "1.45 is above the largest allowed value 1",
            "lgd: 1.45",
        ),
        (
            "validity_months: 12",
            "validity_months: twelve",
            "dimensions.risk_preference.validity_months",
            "must be a whole number, not 'twelve'",
            "validity_months: twelve",
        ),
        ("max_points: 15", "max_points: 25", "dimensions.aml_risk.groups", "add up to 110, not 100", "  groups:"),
        (
            "factors: {pep: 30, missing_id_number: 10}",
            "factors: {pep: 40, missing_id_number: 10}",
            "dimensions.aml_risk.groups.customer.factors.pep",
            "40 points exceed the group's max_points 30",
            "pep: 40",
        ),
        (
            "weights: {aum_spread: 1.0, net_interest: 1.0, fee_income: 1.0, expected_loss: 1.0}",
            "weights: {aum_spread: 0, net_interest: 0, fee_income: 0, expected_loss: 0}",
            "dimensions.value_contribution.weights",
            "at least one weight must be above 0",
            "weights: {aum_spread: 0",
        ),
        (
            "any: {age_min: 60, retired: true}",
            "any: {age_min: 60, retired: 1}",
            "dimensions.lifecycle_stage.rules[0].any.retired",
            "retired is true/false",
            "retired: 1",
        ),
        (
            "any: {age_min: 60, retired: true}",
            "any: {shoe_size_min: 60}",
            "dimensions.lifecycle_stage.rules[0].any.shoe_size_min",
            "unknown feature 'shoe_size'",
            "shoe_size_min",
        ),
        (
            "      - {value: mature, label_zh: 成熟稳定期, label_en: Mature}\n",
            "",
            "dimensions.lifecycle_stage.rules[3]",
            "the last rule must be a catch-all",
            "{value: young_professional",
        ),
        (
            "high_asset_min_tier: affluent",
            "high_asset_min_tier: rich",
            "dimensions.composite_segment.high_asset_min_tier",
            "'rich' is not a wealth_tier band",
            "high_asset_min_tier",
        ),
        (
            "recency_days_max: [270, 180, 90, 30]",
            "recency_days_max: [270, 90, 180, 30]",
            "dimensions.behaviour_rfm.recency_days_max[2]",
            "180 must be below the threshold before it (90)",
            "recency_days_max",
        ),
        (
            "{value: both,",
            "{value: core_and_payroll,",
            "dimensions.enterprise_ecosystem_role.roles",
            "values must be exactly both, core_enterprise, payroll_provider, none",
            "    roles:",
        ),
        (
            'decile_label_zh: "价值贡献第{n}十分位"',
            "decile_label_zh: 价值贡献",
            "dimensions.value_contribution.decile_label_zh",
            "must contain {n}",
            "decile_label_zh",
        ),
    ],
)
def test_malformed_standards_are_refused_with_line_and_reason(tmp_path, old, new, where, problem, line_with):
    assert old in DEFAULT
    text = DEFAULT.replace(old, new, 1)
    msg = _refused(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'my.yaml'}, line {_line(text, line_with)}: {where}: ")
    assert problem in msg


def test_a_rule_line_is_named_precisely(tmp_path):
    text = DEFAULT.replace("credit_score_below: 500}", "credit_score_below: low}")
    msg = _refused(tmp_path, text)
    assert f"line {_line(text, 'credit_score_below: low')}:" in msg
    assert "dimensions.credit_risk_tier.rules[0].any.credit_score_below: threshold must be a number" in msg


def test_governance_and_alerts_sections_are_mappings_checked_on_load(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(DEFAULT + "governance:\n  retag_every_months: 2\n", encoding="utf-8")
    std = load_standard(path)
    assert std.governance == {"retag_every_months": 2} and std.alerts == yaml.safe_load(DEFAULT)["alerts"]
    msg = _refused(tmp_path, DEFAULT + "governance: [a, b]\n")
    assert f"line {len(DEFAULT.splitlines()) + 1}: governance: must be a mapping" in msg
    # their contents are declared too: an unknown key is refused on load, at its line
    msg = _refused(tmp_path, DEFAULT + "governance:\n  approvals: 2\n")
    assert f"line {len(DEFAULT.splitlines()) + 2}: governance.approvals: unknown key" in msg


def test_not_yaml_and_missing_file(tmp_path):
    assert "line 2: not valid YAML" in _refused(tmp_path, "version: x\n  bad: [\n")
    with pytest.raises(InvalidStandard, match="no such standard file"):
        load_standard(tmp_path / "nope.yaml")


def test_unknown_top_level_key(tmp_path):
    msg = _refused(tmp_path, DEFAULT + "colour: blue\n")
    assert msg.endswith(
        f"line {len(DEFAULT.splitlines()) + 1}: colour: unknown key "
        "(known: version, name, currency, fx_to_cny, dimensions, governance, alerts, playbook, actions)"
    )


def test_a_partial_standard_is_valid(tmp_path):
    doc = yaml.safe_load(DEFAULT)
    doc["dimensions"] = {"wealth_tier": doc["dimensions"]["wealth_tier"]}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert list(load_standard(path).dimensions) == ["wealth_tier"]


def test_labels_must_fit_the_tags_table(tmp_path):
    msg = _refused(tmp_path, DEFAULT.replace("label_en: Private banking,", f"label_en: {'P' * 61},"))
    assert "dimensions.wealth_tier.bands[3].label_en" in msg and "longer than 60 characters" in msg
    msg = _refused(tmp_path, DEFAULT.replace("high: {value: high_asset,", f"high: {{value: {'h' * 20},"))
    assert "dimensions.composite_segment: joined value can reach 44 characters" in msg


def test_a_dimension_that_reads_another_needs_its_section(tmp_path):
    doc = yaml.safe_load(DEFAULT)
    doc["dimensions"] = {k: doc["dimensions"][k] for k in ("composite_segment", "wealth_tier")}
    msg = _refused(tmp_path, yaml.safe_dump(doc, allow_unicode=True))
    assert "dimensions.composite_segment: reads the risk_preference, cooperation_depth section(s)" in msg
