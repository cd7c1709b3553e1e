import json

import pytest
import sqlalchemy as sa

from clientstrata.cli.main import main
from clientstrata.jobs.classification.standard import InvalidStandard
from clientstrata.jobs.runs.history import migration_matrix
from clientstrata.jobs.runs.pipeline import classify
from clientstrata.jobs.runs.whatif import whatif

AFFLUENT_AT_60K = {"label_en: Affluent, min: 50000,": "label_en: Affluent, min: 60000,"}
TABLES = ("classification_runs", "tags", "classification_changes", "notifications", "audit_log", "standards")


def _counts(engine):
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


def test_whatif_reports_exactly_who_moves_and_publishes_nothing(loaded, write_standard):
    engine, graph = loaded
    draft = write_standard(replace=AFFLUENT_AT_60K)
    before = _counts(engine)
    w = whatif(engine, graph, draft)
    assert _counts(engine) == before  # no run, no tags, no feed, no outbox, no register entry
    assert w.base_run_id == 1
    summary = w.summary().set_index("dimension")
    assert summary.loc["cooperation_depth", "moved"] == 0 and summary.loc["wealth_tier", "customers"] == 300
    moves = w.moves[w.moves["dimension"] == "wealth_tier"]  # the band edge moves other dimensions too
    assert len(moves) == summary.loc["wealth_tier", "moved"] > 0
    assert set(moves["to_value"]) == {"mass"} and set(moves["from_value"]) <= {"affluent", "wealth"}
    # every mover has a month in the band that moved, 50,000–60,000
    aum = w.tags.set_index(["dimension", "customer_id"]).loc["wealth_tier", "inputs"]
    assert all(any(50_000 <= v < 60_000 for v in aum[c]["monthly_aum"].values()) for c in moves["customer_id"])
    m = w.matrix("wealth_tier")
    assert m.to_numpy().sum() == 300 and m.loc["affluent", "mass"] == (moves["from_value"] == "affluent").sum()
    # publishing the draft moves exactly the same customers: both call build_tags
    classify(engine, graph, draft, progress=False, adopt=True, requested_by="chair")
    with engine.connect() as conn:
        published = migration_matrix(conn, 1, 2, "wealth_tier").moves
    assert published.to_dict("records") == moves[["customer_id", "from_value", "to_value"]].to_dict("records")
    d = w.to_dict()
    assert d["published"] is False and d["dimensions"]["wealth_tier"]["moved"] == len(moves)


def test_whatif_against_the_live_standard_moves_nobody(loaded_ro):
    engine, graph = loaded_ro
    w = whatif(engine, graph, None)
    summary = w.summary().set_index("dimension")
    people = ~summary.index.str.startswith("enterprise_")
    assert w.moves.empty and set(summary.loc[people, "customers"]) == {300}
    assert len(set(summary.loc[~people, "customers"])) == 1  # every enterprise, on each enterprise dimension


def test_an_invalid_draft_says_why(loaded_ro, write_standard, capsys, monkeypatch):
    engine, graph = loaded_ro
    bad = write_standard(replace={"min: 500000,": "min: 40000,"})
    with pytest.raises(InvalidStandard, match=r"bands\[2\].*overlaps"):
        whatif(engine, graph, bad)
    monkeypatch.setenv("CLIENTSTRATA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["whatif", "--standard", str(bad), "--json"]) == 1
    out, err = capsys.readouterr()
    assert "overlaps" in json.loads(out.strip().splitlines()[-1])["error"]
    assert err.splitlines()[-1].startswith("clientstrata whatif: ") and "Traceback" not in err
    bad_gov = write_standard(extra="governance: {retag_every_months: quarterly}\n", name="gov.yaml")
    with pytest.raises(InvalidStandard, match="retag_every_months: must be a whole number"):
        whatif(engine, graph, bad_gov)
