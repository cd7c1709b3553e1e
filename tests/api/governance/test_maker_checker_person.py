"""Maker–checker compares people, not token names: one person's second token cannot approve their
own proposal; another person's token can, whatever its name. The CLI's `--actor` is an operator,
recorded as such and refused as checker when it names the proposer."""

import json

import sqlalchemy as sa

from clientstrata.cli.main import main
from clientstrata.graph.record.access import issue_token
from clientstrata.graph.record.models import AuditEntry


def _token(engine, name, person):
    with engine.begin() as conn:
        return issue_token(conn, "risk_officer", name, person=person)[1]


def _cli(capsys, *argv):
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_one_person_with_two_tokens_never_checks_their_own_proposal(
    app, loaded, propose_override, approve_override, rm_book
):
    engine, _ = loaded
    _, mine, _ = rm_book
    laptop, notebook = _token(engine, "alice laptop", "alice"), _token(engine, "alice notebook", "alice")
    namesake = _token(engine, "alice laptop", "bob")  # bob named his token like alice's: he is not alice

    made = propose_override(
        app, laptop, customerId=mine[0], dimension="wealth_tier", value="private_banking", reason="mandate"
    )
    assert approve_override(app, notebook, made["id"])["__typename"] == "MakerIsChecker"
    assert approve_override(app, namesake, made["id"])["__typename"] == "Override"


def test_the_cli_actor_is_an_operator_and_no_checker_of_their_own(
    app, loaded, cli_env, capsys, propose_override, approve_override, rm_book
):
    engine, _ = loaded
    _, mine, _ = rm_book
    alice = _token(engine, "alice laptop", "alice")
    made = propose_override(
        app, alice, customerId=mine[0], dimension="wealth_tier", value="private_banking", reason="mandate"
    )
    code, out = _cli(capsys, "override", "approve", str(made["id"]), "--actor", "Alice")
    assert code == 1 and "second person" in out["error"]  # the operator names the proposer

    code, out = _cli(
        capsys, "override", "propose", "--customer", mine[1], "--dimension", "wealth_tier",
        "--value", "private_banking", "--reason", "mandate", "--actor", "carol",
    )  # fmt: skip
    assert code == 0
    carol = _token(engine, "ops desk", "carol")
    assert approve_override(app, carol, out["override_id"])["__typename"] == "MakerIsChecker"
    assert approve_override(app, alice, out["override_id"])["__typename"] == "Override"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(AuditEntry.action, AuditEntry.actor, AuditEntry.details)
            .where(AuditEntry.entity_id == str(out["override_id"]))
            .order_by(AuditEntry.audit_id)
        ).all()
    assert [(r.action, r.actor, r.details.get("via"), r.details.get("person")) for r in rows] == [
        ("override.proposed", "carol", "operator", None),
        ("override.approved", "alice laptop", None, "alice"),
    ]
