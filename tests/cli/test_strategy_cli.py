"""`clientstrata strategy effect`: the effect report the API and SDK give, as a user runs it."""

import json
import os
import subprocess
import sys

from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.ingest.campaign import Planted, simulate_campaign
from clientstrata.jobs.strategies.effect import strategy_effect


def test_strategy_effect_prints_what_the_api_measures(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        run = conn.exec_driver_sql("SELECT max(run_id) FROM next_best_actions").scalar()
    simulate_campaign(engine, run, {"care_visit": Planted(contact=1.0, respond=1.0, convert=1.0, baseline=0.0)}, seed=1)
    with engine.connect() as conn:
        expected = strategy_effect(conn, load_standard(), run)
    env = {
        **os.environ,
        "CLIENTSTRATA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CLIENTSTRATA_PROGRESS": "0",
    }
    engine.dispose()
    p = subprocess.run(
        [sys.executable, "-m", "clientstrata.cli.main", "strategy", "effect", "--segment", "all", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])["effect"]
    want = expected[expected["segment"] == "all"]
    assert [(r["action_key"], r["offered"], r["converted"]) for r in got] == list(
        zip(want["action_key"], want["offered"].astype(int), want["converted"].astype(int))
    )
    visits = next(r for r in got if r["action_key"] == "care_visit")
    assert visits["converted"] == visits["offered"] > 0 and visits["control_converted"] == 0
    human = subprocess.run(
        [sys.executable, "-m", "clientstrata.cli.main", "strategy", "effect"], env=env, capture_output=True, text=True
    )
    assert "care_visit" in human.stdout and "uplift" in human.stdout


def _cli(env, *argv):
    return subprocess.run(
        [sys.executable, "-m", "clientstrata.cli.main", "strategy", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_strategy_simulate_records_a_campaign_the_effect_then_measures(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        run = conn.exec_driver_sql("SELECT max(run_id) FROM next_best_actions").scalar()
        before = conn.exec_driver_sql("SELECT count(*) FROM action_outcomes").scalar()
    env = {
        **os.environ,
        "CLIENTSTRATA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CLIENTSTRATA_PROGRESS": "0",
    }
    engine.dispose()
    p = _cli(env, "simulate", "--seed", "3", "--plant", "care_visit=1,1,1,0", "--json")
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    done = json.loads(p.stdout.strip().splitlines()[-1])
    assert done["run_id"] == run and done["outcomes"] > 0 and done["planted"]["care_visit"]["uplift"] == 1.0
    with engine.connect() as conn:
        after = conn.exec_driver_sql("SELECT count(*) FROM action_outcomes").scalar()
        audited = conn.exec_driver_sql("SELECT count(*) FROM audit_log WHERE action = 'campaign.simulated'").scalar()
    assert after - before == done["outcomes"] and audited == 1
    effect = json.loads(_cli(env, "effect", "--segment", "all", "--json").stdout.strip().splitlines()[-1])["effect"]
    visits = next(r for r in effect if r["action_key"] == "care_visit")
    # the planted effect, measured: every treated customer converted, no held-out one did
    assert visits["converted"] == visits["offered"] > 0 and visits["control_converted"] == 0
    assert sum(r["contacted"] for r in effect) > 0
    again = _cli(env, "simulate")  # a campaign is recorded once: twice would double its outcomes
    assert again.returncode != 0 and "already" in again.stderr and "Traceback" not in again.stderr
    bad = _cli(env, "simulate", "--run", str(run), "--plant", "care_visit=2,1")
    assert bad.returncode != 0 and "--plant" in bad.stderr and "Traceback" not in bad.stderr
