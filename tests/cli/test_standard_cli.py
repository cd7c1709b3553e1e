"""A standard is never swapped silently: the committee's standard, once published, stays live for
the scheduled and the plain `classify`; making another live is `standard adopt` or `--adopt`, audited."""

import json

import sqlalchemy as sa

from clientstrata.cli.main import main
from clientstrata.jobs.classification.standard import load_standard

# the committee moves the affluent floor: customers between 50,000 and 60,000 move down to mass
COMMITTEE = {"label_en: Affluent, min: 50000,": "label_en: Affluent, min: 60000,"}


def run(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1]), err


def _runs(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT run_id, status, standard_sha256 FROM classification_runs ORDER BY run_id")
        ).all()


def test_the_committee_standard_stays_live_for_scheduled_and_plain_runs(cli_env, capsys, write_standard):
    engine, _ = cli_env
    committee = write_standard(replace=COMMITTEE, name="committee.yaml")
    sha = load_standard(committee).sha256
    # a standard that is not live is refused, and nothing is written
    code, out, _ = run(capsys, "classify", "--standard", str(committee))
    assert code == 1 and "not the live one" in out["error"] and "standard adopt" in out["error"]
    code, out, _ = run(capsys, "classify", "--standard", str(committee), "--adopt")
    assert code == 1 and "--actor" in out["error"]  # adopting is audited: someone must do it
    assert len(_runs(engine)) == 1
    # the committee adopts it and publishes with it: the movers are re-tagged and notified once
    code, out, _ = run(capsys, "classify", "--standard", str(committee), "--adopt", "--actor", "chair")
    assert code == 0 and out["run_id"] == 2 and out["changes"] > 0 and out["notifications"] > 0
    # the scheduled tick and a plain classify keep the committee's standard: nobody moves back
    code, out, _ = run(capsys, "classify", "--if-due")
    assert code == 0 and out["due"] and out["run"]["run_id"] == 3
    assert (out["run"]["changes"], out["run"]["notifications"]) == (0, 0)
    code, out, _ = run(capsys, "classify")
    assert code == 0 and (out["run_id"], out["changes"], out["notifications"]) == (4, 0, 0)
    code, out, _ = run(capsys, "classify", "--standard", str(committee))  # naming the live one is fine
    assert code == 0 and out["changes"] == 0
    assert [(r.status, r.standard_sha256 == sha) for r in _runs(engine)] == [("published", False)] + [
        ("published", True)
    ] * 4
    with engine.connect() as conn:
        notified = conn.execute(sa.text("SELECT DISTINCT run_id FROM notifications")).scalars().all()
    assert notified == [2]


def test_adoption_is_audited_and_shown(cli_env, capsys, write_standard):
    engine, _ = cli_env
    committee = write_standard(replace=COMMITTEE, name="committee.yaml")
    std, packaged = load_standard(committee), load_standard()
    code, out, _ = run(capsys, "standard", "show")
    assert code == 0 and out["sha256"] == packaged.sha256 and out["adoptions"] == []
    code, out, _ = run(capsys, "standard", "adopt", str(committee))
    assert code == 1 and "--actor" in out["error"]
    code, out, _ = run(capsys, "standard", "adopt", str(committee), "--actor", "chair", "--note", "committee 2026-12")
    assert code == 0 and (out["sha256"], out["previous_sha256"], out["adopted_by"]) == (
        std.sha256,
        packaged.sha256,
        "chair",
    )
    code, again, _ = run(capsys, "standard", "adopt", str(committee), "--actor", "chair")
    assert code == 0 and again["adoption_id"] is None  # already live: nothing to adopt
    code, shown, _ = run(capsys, "standard", "show")
    assert shown["sha256"] == std.sha256 and [a["adopted_by"] for a in shown["adoptions"]] == ["chair"]
    with engine.connect() as conn:
        entries = conn.execute(
            sa.text("SELECT actor, entity_id, details FROM audit_log WHERE action = 'standard.adopted'")
        ).all()
        registered = conn.execute(sa.text("SELECT count(*) FROM standards WHERE sha256 = :s"), {"s": std.sha256})
        assert registered.scalar() == 1  # the text is in the register, so the adoption can be reproduced
    assert [(e.actor, e.entity_id) for e in entries] == [("chair", std.sha256)]
    details = entries[0].details if isinstance(entries[0].details, dict) else json.loads(entries[0].details)
    assert details["previous_sha256"] == packaged.sha256 and details["note"] == "committee 2026-12"
    # the next plain run uses it, with no flag
    code, out, _ = run(capsys, "classify")
    assert code == 0 and out["standard_version"] == std.version and out["changes"] > 0
