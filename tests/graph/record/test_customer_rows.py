"""A page's tag columns are read from the wide rows by Arrow's JSON reader
(graph/record/customer_rows.py): whatever the values hold — quotes, backslashes, newlines, any
script — and whatever a caller names as dimensions, each column is exactly what the JSON object
said, None where it says nothing."""

import json

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.customer_rows import BESIDE_COLUMNS, _tag_columns, customer_rows
from clientstrata.graph.record.queries import TABLE_COLUMNS, CustomerFilter

_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
_rows = st.lists(st.one_of(st.none(), st.dictionaries(_text, st.one_of(st.none(), _text), max_size=5)), max_size=20)


@settings(max_examples=150, deadline=None)
@given(_rows, st.lists(_text, min_size=1, max_size=6, unique=True))
def test_each_column_is_what_the_wide_rows_say(rows, dims):
    named = dims + sorted({k for r in rows if r for k in r} - set(dims))[:3]  # asked-for keys too
    wide = [None if r is None else json.dumps(r, ensure_ascii=False) for r in rows]
    columns = _tag_columns(wide, named) if rows else []
    for d, col in zip(named, columns):
        assert col.to_pylist() == [None if r is None else r.get(d) for r in rows]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_text.filter(lambda d: d not in (*TABLE_COLUMNS, *BESIDE_COLUMNS)), max_size=5))
def test_any_dimension_names_make_columns_in_their_order(loaded_ro, dims):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        known = dict(conn.execute(sa.text("SELECT customer_id, tag_values FROM current_tag_values")).all())
        page = customer_rows(conn, 40, None, CustomerFilter(), None, [*dims, "wealth_tier"])
    table = page.table
    wanted = list(dict.fromkeys([*dims, "wealth_tier"]))
    assert table.column_names == [*TABLE_COLUMNS, *BESIDE_COLUMNS, *wanted] and table.num_rows == 40
    for d in wanted:
        got = table.column(d).to_pylist()
        assert got == [json.loads(known[c]).get(d) for c in table.column("customer_id").to_pylist()]
