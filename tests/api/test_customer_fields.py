"""The customer 360 carries what the record holds and front ends need: email, occupation,
onboarding date, age, annual income, credit score and PEP flag (masked or withheld, and audited,
as the other PII), and both AUM figures, named so nobody expects them to reconcile (issue 14)."""

import datetime as dt

import sqlalchemy as sa

from clientstrata.graph.record.models import AuditEntry, Individual
from clientstrata.graph.record.pii import mask_email

Q = """query($id: ID!) { customer(id: $id) { email occupation onboardedOn age annualIncome creditScore isPep
  birthDate aum aumMonthAverage currentBalance holdings { family balance holdings { currency balance } } } }"""
PERSONAL = {"email", "annualIncome", "creditScore", "isPep"}


def _record(engine, cid):
    with engine.connect() as conn:
        return conn.execute(sa.select(Individual).where(Individual.customer_id == cid)).mappings().one()


def test_the_360_fields_agree_with_the_record_and_are_audited(app, gql, make_token, loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        cid = (
            conn.execute(
                sa.select(Individual.customer_id).where(
                    Individual.email.isnot(None), Individual.annual_income.isnot(None)
                )
            )
            .scalars()
            .first()
        )
    rec = _record(engine, cid)
    clear = gql(app, make_token("risk_officer"), Q, id=cid)["data"]["customer"]
    assert clear["email"] == rec["email"] and clear["occupation"] == rec["occupation"]
    assert clear["annualIncome"] == float(rec["annual_income"]) and clear["creditScore"] == rec["credit_score"]
    assert clear["isPep"] == rec["is_pep"]
    assert clear["onboardedOn"] == (rec["onboarded_on"].isoformat() if rec["onboarded_on"] else None)
    born, today = rec["birth_date"], dt.date.today()
    assert clear["age"] == today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    with engine.connect() as conn:
        details = conn.execute(
            sa.select(AuditEntry.details).where(AuditEntry.action == "pii.read", AuditEntry.entity_id == cid)
        ).scalars()
        fields = {d["field"] for d in details}
    assert {"email", "annual_income", "credit_score", "is_pep"} <= fields

    masked = gql(app, make_token("marketing_analyst"), Q, id=cid)["data"]["customer"]
    assert masked["email"] == mask_email(rec["email"]) and "*" in masked["email"]
    assert masked["annualIncome"] is None and masked["creditScore"] is None and masked["isPep"] is None
    assert masked["occupation"] == rec["occupation"] and masked["age"] == clear["age"]


def test_both_aum_figures_are_there_and_named_apart(app_ro, gql, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        ids = conn.execute(sa.select(Individual.customer_id).limit(40)).scalars().all()
    token = make_token_ro("marketing_analyst")
    differ = 0
    for cid in ids:
        c = gql(app_ro, token, Q, id=cid)["data"]["customer"]
        assert c["aumMonthAverage"] == c["aum"]
        cny = [h for f in c["holdings"] if f["family"] != "loan" for h in f["holdings"] if h["currency"] == "CNY"]
        if len(cny) == sum(len(f["holdings"]) for f in c["holdings"] if f["family"] != "loan"):
            # all in CNY: today's balance is exactly what the holdings add up to
            assert abs(c["currentBalance"] - sum(h["balance"] or 0 for h in cny)) < 0.01
        differ += abs(c["currentBalance"] - c["aumMonthAverage"]) > 0.01
    assert differ  # the two figures are not the same number under two names


def test_mask_email_keeps_only_the_first_letter_and_domain():
    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask_email(None) is None
