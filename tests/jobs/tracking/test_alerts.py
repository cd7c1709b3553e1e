"""Alerts end to end through classify(): routed, written once, acknowledged, listed (jobs/tracking/alerts.py)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.cli.main import main
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.audit import audit_trail
from clientstrata.jobs.errors import InvalidState
from clientstrata.jobs.runs.pipeline import BEFORE_COMMIT, TAGS_WRITTEN, classify
from clientstrata.jobs.tracking import alerts as AL
from clientstrata.jobs.tracking.settings import ALERT_TYPES, SEVERITIES

# --- end to end ---------------------------------------------------------------------------------


def _alerts(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return AL.list_alerts(conn, limit=10_000)


def _pick(candidates, used) -> str:
    c = next(x for x in candidates if x not in used)
    used.add(c)
    return c


def test_end_to_end_alerts_routed_deduplicated_and_atomic(loaded, set_aum, customer_in, crash_run):
    engine, graph = loaded
    used: set[str] = set()
    outflow = _pick(customer_in("wealth_tier", "wealth"), used)
    near = _pick(customer_in("wealth_tier", "mass"), used)
    pep = _pick([c for c in customer_in("aml_risk", "low") if c in customer_in("behaviour_activity", "active")], used)
    sleepy = _pick(customer_in("behaviour_activity", "active"), used)
    set_aum(outflow, 1_000)  # −99 % in the latest month; tier held (watch): still valuable
    set_aum(near, 48_000, every_month=True)  # 4 % under the affluent minimum of 50,000
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE individuals SET is_pep = :t WHERE customer_id = :c"), {"t": True, "c": pep})
        conn.execute(sa.text("UPDATE individuals SET rm_id = NULL WHERE customer_id = :c"), {"c": near})
        conn.execute(
            sa.text("""UPDATE transactions SET booked_at = :old WHERE account_id IN
            (SELECT account_id FROM accounts WHERE owner_id = :c)"""),
            {"old": dt.datetime(2020, 1, 1), "c": sleepy},
        )
        rms = dict(conn.execute(sa.text("SELECT customer_id, rm_id FROM individuals")).all())
    before = _alerts(engine)

    # a run that dies (mid-publish, or just before commit) writes no alerts
    for hook in (crash_run(TAGS_WRITTEN, rows=1), crash_run(BEFORE_COMMIT)):
        with pytest.raises(RuntimeError, match="simulated"):
            classify(engine, graph, progress=False, on_stage=hook)
        assert len(_alerts(engine)) == len(before)

    report = classify(engine, graph, progress=False)
    after = _alerts(engine)
    new = after[after["run_id"] == report.run_id]
    assert report.alerts == len(new) == len(after) - len(before) > 0
    assert report.to_dict()["alerts"] == report.alerts
    got = {(r.alert_type, r.customer_id): r for r in new.itertuples(index=False)}
    for key in [("aum_outflow", outflow), ("near_upgrade", near), ("aml_red_flag", pep), ("dormant", sleepy)]:
        assert key in got, key
    assert "fell 99" in got[("aum_outflow", outflow)].reason
    assert "48,000 is 4% below the Affluent" in got[("near_upgrade", near)].reason
    assert got[("aml_red_flag", pep)].details["factor_points"].get("pep") == 30
    assert "up from low" in got[("aml_red_flag", pep)].reason
    # routed to the customer's RM; a customer without one goes to the branch queue
    for r in new.itertuples(index=False):
        assert r.rm_id == rms[r.customer_id]
    assert got[("near_upgrade", near)].rm_id is None
    assert got[("near_upgrade", near)].details["queue"] == "branch" and got[("near_upgrade", near)].details["branch_id"]
    assert got[("aum_outflow", outflow)].details["queue"] == "rm"
    assert new["fingerprint"].is_unique

    # the same period again: nothing raised twice
    again = classify(engine, graph, progress=False)
    assert again.alerts == 0 and len(_alerts(engine)) == len(after)
    with engine.connect() as conn:
        published = audit_trail(conn, "classification_run", again.run_id, action="run.published")
    assert published["details"].iloc[0]["alerts"] == 0


def test_acknowledge_list_counts_and_audit(loaded):
    engine, _ = loaded
    alerts = _alerts(engine)
    assert len(alerts), "the loaded bank raises alerts on its first run"
    mine = alerts[alerts["rm_id"].notna()].iloc[0]
    rm, aid = mine["rm_id"], int(mine["alert_id"])
    with engine.connect() as conn:
        counts = AL.open_alert_counts(conn, rm)
        assert set(counts) == set(ALERT_TYPES)
        assert sum(counts.values()) == len(AL.list_alerts(conn, rm_id=rm, status="open"))
        assert set(AL.list_alerts(conn, rm_id=rm)["rm_id"]) == {rm}
        one_type = AL.list_alerts(conn, alert_type=mine["alert_type"], customer_ids=[mine["customer_id"]])
        assert aid in set(one_type["alert_id"])
        page = AL.list_alerts(conn, limit=1)
        assert len(page) == 1 and int(
            AL.list_alerts(conn, limit=1, after=int(page["alert_id"].iloc[0]))["alert_id"].iloc[0]
        ) > int(page["alert_id"].iloc[0])
        with pytest.raises(InvalidInput, match="unknown alert type"):
            AL.list_alerts(conn, alert_type="weather")
    with engine.begin() as conn:
        done = AL.acknowledge_alert(conn, "li.rm", aid, note="called the customer")
    assert done["status"] == "acknowledged" and done["acknowledged_by"] == "li.rm"
    with engine.begin() as conn:
        with pytest.raises(InvalidState) as exc:
            AL.acknowledge_alert(conn, "wang.rm", aid)
        assert exc.value.code == "INVALID_STATE" and "already acknowledged by li.rm" in str(exc.value)
        with pytest.raises(NotFound) as nf:
            AL.acknowledge_alert(conn, "li.rm", 10**9)
        assert nf.value.code == "NOT_FOUND"
    with engine.connect() as conn:
        trail = audit_trail(conn, "alert", aid)
        assert list(trail["action"]) == ["alert.acknowledged"]
        assert trail["actor"].iloc[0] == "li.rm" and trail["details"].iloc[0]["note"] == "called the customer"
        assert AL.open_alert_counts(conn, rm)[mine["alert_type"]] == counts[mine["alert_type"]] - 1


def test_cli_alerts_list_and_ack(cli_env, capsys):
    engine, _ = cli_env
    assert main(["alerts", "list", "--status", "open", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["alerts"]
    assert listed and {a["status"] for a in listed} == {"open"}
    first = listed[0]
    assert main(["alerts", "list", "--type", first["alert_type"], "--json"]) == 0
    assert {a["alert_type"] for a in json.loads(capsys.readouterr().out.strip().splitlines()[-1])["alerts"]} == {
        first["alert_type"]
    }
    assert main(["alerts", "ack", str(first["alert_id"]), "--actor", "zhao.rm", "--note", "visited", "--json"]) == 0
    acked = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "zhao.rm"
    assert main(["alerts", "ack", str(first["alert_id"]), "--actor", "zhao.rm", "--json"]) == 1
    out = capsys.readouterr()
    assert "already acknowledged" in json.loads(out.out.strip().splitlines()[-1])["error"]
    assert main(["alerts", "ack", str(first["alert_id"])]) == 1  # no actor
    assert "--actor" in capsys.readouterr().err
    if first["rm_id"]:
        assert main(["alerts", "list", "--rm", first["rm_id"]]) == 0
        assert first["rm_id"] in capsys.readouterr().out


def test_reason_names_the_figures_for_every_type_raised_on_the_loaded_bank(loaded):
    engine, _ = loaded
    alerts = _alerts(engine)
    assert np.all(alerts["reason"].str.contains(r"\d"))
    assert set(alerts["severity"]) <= set(SEVERITIES)
