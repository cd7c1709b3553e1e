import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput
from clientstrata.jobs.classify import cooperation_depth, wealth_tier
from clientstrata.jobs.runs import classify
from clientstrata.jobs.standard import InvalidStandard, load_standard

STD = load_standard()


def _tiers(series: dict[str, list[float]]) -> pd.DataFrame:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    rows = [(c, m, v) for c, vals in series.items() for m, v in zip(months[-len(vals):], vals)]
    monthly = pd.DataFrame(rows, columns=["customer_id", "month", "aum"])
    return wealth_tier(monthly, pd.Series(list(series)), STD).set_index("customer_id")


@pytest.mark.parametrize("aum, tier", [(0, "mass"), (49_999.99, "mass"), (50_000, "affluent"),
                                       (499_999, "affluent"), (500_000, "wealth"), (5_999_999, "wealth"),
                                       (6_000_000, "private_banking")])
def test_band_boundaries(aum, tier):
    assert _tiers({"c": [aum]}).loc["c", "value"] == tier


def test_upgrade_at_once_downgrade_after_three_months_with_watch():
    t = _tiers({"up": [10_000, 60_000], "dip2": [60_000, 40_000, 40_000], "dip3": [60_000, 40_000, 40_000, 40_000],
                "back": [60_000, 40_000, 40_000, 60_000, 40_000]})
    assert t.loc["up", "value"] == "affluent"
    assert t.loc["dip2", "value"] == "affluent" and t.loc["dip2", "inputs"]["watch"]
    assert "on watch" in t.loc["dip2", "rule"]
    assert t.loc["dip3", "value"] == "mass" and not t.loc["dip3", "inputs"]["watch"]
    assert t.loc["back", "value"] == "affluent" and t.loc["back", "inputs"]["months_below"] == 1


def test_private_banking_needs_six_months_below():
    t = _tiers({"five": [7e6] + [1e6] * 5, "six": [7e6] + [1e6] * 6})
    assert t.loc["five", "value"] == "private_banking"
    assert t.loc["six", "value"] == "wealth"


def test_hnw_flag_and_explanation():
    t = _tiers({"rich": [12e6]})
    assert t.loc["rich", "inputs"]["hnw"] and "high net worth" in t.loc["rich", "rule"]
    assert t.loc["rich", "standard_version"] == STD.version


def test_cooperation_depth_classes():
    feats = pd.DataFrame({
        "customer_id": ["basic", "comp", "eco", "linked_basic"],
        "families": ["card,deposit", "deposit,fund", "deposit,wealth_management", "deposit"],
        "payroll_employer": [0, 0, 1, 1], "controls": [0, 0, 0, 0], "household_members": [0, 0, 2, 0],
        "co_holders": [0, 0, 0, 0], "supply_chain": [0, 0, 0, 0]})
    out = cooperation_depth(feats, STD).set_index("customer_id")
    assert out["value"].to_dict() == {"basic": "basic_service", "comp": "comprehensive",
                                      "eco": "ecosystem_synergy", "linked_basic": "basic_service"}
    assert "payroll_employer=1" in out.loc["eco", "rule"] and out.loc["eco", "label_zh"] == "生态协同型"


def test_overlapping_bands_are_refused(tmp_path):
    bad = tmp_path / "std.yaml"
    bad.write_text("""
version: x
fx_to_cny: {CNY: 1}
dimensions:
  wealth_tier:
    bands:
      - {value: mass, label_zh: 大众, label_en: Mass, min: 0}
      - {value: affluent, label_zh: 贵宾, label_en: Affluent, min: 50000}
      - {value: wealth, label_zh: 财富, label_en: Wealth, min: 40000}
""")
    with pytest.raises(InvalidStandard, match=r"bands\[2\].*overlaps"):
        load_standard(bad)
    bad.write_text("version: x\nfx_to_cny: {CNY: 1}\ndimensions: {loyalty: {}}\n")
    with pytest.raises(InvalidStandard, match="unknown dimension"):
        load_standard(bad)


def test_run_publishes_one_tag_per_customer_per_dimension(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT run_id, status, standard_version FROM classification_runs")).one()
        per = conn.execute(sa.text("SELECT dimension, count(DISTINCT customer_id), count(*) FROM tags GROUP BY dimension")).all()
    assert run.status == "published" and run.standard_version == STD.version
    assert {d: (n, m) for d, n, m in per} == {"wealth_tier": (300, 300), "cooperation_depth": (300, 300)}


def test_a_run_killed_midway_leaves_the_previous_run_intact(loaded):
    engine, graph = loaded
    with pytest.raises(RuntimeError, match="simulated"):
        classify(engine, graph, progress=False, _fail_after_rows=300)
    with engine.connect() as conn:
        runs = dict(conn.execute(sa.text("SELECT run_id, status FROM classification_runs")).all())
        tags = dict(conn.execute(sa.text("SELECT run_id, count(*) FROM tags GROUP BY run_id")).all())
    assert runs == {1: "published", 2: "failed"}
    assert tags == {1: 600}


def test_classify_refuses_an_unsynced_graph(engine, graph, bundle_dir):
    from clientstrata.jobs.ingest import ingest
    ingest(bundle_dir, engine=engine, progress=False)
    with pytest.raises(InvalidInput, match="sync-graph"):
        classify(engine, graph, progress=False)
