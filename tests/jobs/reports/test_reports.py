import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.cli.main import main
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.models import ClassificationRun, TagSpan
from clientstrata.jobs import reports as R
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.ingest.load import ingest


def _publish(engine, tags: list[dict]) -> int:
    """A published run holding exactly these tags (another job's dimension, as it will arrive)."""
    with engine.begin() as conn:
        seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(ClassificationRun.publish_seq), 0) + 1)).scalar()
        run_id = conn.execute(
            sa.insert(ClassificationRun.__table__).values(
                status="published",
                standard_version="test",
                standard_sha256="0" * 64,
                started_at=dt.datetime.now(),
                published_at=dt.datetime.now(),
                publish_seq=seq,
            )
        ).inserted_primary_key[0]
        spans = TagSpan.__table__
        conn.execute(sa.update(spans).where(spans.c.to_seq.is_(None)).values(to_seq=seq))  # nothing else holds
        conn.execute(
            sa.insert(spans),
            [
                {"from_seq": seq, "label_zh": "", "label_en": "", "rule": "test", "standard_version": "test", **t}
                for t in tags
            ],
        )
    return run_id


def test_tier_distribution_adds_up(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        df = R.tier_distribution(conn)
        scores = conn.execute(sa.text("SELECT sum(score) FROM tags WHERE dimension = 'wealth_tier'")).scalar()
    assert df["customers"].sum() == 300 == df.attrs["customers"]
    assert df["share"].sum() == pytest.approx(1, abs=1e-3) and df["aum_share"].sum() == pytest.approx(1, abs=1e-3)
    assert df["aum"].sum() == pytest.approx(scores, rel=1e-9)  # inputs.aum is the latest month, as the score
    assert df["value"].iloc[0] == "mass" and {"label_zh", "label_en"} <= set(df.columns)
    assert df.attrs["run_id"] == 1 and "300 customers" in df.attrs["summary"]


def test_concentration_reads_the_run_and_falls_back_to_aum(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        by_contribution = R.contribution_concentration(conn)
        tags = pd.read_sql("SELECT inputs FROM tags WHERE dimension = 'value_contribution'", conn)["inputs"]
    contribution = np.sort([(json.loads(i) if isinstance(i, str) else i)["contribution"] for i in tags])[::-1]
    assert by_contribution.attrs["basis"] == "contribution"
    k = by_contribution.attrs["customers_for_target"]
    cum = np.cumsum(contribution) / contribution.sum()  # shares of the net total, as the report says
    assert cum[k - 1] >= 0.8 > (cum[k - 2] if k > 1 else 0)
    with engine.begin() as conn:  # a run without value_contribution: AUM stands in, and says so
        conn.execute(sa.text("DELETE FROM tag_spans WHERE dimension = 'value_contribution'"))
    with engine.connect() as conn:
        df = R.contribution_concentration(conn)
        aum = pd.read_sql("SELECT score FROM tags WHERE dimension = 'wealth_tier'", conn)["score"]
    a = df.attrs
    assert a["basis"] == "aum" and "no value_contribution tags" in a["notes"][0]
    v = np.sort(aum.to_numpy())[::-1]
    cum = np.cumsum(v) / v.sum()
    k = a["customers_for_target"]
    assert cum[k - 1] >= 0.8 > cum[k - 2]  # the fewest customers that reach 80%
    assert a["customer_share_for_target"] == pytest.approx(k / 300, rel=1e-5)
    assert a["top_decile_share"] == pytest.approx(cum[29], rel=1e-5)
    assert df["customers"].sum() == 300 and df["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert df["share"].is_monotonic_decreasing
    assert a["summary"].startswith(f"{k / 300:.0%} of customers bring") and "of AUM" in a["summary"]
    assert a["curve"][0] == [0.0, 0.0] and a["curve"][-1][1] == pytest.approx(1.0)


def test_concentration_reads_value_contribution_when_published(engine):
    # 9 customers bring 72 of 100: the spec's sentence
    tags = [
        {
            "customer_id": f"C{i:03d}",
            "dimension": "value_contribution",
            "value": "D10",
            "score": 100.0,
            "inputs": {"contribution": 8.0},
        }
        for i in range(9)
    ]
    tags += [
        {
            "customer_id": f"C{i:03d}",
            "dimension": "value_contribution",
            "value": "D1",
            "score": 10.0,
            "inputs": {"contribution": 28 / 91},
        }
        for i in range(9, 100)
    ]
    run_id = _publish(engine, tags)
    with engine.connect() as conn:
        df = R.contribution_concentration(conn, run_id, target=0.72)
    assert df.attrs["basis"] == "contribution" and df.attrs["notes"] == []
    assert df.attrs["summary"].startswith("9% of customers bring 72% of contribution")
    assert df["contribution"].sum() == pytest.approx(100, abs=0.05)  # deciles rounded to cents


def test_absent_dimensions_and_runs_are_clear_errors(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        with pytest.raises(
            R.MissingDimension,
            match=r"run 1 has no aml_rsik tags \(dimensions in run 1: "
            r"aml_risk, .*cooperation_depth, .*wealth_tier\)",
        ):
            R.distribution(conn, "aml_rsik")
    with engine.begin() as conn:  # a run without behaviour clusters (a record without transactions)
        conn.execute(sa.text("DELETE FROM tag_spans WHERE dimension = 'behaviour_cluster'"))
    with engine.connect() as conn:
        with pytest.raises(R.MissingDimension, match="--fit"):
            R.clusters(conn)
        with pytest.raises(NotFound):
            R.tier_distribution(conn, run_id=99)
        coop = R.distribution(conn, "cooperation_depth")
    assert coop["customers"].sum() == 300 and "生态协同型" in set(coop["label_zh"])


def test_no_published_run_is_a_clear_error(engine):
    with engine.connect() as conn, pytest.raises(InvalidInput, match="clientstrata classify"):
        R.tier_distribution(conn)


def test_branch_view_and_rm_book_add_up(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        br = R.branch_view(conn, months_back=2)
        rm = R.rm_book(conn)
        tiers = R.tier_distribution(conn)
        monthly = F.monthly_aum(conn, load_standard().fx_to_cny)
    month, before = br.attrs["month"], br.attrs["month_before"]
    assert (pd.Period(month, "M") - pd.Period(before, "M")).n == 2
    assert br["customers"].sum() == 300
    assert br["aum"].sum() == pytest.approx(monthly.loc[monthly["month"] == month, "aum"].sum(), rel=1e-9)
    assert br["aum_before"].sum() == pytest.approx(monthly.loc[monthly["month"] == before, "aum"].sum(), rel=1e-9)
    assert np.allclose(br["change"], br["aum"] - br["aum_before"], atol=0.02)
    tier_cols = rm.attrs["tiers"]
    assert set(tier_cols) == set(tiers["value"])
    assert rm["customers"].sum() == 300
    assert (rm[tier_cols].sum(axis=1) == rm["customers"]).all()
    assert rm["aum"].sum() == pytest.approx(tiers["aum"].sum(), rel=1e-9)
    assert (rm[tier_cols].sum() == tiers.set_index("value")["customers"][tier_cols]).all()


def test_data_quality_shows_broken_rows(engine, bundle_copy):
    path = bundle_copy / "individuals.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    bad = pd.DataFrame(
        [
            {"customer_id": "X1", "name": "坏日期", "birth_date": "1990-02-30"},
            {"customer_id": "X2", "name": "", "birth_date": "1990-13-01"},
        ]
    )
    pd.concat([df, bad], ignore_index=True).fillna("").to_csv(path, index=False)
    ingest(bundle_copy, engine=engine, progress=False)
    with engine.connect() as conn:
        dq = R.data_quality(conn).set_index("table")
    assert dq.loc["individuals", "read"] == 302 and dq.loc["individuals", "quarantined"] == 2
    assert dq.loc["individuals", "loaded"] == 300 and dq.loc["individuals", "in_quarantine"] == 2
    assert dq["balanced"].all() and dq.loc["branches", "quarantined"] == 0
    reasons = dq.loc["individuals", "top_reasons"]
    assert "2 × birth_date: not a date" in reasons and "name is required" in reasons
    assert "quarantined 2" in dq.attrs["summary"]
    with engine.connect() as conn, pytest.raises(NotFound):
        R.data_quality(conn, ingest_id=42)


def test_clusters_report_fits_when_asked_and_reads_published_tags(loaded):
    engine, _ = loaded
    with engine.begin() as conn:  # a run without behaviour clusters (a record without transactions)
        conn.execute(sa.text("DELETE FROM tag_spans WHERE dimension = 'behaviour_cluster'"))
    with engine.connect() as conn:
        fitted = R.clusters(conn, fit=True)
    assert fitted["customers"].sum() == 300 and "not published" in fitted.attrs["notes"][0]
    model = fitted.attrs["model"]
    assert model["k"] == len(fitted) and set(fitted["value"]) == set(model["values"])
    run_id = _publish(
        engine,
        [
            {
                "customer_id": f"C{i}",
                "dimension": "behaviour_cluster",
                "value": "K1" if i < 7 else "K2",
                "score": 1.0,
                "inputs": {},
                "label_en": "high-balance" if i < 7 else "mobile-first",
            }
            for i in range(10)
        ],
    )
    with engine.connect() as conn:
        pub = R.clusters(conn, run_id)
    assert pub[["value", "customers", "label_en"]].values.tolist() == [
        ["K1", 7, "high-balance"],
        ["K2", 3, "mobile-first"],
    ]
    assert pub.attrs["notes"] == []


def test_cli_prints_a_table_or_json(loaded_ro, monkeypatch, capsys):
    engine, _ = loaded_ro
    monkeypatch.setenv("CLIENTSTRATA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["report", "tiers", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["report"] == "tiers" and sum(r["customers"] for r in out["rows"]) == 300
    assert main(["report", "concentration"]) == 0
    text = capsys.readouterr().out
    assert "of customers bring" in text and "of contribution" in text
    assert main(["report", "distribution", "--dimension", "aml_rsik", "--json"]) == 1
    assert "no aml_rsik tags" in json.loads(capsys.readouterr().out.strip())["error"]
    assert main(["report", "data-quality", "--months", "3"]) == 1
    assert "takes no --months" in capsys.readouterr().err


def test_plots_return_figures(loaded_ro):
    pytest.importorskip("matplotlib")
    engine, _ = loaded_ro
    with engine.connect() as conn:
        tiers, conc = R.tier_distribution(conn), R.contribution_concentration(conn)
    fig = R.plot_tier_distribution(tiers)
    assert len(fig.axes[0].patches) == 2 * len(tiers)
    fig = R.plot_pareto(conc)
    line = fig.axes[0].lines[0]
    assert len(line.get_xdata()) == 101 and line.get_ydata()[-1] == pytest.approx(1.0)
