import datetime as dt

import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import NotFound
from clientstrata.graph.record.audit import audit_trail
from clientstrata.graph.record.queries import CustomerFilter, customer_page
from clientstrata.jobs.errors import InvalidState, InvalidValue, MakerIsChecker, ReasonRequired, UnknownDimension
from clientstrata.jobs.governance.overrides import (
    approve_override,
    expire_overrides,
    list_overrides,
    propose_override,
    reject_override,
    revoke_override,
)
from clientstrata.jobs.runs.explain import explained_tags, words
from clientstrata.jobs.runs.history import tags_as_of
from clientstrata.jobs.runs.pipeline import classify

T0 = dt.datetime(2026, 11, 1, 9, 0)


def _tag(engine, customer_id, dimension="wealth_tier", **kw):
    with engine.connect() as conn:
        if "at" in kw:
            tags = tags_as_of(conn, [customer_id], kw["at"])
        else:
            tags = explained_tags(conn, [customer_id])
    return next(t for t in tags[customer_id] if t["dimension"] == dimension)


def _other(value):
    return "private_banking" if value != "private_banking" else "mass"


def test_maker_cannot_check_and_every_refusal_is_typed(loaded):
    engine, _ = loaded
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", "C0000001", "wealth_tier", "wealth", "verified off-book assets")
    with engine.begin() as conn, pytest.raises(MakerIsChecker, match="second person") as err:
        approve_override(conn, "MEI", ov.override_id)
    assert err.value.code == "MAKER_IS_CHECKER"
    with engine.begin() as conn, pytest.raises(MakerIsChecker):
        reject_override(conn, "mei", ov.override_id, "changed my mind")
    with engine.begin() as conn:
        with pytest.raises(ReasonRequired) as err:
            propose_override(conn, "mei", "C0000001", "wealth_tier", "wealth", "   ")
        assert err.value.code == "REASON_REQUIRED"
        with pytest.raises(NotFound) as err:
            propose_override(conn, "mei", "C9999999", "wealth_tier", "wealth", "why")
        assert err.value.code == "NOT_FOUND"
        with pytest.raises(UnknownDimension, match=r"has: .*cooperation_depth, .*wealth_tier") as err:
            propose_override(conn, "mei", "C0000001", "wealth_teir", "wealth", "why")
        assert err.value.code == "UNKNOWN_DIMENSION"
        with pytest.raises(InvalidValue, match="mass, affluent, wealth, private_banking") as err:
            propose_override(conn, "mei", "C0000001", "wealth_tier", "platinum", "why")
        assert err.value.code == "INVALID_VALUE"
        with pytest.raises(InvalidValue, match="never apply"):
            propose_override(
                conn,
                "mei",
                "C0000001",
                "wealth_tier",
                "wealth",
                "why",
                expires_on=dt.date(2026, 1, 1),
                today=dt.date(2026, 1, 1),
            )
        with pytest.raises(NotFound):
            approve_override(conn, "li", 999)
    with engine.connect() as conn:
        assert list_overrides(conn)["status"].tolist() == ["proposed"]  # nothing else was written


def test_reject_then_no_decision_is_possible(loaded):
    engine, _ = loaded
    before = _tag(engine, "C0000002")
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", "C0000002", "wealth_tier", _other(before["value"]), "RM says so")
        rejected = reject_override(conn, "li", ov.override_id, "no evidence of the assets")
    assert rejected.status == "rejected" and rejected.decided_by == "li"
    with engine.begin() as conn, pytest.raises(InvalidState) as err:
        approve_override(conn, "li", ov.override_id)
    assert err.value.code == "INVALID_STATE"
    with engine.begin() as conn, pytest.raises(InvalidState):
        revoke_override(conn, "li", ov.override_id, "oops")
    assert _tag(engine, "C0000002")["value"] == before["value"]


def test_approved_override_survives_a_rerun_and_shows_both_values(loaded):
    engine, graph = loaded
    computed = _tag(engine, "C0000003")
    target = _other(computed["value"])
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", "C0000003", "wealth_tier", target, "assets held at a sister bank")
    assert _tag(engine, "C0000003")["value"] == computed["value"]  # proposed is not in force
    with engine.begin() as conn:
        approve_override(conn, "li", ov.override_id, note="statements seen")
    classify(engine, graph, progress=False)
    tag = _tag(engine, "C0000003")
    assert tag["run_id"] == 2
    assert (tag["value"], tag["computed_value"]) == (target, computed["value"])
    assert tag["override_id"] == ov.override_id and tag["overridden_by"] == "li"
    assert tag["override_reason"] == "assets held at a sister bank"
    assert tag["label_en"] != computed["label_en"] and "manual override" in words(tag, "en")
    assert "人工调整" in words(tag, "zh") and "mei" in words(tag, "zh") and "li" in words(tag, "en")
    for lang in ("en", "zh"):  # the computed reason is still there, in the reader's language
        assert words(computed, lang) in words(tag, lang)
    # the customer list filters by what readers see
    with engine.connect() as conn:
        ids = {r["customer_id"] for r in customer_page(conn, 1000, flt=CustomerFilter(tier=target)).rows}
        old = {r["customer_id"] for r in customer_page(conn, 1000, flt=CustomerFilter(tier=computed["value"])).rows}
    assert "C0000003" in ids and "C0000003" not in old


def test_revoke_restores_the_computed_value_and_a_new_approval_supersedes(loaded):
    engine, _ = loaded
    computed = _tag(engine, "C0000004")["value"]
    values = [v for v in ("mass", "affluent", "wealth") if v != computed]
    with engine.begin() as conn:
        a = propose_override(conn, "mei", "C0000004", "wealth_tier", values[0], "first look")
        approve_override(conn, "li", a.override_id)
        b = propose_override(conn, "mei", "C0000004", "wealth_tier", values[1], "second look")
        approve_override(conn, "li", b.override_id)
    assert _tag(engine, "C0000004")["value"] == values[1]
    with engine.connect() as conn:
        statuses = dict(zip(list_overrides(conn)["override_id"], list_overrides(conn)["status"]))
    assert statuses == {a.override_id: "revoked", b.override_id: "approved"}
    with engine.begin() as conn, pytest.raises(InvalidState):
        revoke_override(conn, "li", a.override_id, "already superseded")
    with engine.begin() as conn:
        revoke_override(conn, "mei", b.override_id, "customer moved assets out")
    tag = _tag(engine, "C0000004")
    assert tag["value"] == tag["computed_value"] == computed and tag["override_id"] is None


def test_expired_override_stops_applying_on_its_day(loaded):
    engine, _ = loaded
    computed = _tag(engine, "C0000005")["value"]
    with engine.begin() as conn:
        ov = propose_override(
            conn,
            "mei",
            "C0000005",
            "wealth_tier",
            _other(computed),
            "temporary review",
            expires_on=dt.date(2030, 1, 1),
            at=T0,
        )
        approve_override(conn, "li", ov.override_id, at=T0 + dt.timedelta(hours=1))
    assert _tag(engine, "C0000005", at=dt.datetime(2029, 12, 31, 23, 59))["value"] == _other(computed)
    assert _tag(engine, "C0000005", at=dt.date(2029, 12, 31))["override_id"] == ov.override_id
    assert _tag(engine, "C0000005", at=dt.datetime(2030, 1, 1, 0, 0))["value"] == computed
    with engine.begin() as conn:
        assert expire_overrides(conn, today=dt.date(2029, 12, 31)) == []
        assert expire_overrides(conn, today=dt.date(2030, 1, 1)) == [ov.override_id]
        assert list_overrides(conn)["status"].tolist() == ["expired"]
        with pytest.raises(InvalidState):
            revoke_override(conn, "li", ov.override_id, "too late")


def test_every_step_is_audited(loaded):
    engine, _ = loaded
    computed = _tag(engine, "C0000006")["value"]
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", "C0000006", "wealth_tier", _other(computed), "inheritance")
        approve_override(conn, "li", ov.override_id, note="probate documents")
        revoke_override(conn, "zhao", ov.override_id, "assets moved")
        trail = audit_trail(conn, "override", ov.override_id)
        runs = audit_trail(conn, "classification_run")
    assert trail["action"].tolist() == ["override.proposed", "override.approved", "override.revoked"]
    assert trail["actor"].tolist() == ["mei", "li", "zhao"]
    assert trail["at"].notna().all()
    assert trail["details"][0]["reason"] == "inheritance" and trail["details"][1]["note"] == "probate documents"
    assert trail["details"][2]["reason"] == "assets moved"
    assert runs["action"].tolist() == ["run.started", "run.published"]


def test_concurrent_decisions_cannot_both_win(loaded):
    engine, _ = loaded
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", "C0000007", "wealth_tier", "wealth", "review")
    with engine.begin() as conn:
        approve_override(conn, "li", ov.override_id)
    with engine.begin() as conn, pytest.raises(InvalidState, match="approved"):
        reject_override(conn, "zhao", ov.override_id, "late")
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action LIKE 'override.%'")).scalar()
    assert n == 2


def test_reading_overrides_filters_pages_and_keeps_to_the_book(loaded):
    """The reads a reviewer and a notebook use: filters, keyset pages, and an RM's book — an
    override on another book's customer is not found, as if it did not exist."""
    from clientstrata.graph.errors import InvalidInput
    from clientstrata.graph.record.models import Individual
    from clientstrata.jobs.governance.overrides import get_override, overrides_page

    engine, _ = loaded
    with engine.connect() as conn:
        owners = dict(
            conn.execute(
                sa.select(Individual.customer_id, Individual.rm_id).where(
                    Individual.customer_id.in_(["C0000001", "C0000002", "C0000003"])
                )
            ).all()
        )
    rm = owners["C0000001"]
    assert rm and owners["C0000003"] != rm, "the test bank should give C0000001 and C0000003 different RMs"
    with engine.begin() as conn:
        a = propose_override(conn, "mei", "C0000001", "wealth_tier", "wealth", "off-book assets")
        b = propose_override(conn, "li", "C0000003", "wealth_tier", "mass", "assets pledged")
        c = propose_override(conn, "mei", "C0000003", "cooperation_depth", "ecosystem_synergy", "group payroll")
        approve_override(conn, "li", c.override_id)
    with engine.connect() as conn:
        df = list_overrides(conn)
        assert df["override_id"].tolist() == [a.override_id, b.override_id, c.override_id]
        assert list_overrides(conn, proposed_by="mei")["override_id"].tolist() == [a.override_id, c.override_id]
        assert list_overrides(conn, status="approved", dimension="cooperation_depth")["override_id"].tolist() == [
            c.override_id
        ]
        assert list_overrides(conn, customer_id="C0000003", status="proposed")["override_id"].tolist() == [
            b.override_id
        ]
        mine = list_overrides(conn, book=rm)
        assert (
            set(mine["customer_id"]) <= {cid for cid, r in owners.items() if r == rm}
            and a.override_id in set(mine["override_id"])
            and b.override_id not in set(mine["override_id"])
        )
        with pytest.raises(InvalidInput, match="proposed, approved, rejected, revoked, expired"):
            list_overrides(conn, status="pending")
        first, more = overrides_page(conn, first=2)
        rest, more_after = overrides_page(conn, first=2, after=first[-1].override_id)
        assert [o.override_id for o in first + rest] == df["override_id"].tolist() and more and not more_after
        assert first[0] == get_override(conn, a.override_id) == get_override(conn, a.override_id, book=rm)
        with pytest.raises(NotFound):
            get_override(conn, b.override_id, book=rm)
        assert get_override(conn, b.override_id).customer_id == "C0000003"
        with pytest.raises(InvalidInput, match="`first`"):
            overrides_page(conn, first=0)
