"""Household and customer rollups: current at once after an ingest, refreshed only where the
ingest touched, versioned in commit order; household tiers move with published runs."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import CustomerRollup, HouseholdRollup, RollupClock
from clientstrata.jobs.classification.features import current_aum, monthly_aum
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.rollups import rebuild_rollups, refresh_rollups
from clientstrata.jobs.ingest.sync import sync_graph
from clientstrata.jobs.runs.pipeline import classify

LATEST_BALANCE = """
    SELECT hm.household_id, a.owner_id, b.account_id, b.month, b.avg_daily_balance
    FROM balances_monthly b JOIN accounts a ON a.account_id = b.account_id
    JOIN products p ON p.product_id = a.product_id JOIN household_members hm ON hm.customer_id = a.owner_id
    JOIN households h ON h.household_id = hm.household_id
    WHERE a.owner_type = 'individual' AND p.family = 'deposit' AND a.currency = 'CNY' AND h.status = 'confirmed'
      AND b.month = (SELECT max(month) FROM balances_monthly)
    ORDER BY hm.household_id, b.account_id"""


def rollups(engine, table) -> dict[str, dict]:
    key = table.__table__.primary_key.columns.keys()[0]
    with engine.connect() as conn:
        return {r[key]: dict(r) for r in conn.execute(sa.select(table.__table__)).mappings()}


@pytest.fixture
def ingested(engine, bundle_dir):
    ingest(bundle_dir, engine=engine, progress=False)
    return engine


def test_rollups_agree_with_the_graph_views(ingested, graph):
    """The household AUM the graph adds up after a sync is the one the rollups hold."""
    sync_graph(ingested, graph, progress=False)
    households, customers = rollups(ingested, HouseholdRollup), rollups(ingested, CustomerRollup)
    with ingested.connect() as conn:
        aum = current_aum(monthly_aum(conn, load_standard().fx_to_cny)).round(2)
        n_people = conn.execute(sa.text("SELECT count(*) FROM individuals")).scalar()
        n_households = conn.execute(sa.text("SELECT count(*) FROM households")).scalar()
    assert len(customers) == n_people and len(households) == n_households
    assert all(customers[c]["aum"] == pytest.approx(float(aum.get(c, 0)), abs=0.01) for c in customers)
    views = graph.households(sorted(households))
    for hid, view in views.items():
        assert households[hid]["aum"] == pytest.approx(view.aum, abs=0.02), hid
        assert households[hid]["member_count"] == len(view.members)


def test_a_changed_balance_moves_its_household_at_once_and_nothing_else(ingested, ingest_rows):
    before_h, before_c = rollups(ingested, HouseholdRollup), rollups(ingested, CustomerRollup)
    with ingested.connect() as conn:
        hid, cid, account, month, balance = conn.execute(sa.text(LATEST_BALANCE)).first()
    ingest_rows(
        {
            "balances_monthly": [
                {"account_id": account, "month": month, "avg_daily_balance": round(balance + 1_000_000, 2)}
            ]
        }
    )
    after_h, after_c = rollups(ingested, HouseholdRollup), rollups(ingested, CustomerRollup)
    assert after_h[hid]["aum"] == pytest.approx(before_h[hid]["aum"] + 1_000_000, abs=0.01)
    assert after_c[cid]["aum"] == pytest.approx(before_c[cid]["aum"] + 1_000_000, abs=0.01)
    newest = max(r["version"] for r in before_h.values())
    assert after_h[hid]["version"] > newest and after_h[hid]["updated_at"] > before_h[hid]["updated_at"]
    # only that household and that customer have a new version; the rest are untouched
    assert {h for h, r in after_h.items() if r != before_h[h]} == {hid}
    assert {c for c, r in after_c.items() if r != before_c[c]} == {cid}


def test_refresh_is_incremental_unless_a_new_month_arrives(ingested, ingest_rows):
    with ingested.connect() as conn:
        hid, cid, account, month, _ = conn.execute(sa.text(LATEST_BALANCE)).first()
    with ingested.begin() as conn:
        report = refresh_rollups(conn, [cid])
    assert not report.full and report.customers == 0 and report.households == 0  # nothing changed
    with ingested.connect() as conn:  # and wrote nothing, not even the clock
        assert conn.execute(sa.select(RollupClock.version)).scalar() == report.version
    # a new balance month changes everyone's current AUM: the next refresh rebuilds them all
    year, mon = map(int, month.split("-"))
    later = f"{year + mon // 12}-{mon % 12 + 1:02d}"
    ingest_rows({"balances_monthly": [{"account_id": account, "month": later, "avg_daily_balance": 5.0}]})
    with ingested.connect() as conn:
        assert conn.execute(sa.select(RollupClock.month)).scalar() == later
    after_c = rollups(ingested, CustomerRollup)
    assert after_c[cid]["aum"] == pytest.approx(5.0)
    assert sum(r["aum"] == 0 for r in after_c.values()) > len(after_c) / 2  # nobody else has that month yet


def test_a_new_member_moves_the_household(ingested, ingest_rows):
    with ingested.connect() as conn:
        loner = conn.execute(
            sa.text("""SELECT c.customer_id FROM customer_rollups c WHERE c.household_id IS NULL
            AND c.aum > 0 ORDER BY c.customer_id""")
        ).scalar()
        hid = conn.execute(
            sa.text("SELECT household_id FROM households WHERE status = 'confirmed' ORDER BY household_id")
        ).scalar()
    before = rollups(ingested, HouseholdRollup)[hid]
    lone_aum = rollups(ingested, CustomerRollup)[loner]["aum"]
    ingest_rows({"household_members": [{"household_id": hid, "customer_id": loner, "role": "other"}]})
    after = rollups(ingested, HouseholdRollup)[hid]
    assert after["member_count"] == before["member_count"] + 1
    assert after["aum"] == pytest.approx(before["aum"] + lone_aum, abs=0.01) and after["version"] > before["version"]
    assert rollups(ingested, CustomerRollup)[loner]["household_id"] == hid


def test_a_publish_sets_household_tiers_and_a_rebuild_changes_nothing_more(ingested, graph):
    sync_graph(ingested, graph, progress=False)
    before = rollups(ingested, HouseholdRollup)
    assert all(r["tier"] is None for r in before.values())  # no run yet
    classify(ingested, graph, progress=False)
    after = rollups(ingested, HouseholdRollup)
    with ingested.connect() as conn:
        heads = dict(
            conn.execute(
                sa.text("""
            SELECT hm.household_id, t.value FROM household_members hm JOIN households h ON h.household_id = hm.household_id
            JOIN tags t ON t.customer_id = hm.customer_id AND t.dimension = 'household_wealth_tier'
            WHERE h.status = 'confirmed' AND hm.role = 'head'""")
            ).all()
        )
        candidates = set(
            conn.execute(sa.text("SELECT household_id FROM households WHERE status = 'candidate'")).scalars()
        )
    assert heads and all(after[h]["tier"] == t for h, t in heads.items())
    assert all(after[h]["tier"] is None for h in candidates)
    moved = {h for h in after if after[h]["tier"] is not None}
    assert all(after[h]["version"] > before[h]["version"] for h in moved)
    with ingested.begin() as conn:
        assert rebuild_rollups(conn).households == 0  # content unchanged: no new versions
    assert rollups(ingested, HouseholdRollup) == after
    classify(ingested, graph, progress=False)  # a run that moves no tier touches no household
    assert rollups(ingested, HouseholdRollup) == after
    head = next(h for h in moved if h in heads)
    with ingested.begin() as conn:  # as if the stored tier were stale: the next publish corrects it
        conn.execute(
            sa.text("UPDATE household_rollups SET tier = 'stale', fingerprint = 'stale' WHERE household_id = :h"),
            {"h": head},
        )
    classify(ingested, graph, progress=False)
    again = rollups(ingested, HouseholdRollup)
    assert again[head]["tier"] == heads[head] and again[head]["version"] > after[head]["version"]
    assert {h: r for h, r in again.items() if h != head} == {h: r for h, r in after.items() if h != head}


def test_household_views_read_the_rollups_within_the_book(ingested):
    from clientstrata.graph.errors import NotFound
    from clientstrata.graph.views import household_view, households_view

    with ingested.connect() as conn:
        rows = conn.execute(
            sa.text("""SELECT hm.household_id, hm.customer_id, i.rm_id FROM household_members hm
            JOIN individuals i ON i.customer_id = hm.customer_id ORDER BY hm.household_id""")
        ).all()
        stored = rollups(ingested, HouseholdRollup)
        hid, _, rm = next(r for r in rows if r[2] and any(o[0] == r[0] and o[2] != r[2] for o in rows))
        whole = household_view(conn, hid)
        mine = households_view(conn, [hid, "H-none"], rm)
        foreign = next(r[0] for r in rows if all(o[2] != rm for o in rows if o[0] == r[0]))
        with pytest.raises(NotFound):
            household_view(conn, foreign, rm)
    assert whole.aum == pytest.approx(stored[hid]["aum"]) and len(whole.members) == whole.member_count
    assert whole.members["aum"].sum() == pytest.approx(whole.aum, abs=0.02)
    assert list(mine) == [hid] and set(mine[hid].members["customer_id"]) == {
        c for h, c, r in rows if h == hid and r == rm
    }
    assert mine[hid].aum == whole.aum and mine[hid].member_count == whole.member_count
