"""An approved override that changes a notified tag tells the customer, as a run does: the new
value, its labels and why; revoking it does too; a tag the standard does not notify writes
nothing (issue 14)."""

import datetime as dt

from clientstrata.graph.record.queries import tags_by_customer
from clientstrata.jobs.governance.overrides import approve_override, propose_override, revoke_override
from clientstrata.jobs.runs.notify import outbox

AT = dt.datetime(2026, 11, 2, 10, 0)


def _letters(engine, customer_id):
    with engine.connect() as conn:
        got = outbox(conn, status=None, customer_id=customer_id)
    return got[got["override_id"].notna()]


def _value(engine, customer_id, dimension):
    with engine.connect() as conn:
        return next(
            t["value"] for t in tags_by_customer(conn, [customer_id])[customer_id] if t["dimension"] == dimension
        )


def test_approval_and_revocation_of_a_wealth_tier_override_write_letters(loaded):
    engine, _ = loaded
    cid = "C0000003"
    computed = _value(engine, cid, "wealth_tier")
    target = "private_banking" if computed != "private_banking" else "mass"
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", cid, "wealth_tier", target, "verified off-book assets", at=AT)
        assert _letters(engine, cid).empty  # a proposal tells nobody
    with engine.begin() as conn:
        approve_override(conn, "li", ov.override_id, at=AT + dt.timedelta(minutes=5))
    approved = _letters(engine, cid)
    assert sorted(approved["channel"]) == ["email", "sms"]
    payload = approved["payload"].iloc[0]
    assert (payload["old_value"], payload["new_value"], payload["step"]) == (computed, target, "approved")
    assert payload["new_label_zh"] and payload["new_label_en"] and payload["new_label_en"] != target
    assert "verified off-book assets" in payload["explanation"] and f"#{ov.override_id}" in payload["explanation"]
    with engine.begin() as conn:
        revoke_override(conn, "li", ov.override_id, "assets moved out", at=AT + dt.timedelta(minutes=10))
    letters = _letters(engine, cid)
    revoked = letters[letters["template"] == "wealth_tier_changed_revoked"]
    assert len(letters) == 4 and len(revoked) == 2
    assert (revoked["payload"].iloc[0]["old_value"], revoked["payload"].iloc[0]["new_value"]) == (target, computed)


def test_a_tag_the_standard_does_not_notify_writes_no_letter(loaded):
    engine, _ = loaded
    cid = "C0000004"
    computed = _value(engine, cid, "cooperation_depth")
    ids = [f"C{n:07d}" for n in range(1, 60)]
    with engine.connect() as conn:
        tags = tags_by_customer(conn, ids).values()
    values = {t["value"] for ts in tags for t in ts if t["dimension"] == "cooperation_depth"}
    target = next(v for v in sorted(values) if v != computed)
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", cid, "cooperation_depth", target, "a new mandate", at=AT)
        approve_override(conn, "li", ov.override_id, at=AT + dt.timedelta(minutes=1))
    assert _letters(engine, cid).empty
