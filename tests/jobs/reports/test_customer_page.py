"""The bulk customer table a page at a time (jobs/reports/customer_table.py over
graph/record/customer_rows.py) equals the same table read plainly with pandas from the tags
themselves (tests/benchmarks/baselines/customer_table_frames.py): every column, with the overrides
in force applied where a tag exists and those no longer in force ignored, a customer without tags
included, under each filter and a relationship manager's book, across pages of any size."""

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import Individual
from clientstrata.graph.record.queries import MAX_TABLE_PAGE, CustomerFilter, customer_count, encode_cursor
from clientstrata.jobs.governance.overrides import approve_override, propose_override, revoke_override
from clientstrata.jobs.reports.customer_table import customer_table, individual_dimensions

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
from customer_table_frames import customer_table_frame  # noqa: E402  (the reference: not a module of the package)

UNTAGGED = "C9999999"


def _objects(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(table.column(c).to_pylist(), dtype=object) for c in table.column_names})


def _pull(engine, first: int, flt: CustomerFilter | None = None, book=None, dims=None) -> pd.DataFrame:
    """Every page, as the API reads them: the cursor is the last row's id."""
    pages, after = [], None
    with engine.connect() as conn:
        while True:
            table, more = customer_table(conn, first, after, flt or CustomerFilter(), book, dims)
            pages.append(_objects(table))
            assert table.num_rows <= first and (table.num_rows == first or not more)
            if not more:
                break
            after = encode_cursor(table.column("customer_id")[-1].as_py())
    return pd.concat(pages, ignore_index=True)


@pytest.fixture
def bank(loaded):
    """The bank with overrides in every state and one customer ingested after the run (no tags)."""
    engine, _ = loaded
    with engine.begin() as conn:
        ids = conn.execute(sa.text("SELECT customer_id FROM individuals ORDER BY customer_id")).scalars().all()
        wealth = dict(
            conn.execute(sa.text("SELECT customer_id, value FROM tags WHERE dimension = 'wealth_tier'")).all()
        )
        other = {"mass": "wealth", "affluent": "wealth", "wealth": "private_banking", "private_banking": "mass"}
        target = other[wealth[ids[5]]]
        in_force = propose_override(conn, "maker", ids[5], "wealth_tier", target, "kept")
        approve_override(conn, "checker", in_force.override_id)
        first = propose_override(conn, "maker", ids[40], "wealth_tier", "private_banking", "superseded")
        approve_override(conn, "checker", first.override_id)
        second = propose_override(conn, "maker", ids[40], "wealth_tier", "mass", "supersedes")
        approve_override(conn, "checker", second.override_id)
        gone = propose_override(conn, "maker", ids[77], "risk_preference", "C5", "revoked later")
        approve_override(conn, "checker", gone.override_id)
        revoke_override(conn, "checker", gone.override_id, "no longer")
        propose_override(conn, "maker", ids[90], "wealth_tier", "private_banking", "never approved")
        person = dict(conn.execute(sa.select(Individual).where(Individual.customer_id == ids[0])).mappings().one())
        person.update(customer_id=UNTAGGED, id_number="110101199001019999", name="Late Arrival")
        conn.execute(sa.insert(Individual), person)
    return engine, {
        "in_force": ids[5],
        "target": target,
        "superseded": ids[40],
        "revoked": ids[77],
        "proposed": ids[90],
    }


def test_the_pages_equal_the_plain_pandas_read_of_the_tags(bank):
    engine, who = bank
    with engine.connect() as conn:
        dims = individual_dimensions(conn)
    want = customer_table_frame(engine, dims)
    got = _pull(engine, 97, dims=None)  # several pages, the last one short
    assert len(got) == len(want) > 300 and got["customer_id"].is_monotonic_increasing
    pd.testing.assert_frame_equal(got, want)
    rows = got.set_index("customer_id")
    assert rows.loc[who["superseded"], "wealth_tier"] == "mass"  # the later approval wins
    late = rows.loc[UNTAGGED]
    assert late[dims].isna().all() and late["age"] > 0 and late["aum_month_average"] == 0.0
    assert late["household_id"] is None and late["current_balance"] == 0.0


def test_overrides_apply_only_while_in_force_and_only_over_a_tag(bank):
    engine, who = bank
    with engine.connect() as conn:
        computed = dict(
            conn.execute(
                sa.text(
                    "SELECT customer_id || ':' || dimension, value FROM tags WHERE run_id = "
                    "(SELECT max(run_id) FROM classification_runs WHERE status = 'published')"
                )
            ).all()
        )
        ov = propose_override(conn, "maker", UNTAGGED, "wealth_tier", "wealth", "no tag to override")
        approve_override(conn, "checker", ov.override_id)
        conn.commit()
    rows = _pull(engine, MAX_TABLE_PAGE, dims=["wealth_tier", "risk_preference"]).set_index("customer_id")
    assert list(rows.columns[-2:]) == ["wealth_tier", "risk_preference"]
    assert rows.loc[who["in_force"], "wealth_tier"] != computed[f"{who['in_force']}:wealth_tier"]
    assert rows.loc[who["revoked"], "risk_preference"] == computed[f"{who['revoked']}:risk_preference"]
    assert rows.loc[who["proposed"], "wealth_tier"] == computed[f"{who['proposed']}:wealth_tier"]
    assert rows.loc[UNTAGGED, "wealth_tier"] is None  # the 360 shows no tag, so neither does the table


@pytest.mark.parametrize(
    "flt, keep",
    [
        (CustomerFilter(tier="wealth"), lambda df: df["wealth_tier"] == "wealth"),
        (
            CustomerFilter(tags=(("risk_preference", ("C4", "C5")),), branch_id="BRANCH"),
            lambda df: df["risk_preference"].isin(["C4", "C5"]) & (df["branch_id"] == "BRANCH"),
        ),
        (CustomerFilter(aum_min=100_000, aum_max=2_000_000), None),
    ],
    ids=["tier", "tags-and-branch", "aum"],
)
def test_filters_select_the_rows_the_plain_read_selects(bank, flt, keep):
    engine, who = bank
    with engine.connect() as conn:
        dims = individual_dimensions(conn)
        branch = conn.execute(sa.text("SELECT min(branch_id) FROM individuals")).scalar()
        if flt.branch_id:  # the bank's first branch, whatever the generator named it
            flt, test = CustomerFilter(tags=flt.tags, branch_id=branch), keep
            keep = lambda df: test(df.assign(branch_id=df["branch_id"].replace({branch: "BRANCH"})))  # noqa: E731
        total = customer_count(conn, flt)
        run = conn.execute(sa.text("SELECT max(run_id) FROM classification_runs WHERE status = 'published'")).scalar()
        scores = dict(
            conn.execute(
                sa.text("SELECT customer_id, score FROM tags WHERE run_id = :r AND dimension = 'wealth_tier'"),
                {"r": run},
            ).all()
        )
    want = customer_table_frame(engine, dims)
    if keep is None:  # the AUM range reads the wealth tier's computed input (an override changes the tier only)
        s = want["customer_id"].map(scores)
        keep = lambda df: (s >= flt.aum_min) & (s < flt.aum_max)  # noqa: E731
    want = want[keep(want)].reset_index(drop=True)
    got = _pull(engine, 23, flt)
    assert 0 < len(got) == len(want) == total < 300
    pd.testing.assert_frame_equal(got, want)
    if flt.tier:  # the filter reads the override: its customer is selected exactly when it says wealth
        assert (who["in_force"] in set(got["customer_id"])) == (who["target"] == "wealth")


def test_a_relationship_managers_table_is_their_book(bank):
    engine, _ = bank
    with engine.connect() as conn:
        dims = individual_dimensions(conn)
        rm = conn.execute(
            sa.text("SELECT rm_id FROM individuals GROUP BY rm_id ORDER BY count(*) DESC LIMIT 1")
        ).scalar()
    want = customer_table_frame(engine, dims)
    want = want[want["rm_id"] == rm].reset_index(drop=True)
    got = _pull(engine, 10, book=rm)
    assert 10 < len(got) < 300
    pd.testing.assert_frame_equal(got, want)
    other = _pull(engine, 50, CustomerFilter(rm_id="RM-not-theirs"), book=rm)
    assert other.empty and list(other.columns) == list(want.columns)


def test_bounds_cursors_and_column_names_are_typed_errors(bank):
    engine, _ = bank
    with engine.connect() as conn:
        for first in (0, MAX_TABLE_PAGE + 1):
            with pytest.raises(InvalidInput, match="`first` must be between"):
                customer_table(conn, first)
        with pytest.raises(InvalidInput, match="not a cursor"):
            customer_table(conn, 10, "not-a-cursor")
        for clash in (["age"], ["wealth_tier", "customer_id"]):
            with pytest.raises(InvalidInput, match="names columns of the table"):
                customer_table(conn, 10, dimensions=clash)
        table, _ = customer_table(conn, 5, dimensions=["no_such_dimension", "wealth_tier", "wealth_tier"])
    assert table.column_names[-2:] == ["no_such_dimension", "wealth_tier"]
    assert table.column("no_such_dimension").null_count == 5 and table.column("wealth_tier").null_count == 0
