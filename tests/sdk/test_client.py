"""The SDK against a live server on loopback: real HTTP, real gql client."""

import pytest

from clientstrata.sdk import APIError, AuthenticationError, Client, TransportError


@pytest.fixture
def token(make_token):
    return make_token("marketing_analyst")


@pytest.fixture(scope="module")
def token_ro(make_token_ro):
    return make_token_ro("marketing_analyst")


def test_customers_dataframe_has_every_customer(server_ro, token_ro):
    df = Client(server_ro, token_ro, progress=False).customers()
    assert len(df) == 300 and df["customer_id"].is_unique
    assert {"wealth_tier", "cooperation_depth"} <= set(df.columns)
    assert set(df["wealth_tier"]) <= {"mass", "affluent", "wealth", "private_banking"}
    assert str(df["birth_date"].dtype).startswith("datetime64")
    wealthy = Client(server_ro, token_ro, progress=False).customers(tier="affluent", dimensions=["wealth_tier"])
    assert list(wealthy.columns[-1:]) == ["wealth_tier"]
    assert len(wealthy) == (df["wealth_tier"] == "affluent").sum() > 0
    both = Client(server_ro, token_ro, progress=False).customers(tags={"wealth_tier": ["wealth", "private_banking"]})
    assert set(both["customer_id"]) == set(df.loc[df["wealth_tier"].isin(["wealth", "private_banking"]), "customer_id"])


def test_bulk_pull_pages_without_gaps(server_ro, token_ro):
    df = Client(server_ro, token_ro, progress=False, page_size=70).customers(dimensions=[])  # five pages
    assert len(df) == 300 and df["customer_id"].is_unique and df["customer_id"].is_monotonic_increasing


def test_household_dataframe(server_ro, token_ro):
    df = Client(server_ro, token_ro, progress=False).household("H0000001")
    assert len(df) >= 2 and {"role", "aum", "id", "tier"} <= set(df.columns)
    assert df.attrs["aum"] == pytest.approx(df["aum"].sum())


def test_errors_are_translated(server_ro, token_ro):
    with pytest.raises(APIError, match="no household"):
        Client(server_ro, token_ro, progress=False).household("none")
    with pytest.raises(ValueError, match="unknown filter"):
        Client(server_ro, token_ro, progress=False).customers(colour="red")
    with pytest.raises(AuthenticationError, match="invalid or revoked token"):
        Client(server_ro, "cst_forged", progress=False).customers()
    with pytest.raises(AuthenticationError, match="missing bearer token"):
        Client(server_ro, progress=False).customers()
    with pytest.raises(TransportError):
        Client("http://127.0.0.1:9/graphql", progress=False, timeout=2).customers()


def test_households_dataframe_syncs_incrementally(server, token, loaded, ingest_rows):
    import sqlalchemy as sa

    engine, _ = loaded
    client = Client(server, token, progress=False, page_size=30)  # three pages
    df = client.households()
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM households")).scalar()
        hid, account, month, balance = conn.execute(
            sa.text("""
            SELECT hm.household_id, b.account_id, b.month, b.avg_daily_balance FROM balances_monthly b
            JOIN accounts a ON a.account_id = b.account_id JOIN products p ON p.product_id = a.product_id
            JOIN household_members hm ON hm.customer_id = a.owner_id
            WHERE p.family = 'deposit' AND a.currency = 'CNY' AND b.month = (SELECT max(month) FROM balances_monthly)
            ORDER BY b.account_id""")
        ).first()
    assert list(df.columns) == ["household_id", "name", "status", "tier", "aum", "member_count", "updated_at"]
    assert len(df) == n and df["household_id"].is_unique and str(df["updated_at"].dtype).startswith("datetime64")
    assert client.households(status="confirmed")["status"].eq("confirmed").all()
    watermark = df["updated_at"].max()
    assert client.households(updated_since=watermark).empty
    ingest_rows({"balances_monthly": [{"account_id": account, "month": month, "avg_daily_balance": balance + 500}]})
    changed = client.households(updated_since=watermark)
    assert list(changed["household_id"]) == [hid]
    assert changed["aum"].iloc[0] == pytest.approx(df.set_index("household_id").loc[hid, "aum"] + 500, abs=0.01)
    with pytest.raises(ValueError, match="unknown filter"):
        client.households(colour="red")


def test_segments_changes_alerts_and_runs_as_dataframes(server_ro, make_token_ro, loaded_ro):
    import sqlalchemy as sa

    engine, _ = loaded_ro
    client = Client(server_ro, make_token_ro("marketing_analyst"), progress=False)
    seg = client.segments("wealth_tier")
    assert seg["customers"].sum() == 300 and seg["share"].sum() == pytest.approx(1, abs=0.01)
    assert set(seg["value"]) <= {"mass", "affluent", "wealth", "private_banking"}
    clusters = client.segments("behaviour_cluster")
    assert clusters["description"].notna().all() and clusters["customers"].sum() == 300
    feed = client.changes()
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM classification_changes")).scalar()
    assert len(feed) == stored > 0 and feed["seq"].is_monotonic_increasing and feed["seq"].is_unique
    resumed = client.changes(after=feed.attrs["cursor"])
    assert resumed.empty and resumed.attrs["cursor"] == feed.attrs["cursor"]  # nothing new, nothing repeated
    runs = client.runs()
    assert list(runs["status"]) == ["published"] and runs["published_at"].notna().all()
    alerts = client.alerts()
    with engine.connect() as conn:
        assert len(alerts) == conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar()
    some = alerts["type"].iloc[0]
    assert client.alerts(type=some)["type"].eq(some).all()
    with pytest.raises(ValueError, match="unknown filter"):
        client.alerts(colour="red")


def test_whatif_is_submitted_then_waited_for_and_overrides_read_as_dataframes(server, make_token, loaded, tmp_path):
    from importlib import resources

    from clientstrata.jobs.governance.overrides import propose_override
    from clientstrata.sdk import WhatIfReport

    engine, _ = loaded
    client = Client(server, make_token("marketing_analyst"), progress=False)
    text = resources.files("clientstrata.jobs.classification").joinpath("standards", "default.yaml").read_text("utf-8")
    with pytest.raises(APIError, match=r"line \d+: dimensions.wealth_tier.bands\[2\]") as err:
        client.submit_whatif(text.replace("label_en: Wealth, min: 500000,", "label_en: Wealth, min: 40000,"))
    assert err.value.codes == ["INVALID_STANDARD"]
    draft = text.replace("label_en: Affluent, min: 50000,", "label_en: Affluent, min: 60000,")
    report = client.whatif(draft, sample=4, timeout=300)
    assert isinstance(report, WhatIfReport) and report.status == "done" and report.base_run_id == 1
    assert list(report.summary.columns) == ["dimension", "customers", "moved"]
    tiers = report.summary.set_index("dimension").loc["wealth_tier"]
    assert tiers["customers"] == 300 and tiers["moved"] > 0 and report.moved == report.summary["moved"].sum()
    moves = report.from_to[report.from_to["dimension"] == "wealth_tier"]
    assert moves["customers"].sum() == tiers["moved"] and set(moves["to_value"]) == {"mass"}
    sample = report.sample[report.sample["dimension"] == "wealth_tier"]
    assert len(sample) == min(4, tiers["moved"]) and sample["customer_id"].is_monotonic_increasing
    assert f"vs run 1: {report.moved:,} tags move" in repr(report)
    # a file works as well as its text; fetched again by id, without waiting, it is the same report
    path = tmp_path / "draft.yaml"
    path.write_text(draft, encoding="utf-8")
    again = client.whatif_report(client.submit_whatif(path, sample=4), timeout=300)
    assert again.summary.equals(report.summary) and again.whatif_id == report.whatif_id + 1
    assert client.whatif_report(report.whatif_id, wait=False).from_to.equals(report.from_to)
    with pytest.raises(APIError, match="no what-if with id 999"):
        client.whatif_report(999)

    with engine.begin() as conn:
        made = propose_override(conn, "mei", "C0000001", "wealth_tier", "wealth", "verified off-book assets")
    df = client.overrides(status="proposed")
    assert df["override_id"].tolist() == [made.override_id] and df["proposed_by"].tolist() == ["mei"]
    assert str(df["proposed_at"].dtype).startswith("datetime64") and df["decided_at"].isna().all()
    assert client.overrides(status="approved").empty and len(client.overrides(customer_id="C0000001")) == 1
    with pytest.raises(ValueError, match="unknown filter"):
        client.overrides(colour="red")
