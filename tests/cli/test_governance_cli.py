import json

import sqlalchemy as sa

from clientstrata.cli.main import main


def run(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1]), err


def test_override_maker_checker_through_the_cli(cli_env, capsys, monkeypatch):
    code, out, err = run(
        capsys,
        "override",
        "propose",
        "--customer",
        "C0000001",
        "--dimension",
        "wealth_tier",
        "--value",
        "private_banking",
        "--reason",
        "family office",
        "--actor",
        "mei",
    )
    assert code == 0 and out["status"] == "proposed" and out["proposed_by"] == "mei"
    oid = str(out["override_id"])
    code, out, err = run(capsys, "override", "approve", oid, "--actor", "mei")
    assert code == 1 and "second person" in out["error"] and "Traceback" not in err
    code, out, _ = run(capsys, "override", "approve", oid)
    assert code == 1 and "--actor" in out["error"]  # nobody said who they are
    monkeypatch.setenv("CLIENTSTRATA_ACTOR", "li")
    code, out, _ = run(capsys, "override", "approve", oid, "--note", "seen")
    assert code == 0 and out["status"] == "approved" and out["decided_by"] == "li"
    code, out, _ = run(capsys, "override", "list")
    assert [o["status"] for o in out["overrides"]] == ["approved"]
    assert (
        len(run(capsys, "override", "list", "--dimension", "wealth_tier", "--proposed-by", "mei")[1]["overrides"]) == 1
    )
    assert run(capsys, "override", "list", "--proposed-by", "li")[1]["overrides"] == []
    assert run(capsys, "override", "list", "--dimension", "risk_preference")[1]["overrides"] == []
    code, out, _ = run(capsys, "override", "revoke", oid, "--reason", "closed")
    assert code == 0 and out["status"] == "revoked"
    code, out, _ = run(capsys, "override", "approve", "999")
    assert code == 1 and out["error"] == "no override with id '999'"


def test_runs_schedule_migration_changes_and_whatif_commands(cli_env, capsys, write_standard):
    code, out, _ = run(capsys, "classify", "--if-due")
    assert code == 0 and out["due"] and out["run"]["run_id"] == 2 and out["run"]["kind"] == "scheduled"
    code, out, _ = run(capsys, "classify", "--if-due")
    assert code == 0 and not out["due"] and out["run"] is None and "next is due" in out["reason"]
    code, out, _ = run(capsys, "runs")
    assert [(r["run_id"], r["kind"]) for r in out["runs"]] == [(1, "on_demand"), (2, "scheduled")]
    code, out, _ = run(capsys, "migration", "--from", "1", "--to", "2", "--dimension", "wealth_tier")
    assert code == 0 and out["customers"] == 300 and out["moved"] == 0
    code, out, _ = run(capsys, "changes", "--after", "0", "--limit", "5")
    assert [c["seq"] for c in out["changes"]] == [1, 2, 3, 4, 5] and out["cursor"] == 5
    draft = write_standard(replace={"label_en: Affluent, min: 50000,": "label_en: Affluent, min: 60000,"})
    code, out, _ = run(capsys, "whatif", "--standard", str(draft))
    assert code == 0 and out["published"] is False and out["base_run_id"] == 2
    assert out["dimensions"]["wealth_tier"]["moved"] == len(out["dimensions"]["wealth_tier"]["moves"]) > 0
    code, out, _ = run(capsys, "runs")
    assert len(out["runs"]) == 2  # what-if published nothing
    # human output says why it did not run
    assert main(["classify", "--if-due"]) == 0
    assert capsys.readouterr().out.startswith("not due: the last scheduled run, 2, was published")


def test_a_cluster_folder_that_does_not_fit_is_refused_without_a_run(cli_env, capsys, tmp_path):
    engine, _ = cli_env
    code, out, err = run(capsys, "classify", "--tags-from", str(tmp_path))
    assert code == 1 and "Traceback" not in err
    assert out["error"].startswith(f"{tmp_path}: refused, nothing published: no manifest.json")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM classification_runs")).scalar() == 1
