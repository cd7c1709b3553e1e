"""What a bulk upsert reports it changes is what it changes: rows inserted, updated (with the
columns and values that changed) and unchanged, measured with the upsert's own comparison; the
stamp (an ingest id) lands on exactly the rows inserted or changed."""

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.bulk import UpsertDiff, bulk_upsert
from clientstrata.graph.record.models import Branch

BRANCHES = Branch.__table__
COLUMNS = ["branch_id", "name", "region", "city"]
KEEP = ("region",)


def _stored(conn) -> dict[str, tuple]:
    rows = conn.execute(sa.select(BRANCHES.c.branch_id, BRANCHES.c.name, BRANCHES.c.region, BRANCHES.c.city))
    return {r[0]: tuple(r[1:]) for r in rows}


def _stamps(conn) -> dict[str, int | None]:
    return dict(conn.execute(sa.select(BRANCHES.c.branch_id, BRANCHES.c.ingest_id)).all())


def test_counts_fields_and_sample_of_one_upsert(engine):
    with engine.begin() as conn:
        bulk_upsert(
            conn,
            BRANCHES,
            COLUMNS,
            [("B1", "东城", "华北", "北京"), ("B2", "西城", "华东", "上海")],
            ["branch_id"],
            KEEP,
            {"ingest_id": 1},
        )
        diff = UpsertDiff()
        rows = [("B1", "东城支行", None, "北京"), ("B2", "西城", "华东", "上海"), ("B3", "海淀", None, None)]
        bulk_upsert(conn, BRANCHES, COLUMNS, rows, ["branch_id"], KEEP, {"ingest_id": 2}, diff)
        assert (diff.rows, diff.inserted, diff.updated, diff.unchanged) == (3, 1, 1, 1)
        assert dict(diff.fields) == {"name": 1}  # a NULL in a kept column is no change
        assert diff.sample == [{"key": {"branch_id": "B1"}, "changes": {"name": ["东城", "东城支行"]}}]
        assert _stamps(conn) == {"B1": 2, "B2": 1, "B3": 2}


_values = st.one_of(st.none(), st.sampled_from(["a", "b", "东城", "0", "1.0", ""]))
_rows = st.dictionaries(
    st.sampled_from([f"B{i}" for i in range(6)]), st.tuples(st.sampled_from(["n1", "n2"]), _values, _values), max_size=6
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=_rows, offered=_rows, sample_size=st.integers(0, 3))
def test_the_measure_is_what_the_upsert_did(engine, stored, offered, sample_size):
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            bulk_upsert(
                conn, BRANCHES, COLUMNS, [(k, *v) for k, v in stored.items()], ["branch_id"], KEEP, {"ingest_id": 1}
            )
            before = _stored(conn)
            diff = UpsertDiff(sample_size=sample_size)
            rows = [(k, *v) for k, v in offered.items()]
            bulk_upsert(conn, BRANCHES, COLUMNS, rows, ["branch_id"], KEEP, {"ingest_id": 2}, diff)
            after, stamps = _stored(conn), _stamps(conn)
        finally:
            tx.rollback()
    changed = {k for k in offered if k in before and before[k] != after[k]}
    assert diff.rows == len(offered)
    assert diff.inserted == len(set(offered) - set(before))
    assert diff.updated == len(changed)
    assert {k for k, s in stamps.items() if s == 2} == (set(offered) - set(before)) | changed
    for i, col in enumerate(COLUMNS[1:]):
        assert diff.fields[col] == sum(before[k][i] != after[k][i] for k in changed)
    assert len(diff.sample) == min(sample_size, len(changed))
    for s in diff.sample:
        k = s["key"]["branch_id"]
        assert s["changes"] == {
            c: [before[k][i], after[k][i]] for i, c in enumerate(COLUMNS[1:]) if before[k][i] != after[k][i]
        }
