"""`Client.changes()` over the bulk path, against a live server: the frame the object path
would give, resumable from its cursor, a relationship manager's book only."""

import pandas as pd
import sqlalchemy as sa
from gql import gql

from clientstrata.graph.record.models import ClassificationChange, Enterprise, Individual
from clientstrata.sdk import Client

OBJECTS = gql("""query($first: Int!, $after: String) { classificationChanges(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { seq at source runId overrideId customerId dimension oldValue newValue } } } }""")


def _object_path(client: Client, after=None) -> tuple[list[tuple], str | None]:
    """The feed as the SDK used to pull it: one GraphQL object per change."""
    nodes, cursor = client._nodes(OBJECTS, "classificationChanges", 9_999, "changes", after)
    return [tuple(n.values()) for n in nodes], cursor


def _utc(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.DatetimeTZDtype) and str(col.dt.tz) == "UTC"


def _wire(df: pd.DataFrame) -> list[tuple]:
    """The frame's rows written back as the API sends them."""
    out = []
    for r in df.itertuples(index=False):
        out.append(
            (
                r.seq,
                r.at.isoformat(),
                r.source,
                None if pd.isna(r.run_id) else int(r.run_id),
                None if pd.isna(r.override_id) else int(r.override_id),
                r.customer_id,
                r.dimension,
                r.old_value,
                r.new_value,
            )
        )
    return out


def test_changes_is_the_object_paths_feed_as_a_typed_frame(server_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    client = Client(server_ro, make_token_ro("marketing_analyst"), progress=False, page_size=1_000)
    df = client.changes()
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(ClassificationChange)).scalar_one()
    objects, object_cursor = _object_path(client)
    assert len(df) == stored > 1_000 and _wire(df) == objects and df.attrs["cursor"] == object_cursor
    assert list(df.columns) == [
        "seq",
        "at",
        "source",
        "run_id",
        "override_id",
        "customer_id",
        "dimension",
        "old_value",
        "new_value",
    ]
    assert _utc(df["at"]) and str(df["run_id"].dtype) == "Int64"
    assert df["seq"].dtype == "int64" and df["seq"].is_monotonic_increasing and df["seq"].is_unique

    # resumed from a cursor in the middle: the rest, nothing repeated; at the end: empty, cursor kept
    middle = client._execute(OBJECTS, first=2_500, after=None)["classificationChanges"]["pageInfo"]["endCursor"]
    rest = client.changes(after=middle)
    assert _wire(rest) == objects[2_500:] and rest.attrs["cursor"] == df.attrs["cursor"]
    done = client.changes(after=df.attrs["cursor"])
    assert done.empty and done.attrs["cursor"] == df.attrs["cursor"] and list(done.columns) == list(df.columns)
    assert _utc(done["at"])


def test_a_relationship_managers_changes_are_their_books(server_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        people = conn.execute(sa.select(Individual.customer_id, Individual.rm_id)).all()
        firms = conn.execute(sa.select(Enterprise.enterprise_id, Enterprise.rm_id)).all()
    rms = [r for _, r in people if r]
    rm = max(set(rms), key=rms.count)
    book = {c for c, r in [*people, *firms] if r == rm}
    everyone = Client(server_ro, make_token_ro("marketing_analyst"), progress=False).changes()
    client = Client(server_ro, make_token_ro("relationship_manager", rm), progress=False, page_size=300)
    mine = client.changes()
    assert set(mine["customer_id"]) <= book and 0 < len(mine) < len(everyone)
    assert mine["seq"].tolist() == everyone.loc[everyone["customer_id"].isin(book), "seq"].tolist()
    assert _wire(mine) == _object_path(client)[0]


def test_arrow_and_json_pages_give_the_same_feed(server_ro, make_token_ro, loaded_ro):
    token = make_token_ro("marketing_analyst")
    arrow = Client(server_ro, token, progress=False, page_size=1_000)
    json = Client(server_ro, token, progress=False, page_size=1_000, arrow=False)
    assert arrow.arrow and not json.arrow
    whole = arrow.changes()
    pd.testing.assert_frame_equal(whole, json.changes())
    middle = arrow._execute(OBJECTS, first=2_500, after=None)["classificationChanges"]["pageInfo"]["endCursor"]
    rest = arrow.changes(after=middle)
    pd.testing.assert_frame_equal(rest, json.changes(after=middle))
    assert rest.attrs == json.changes(after=middle).attrs == whole.attrs
    done = arrow.changes(after=whole.attrs["cursor"])
    pd.testing.assert_frame_equal(done, json.changes(after=whole.attrs["cursor"]))
