"""`actionTable`: the live run's next-best actions of the whole bank as pages of columns — the
stored choice without held-out rows, cursor paging that neither repeats nor skips, the customer
filter, the relationship manager's book, and suitability as it stands now."""

import base64

import orjson
import pyarrow as pa
import sqlalchemy as sa
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.graph.record.models import TagSpan
from clientstrata.jobs.governance.overrides import approve_override, propose_override
from clientstrata.jobs.strategies.nba import stored_actions
from clientstrata.jobs.strategies.worklist import worklist

TABLE = """query($first: Int!, $after: String, $filter: CustomerFilter) {
  actionTable(first: $first, after: $after, filter: $filter) { columns rows totalCount pageInfo { hasNextPage endCursor } }
}"""
ARROW = """query($first: Int!, $after: String) {
  actionTable(first: $first, after: $after) { arrow totalCount pageInfo { hasNextPage endCursor } }
}"""


def _all(app, token, gql, first, **variables):
    rows, after, pages = [], None, 0
    while True:
        page = gql(app, token, TABLE, first=first, after=after, **variables)["data"]["actionTable"]
        rows += page["rows"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            return page["columns"], rows, page["totalCount"], pages
        after = page["pageInfo"]["endCursor"]


def _all_arrow(app, token, gql, first):
    tables, totals, after = [], set(), None
    while True:
        page = gql(app, token, ARROW, first=first, after=after)["data"]["actionTable"]
        with pa.ipc.open_stream(base64.b64decode(page["arrow"])) as reader:
            tables.append(reader.read_all())
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return pa.concat_tables(tables), totals
        after = page["pageInfo"]["endCursor"]


def test_pages_are_the_runs_actions_without_control_rows_ranked_per_customer(app_ro, make_token_ro, loaded_ro, gql):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT max(run_id) FROM next_best_actions")).scalar()
        stored = conn.execute(
            sa.text(
                "SELECT count(*), sum(CASE WHEN control THEN 1 ELSE 0 END) FROM next_best_actions WHERE run_id = :r"
            ),
            {"r": run},
        ).one()
    assert stored[1] > 0  # the run held some out: the table must leave them out
    cols, rows, total, pages = _all(app_ro, make_token_ro("marketing_analyst"), gql, 50)
    assert total == len(rows) == stored[0] - stored[1] and pages > 2
    assert len({(r[0], r[1]) for r in rows}) == len(rows)  # paging neither repeats nor skips
    i = {c: n for n, c in enumerate(cols)}
    some = sorted({r[0] for r in rows})[:25]
    with engine.connect() as conn:
        shown = stored_actions(conn, some)  # what the customer page shows, ranked the same way
    for cid in some:
        mine = [(r[i["rank"]], r[i["action_key"]]) for r in rows if r[0] == cid]
        assert mine == [(a["rank"], a["action_key"]) for a in shown[cid]]
    assert "name" not in cols and "id_number" not in cols  # no PII in a bulk pull


def test_filter_and_book_narrow_the_customers(app_ro, make_token_ro, loaded_ro, gql, rm_book):
    rm, mine, _ = rm_book
    _, book, total, _ = _all(app_ro, make_token_ro("relationship_manager", rm), gql, 50_000)
    assert book and {r[0] for r in book} <= set(mine) and total == len(book)
    _, ruled, _, _ = _all(app_ro, make_token_ro("marketing_analyst"), gql, 50_000, filter={"rmId": rm})
    assert ruled == book
    _, tier, _, _ = _all(app_ro, make_token_ro("marketing_analyst"), gql, 50_000, filter={"tier": "mass"})
    everyone = _all(app_ro, make_token_ro("marketing_analyst"), gql, 50_000)[1]
    assert 0 < len(tier) < len(everyone)
    bad = gql(app_ro, make_token_ro("marketing_analyst"), TABLE, first=50_001)
    assert "between 1 and 50,000" in bad["errors"][0]["message"]
    bad = gql(app_ro, make_token_ro("marketing_analyst"), TABLE, first=10, after="bm90LWEtY3Vyc29y")
    assert "not a cursor" in bad["errors"][0]["message"]


def test_a_level_lowered_after_the_run_drops_the_offers_above_it(loaded, make_token, gql):
    engine, graph = loaded
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT max(run_id) FROM next_best_actions")).scalar()
        cid = conn.execute(
            sa.text(
                "SELECT customer_id FROM next_best_actions WHERE run_id = :r AND NOT control "
                "AND product_risk IN ('R2', 'R3', 'R4', 'R5') ORDER BY customer_id LIMIT 1"
            ),
            {"r": run},
        ).scalar()
    assert cid is not None
    token = make_token("marketing_analyst")
    with TestClient(create_app(engine, graph)) as app:
        before = [r for r in _all(app, token, gql, 50_000)[1] if r[0] == cid]
        assert any(r[5] not in (None, "R1") for r in before)
        with engine.begin() as conn:
            ov = propose_override(conn, "mei", cid, "risk_preference", "C1", "reassessed: conservative")
            approve_override(conn, "li", ov.override_id)
        _, everyone, total, _ = _all(app, token, gql, 40)
        arrow, totals = _all_arrow(app, token, gql, 40)
    after = [r for r in everyone if r[0] == cid]
    assert len(after) < len(before) and all(r[5] in (None, "R1") for r in after)
    # the suitable rows stay as they were, ranked 1, 2, … again as the customer page ranks them
    assert [r[:1] + r[2:] for r in before if r[5] in (None, "R1")] == [r[:1] + r[2:] for r in after]
    assert [r[1] for r in after] == list(range(1, len(after) + 1))
    # the total counts the rows a caller pages through, not the run's rows before suitability;
    # every page says the same total, and the Arrow pages carry the same rows
    assert total == len(everyone) and totals == {total}
    assert arrow.num_rows == total
    assert list(zip(arrow["customer_id"].to_pylist(), arrow["rank"].to_pylist())) == [(r[0], r[1]) for r in everyone]


CUSTOMER = """query($id: ID!) { customer(id: $id) { nextBestActions(first: 20) { rank actionKey productRisk } } }"""


def test_a_level_lowered_after_the_run_drops_the_offers_above_it_everywhere(loaded, make_token, gql):
    # the customer page and the relationship manager's work list read the run's stored choice
    # too: the override takes the unsuitable offers off them as off the table
    engine, graph = loaded
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT max(run_id) FROM next_best_actions")).scalar()
        # a customer whose unsuitable offer is ranked above a suitable action: the ones below move up
        cid = conn.execute(
            sa.text(
                "SELECT a.customer_id FROM next_best_actions a JOIN next_best_actions b "
                "ON b.run_id = a.run_id AND b.customer_id = a.customer_id AND b.rank > a.rank "
                "WHERE a.run_id = :r AND NOT a.control AND NOT b.control "
                "AND a.product_risk IN ('R2', 'R3', 'R4', 'R5') AND (b.product_risk IS NULL OR b.product_risk = 'R1') "
                "ORDER BY a.customer_id LIMIT 1"
            ),
            {"r": run},
        ).scalar()
        unsuitable = set(
            conn.execute(
                sa.text(
                    "SELECT action_key FROM next_best_actions WHERE run_id = :r AND customer_id = :c "
                    "AND product_risk IN ('R2', 'R3', 'R4', 'R5')"
                ),
                {"r": run, "c": cid},
            ).scalars()
        )
        rm = conn.execute(sa.text("SELECT rm_id FROM individuals WHERE customer_id = :c"), {"c": cid}).scalar()
        assert unsuitable and unsuitable <= set(worklist(conn, rm, 1_000)["title"])
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", cid, "risk_preference", "C1", "reassessed: conservative")
        approve_override(conn, "li", ov.override_id)
    token = make_token("marketing_analyst")
    with TestClient(create_app(engine, graph)) as app:
        page = gql(app, token, CUSTOMER, id=cid)["data"]["customer"]["nextBestActions"]
        table = [r for r in _all(app, token, gql, 50_000)[1] if r[0] == cid]
    assert page and all(a["productRisk"] in (None, "R1") for a in page)
    assert [a["rank"] for a in page] == list(range(1, len(page) + 1))
    assert [(a["rank"], a["actionKey"]) for a in page] == [(r[1], r[3]) for r in table]
    with engine.connect() as conn:
        work = worklist(conn, rm, 1_000)
    assert not unsuitable & set(work.loc[work["customer_id"] == cid, "title"])


def test_a_professional_investor_keeps_the_offers_above_a_lowered_level(loaded, make_token, gql):
    engine, graph = loaded
    spans = TagSpan.__table__
    with engine.begin() as conn:
        run = conn.execute(sa.text("SELECT max(run_id) FROM next_best_actions")).scalar()
        cid = conn.execute(
            sa.text(
                "SELECT customer_id FROM next_best_actions WHERE run_id = :r AND NOT control "
                "AND product_risk IN ('R2', 'R3', 'R4', 'R5') ORDER BY customer_id LIMIT 1"
            ),
            {"r": run},
        ).scalar()
        # the bank as a professional investor's record reads: the run's suitability says so
        mine = sa.and_(spans.c.customer_id == cid, spans.c.dimension == "suitability", spans.c.to_seq.is_(None))
        inputs = conn.execute(sa.select(spans.c.inputs).where(mine)).scalar_one()
        inputs = orjson.loads(inputs) if isinstance(inputs, (str, bytes)) else inputs
        conn.execute(spans.update().where(mine).values(inputs={**inputs, "professional": True}))
        ov = propose_override(conn, "mei", cid, "risk_preference", "C1", "reassessed: conservative")
        approve_override(conn, "li", ov.override_id)
    token = make_token("marketing_analyst")
    with TestClient(create_app(engine, graph)) as app:
        _, everyone, total, _ = _all(app, token, gql, 50_000)
    kept = [r for r in everyone if r[0] == cid]
    assert any(r[5] not in (None, "R1") for r in kept) and total == len(everyone)
