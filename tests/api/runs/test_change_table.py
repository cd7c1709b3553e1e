"""`classificationChangeTable`, the change feed's bulk path: the same rows in the same order as
`classificationChanges`, cursors that resume either path, a relationship manager's book, and the
page bound."""

import sqlalchemy as sa

from clientstrata.graph.record.models import ClassificationChange, Enterprise, Individual, Tag

OBJECTS = """query($after: String, $first: Int!) { classificationChanges(after: $after, first: $first) {
  edges { cursor node { seq at source runId overrideId customerId dimension oldValue newValue } }
  pageInfo { hasNextPage endCursor } } }"""
TABLE = """query($after: String, $first: Int!) { classificationChangeTable(after: $after, first: $first) {
  columns rows totalCount pageInfo { hasNextPage endCursor } } }"""
COLUMNS = ["seq", "at", "source", "run_id", "override_id", "customer_id", "dimension", "old_value", "new_value"]


def _objects(gql, app, token, after=None, first=9999) -> tuple[list[list], str | None]:
    rows = []
    while True:
        page = gql(app, token, OBJECTS, after=after, first=first)["data"]["classificationChanges"]
        rows += [list(e["node"].values()) for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return rows, after


def _table(gql, app, token, after=None, first=50_000) -> tuple[list[list], str | None, list[int]]:
    """Every row after `after`, the last cursor, and each page's totalCount."""
    rows, totals = [], []
    while True:
        body = gql(app, token, TABLE, after=after, first=first)
        assert "errors" not in body, body
        page = body["data"]["classificationChangeTable"]
        assert page["columns"] == COLUMNS
        totals.append(page["totalCount"])
        rows += page["rows"]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return rows, after, totals


def _largest_book(engine) -> tuple[str, set[str]]:
    """The RM with the most customers, and their book: the people and the enterprises they manage."""
    with engine.connect() as conn:
        people = conn.execute(sa.select(Individual.customer_id, Individual.rm_id)).all()
        firms = conn.execute(sa.select(Enterprise.enterprise_id, Enterprise.rm_id)).all()
    rms = [r for _, r in people if r]
    rm = max(set(rms), key=rms.count)
    return rm, {c for c, r in [*people, *firms] if r == rm}


def test_the_table_holds_the_object_paths_rows_in_its_order_and_resumes_either(app_ro, make_token_ro, loaded_ro, gql):
    engine, _ = loaded_ro
    token = make_token_ro("marketing_analyst")
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(ClassificationChange)).scalar_one()
    objects, object_end = _objects(gql, app_ro, token)
    rows, end, totals = _table(gql, app_ro, token)
    assert len(rows) == stored > 1000 and rows == objects and end == object_end
    assert [r[0] for r in rows] == sorted({r[0] for r in rows})  # seq ascending, once each
    assert all(r[1].endswith("+00:00") for r in rows)  # UTC with its offset, as the object path says it
    assert totals == [stored]

    # small pages: the same rows, each totalCount what is left from that cursor
    paged, _, totals = _table(gql, app_ro, token, first=700)
    assert paged == rows and totals == [stored - 700 * i for i in range(len(totals))]

    # a cursor from one path resumes the other, exactly where it stopped
    half = _table(gql, app_ro, token, first=1000)
    first_page = gql(app_ro, token, TABLE, after=None, first=1000)["data"]["classificationChangeTable"]
    object_rest, _ = _objects(gql, app_ro, token, after=first_page["pageInfo"]["endCursor"])
    assert first_page["rows"] + object_rest == rows and half[0] == rows
    object_page = gql(app_ro, token, OBJECTS, after=None, first=1234)["data"]["classificationChanges"]
    table_rest, _, _ = _table(gql, app_ro, token, after=object_page["pageInfo"]["endCursor"])
    assert [list(e["node"].values()) for e in object_page["edges"]] + table_rest == rows

    # at the end: an empty page, a null endCursor (keep yours), nothing left to count
    done = gql(app_ro, token, TABLE, after=end, first=10)["data"]["classificationChangeTable"]
    assert done == {
        "columns": COLUMNS,
        "rows": [],
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


def test_a_relationship_manager_pulls_their_books_changes_only(app_ro, make_token_ro, loaded_ro, gql):
    engine, _ = loaded_ro
    rm, book = _largest_book(engine)
    token = make_token_ro("relationship_manager", rm)
    rows, _, totals = _table(gql, app_ro, token, first=500)
    objects, _ = _objects(gql, app_ro, token)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(sa.func.count())
            .select_from(ClassificationChange)
            .where(ClassificationChange.customer_id.in_(sorted(book)))
        ).scalar_one()
    assert rows == objects and len(rows) == stored > 0 and totals[0] == stored
    assert {r[5] for r in rows} <= book
    everyone, _, _ = _table(gql, app_ro, make_token_ro("marketing_analyst"))
    assert rows == [r for r in everyone if r[5] in book] and len(rows) < len(everyone)


def test_the_page_and_the_cursor_are_checked(app_ro, make_token_ro, gql):
    token = make_token_ro("marketing_analyst")
    for first in (0, 50_001):
        body = gql(app_ro, token, TABLE, after=None, first=first)
        assert body["errors"][0]["message"] == "`first` must be between 1 and 50,000"
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    alert_cursor = "YWxlcnQ6MQ=="  # alert:1
    body = gql(app_ro, token, TABLE, after=alert_cursor, first=10)
    assert body["errors"][0]["message"] == "`after` is not a change cursor returned by this API"


def test_overrides_land_in_the_table_as_in_the_feed(app, make_token, loaded, gql, propose_override, approve_override):
    """An approved override's change has no run and an override id: the table says so with a JSON
    null and an integer, and a poller that kept its cursor gets exactly the new rows."""
    engine, _ = loaded
    token = make_token("marketing_analyst")
    before, cursor, _ = _table(gql, app, token)
    with engine.connect() as conn:
        now = conn.execute(
            sa.select(Tag.value).where(Tag.customer_id == "C0000001", Tag.dimension == "wealth_tier")
        ).scalar_one()
    value = "private_banking" if now != "private_banking" else "mass"
    made = propose_override(
        app, token, customerId="C0000001", dimension="wealth_tier", value=value, reason="verified off-book assets"
    )
    assert approve_override(app, make_token("risk_officer"), made["id"])["status"] == "approved"
    new, _, totals = _table(gql, app, token, after=cursor)
    objects, _ = _objects(gql, app, token, after=cursor)
    assert new == objects and totals == [1] and len(new) == 1
    seq, _, source, run_id, override_id, customer, dimension, _, value = new[0]
    assert (source, run_id, override_id, customer, dimension, value) == (
        "override",
        None,
        made["id"],
        "C0000001",
        "wealth_tier",
        value,
    )
    assert seq > before[-1][0]
