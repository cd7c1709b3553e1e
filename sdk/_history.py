"""Reads of what happened to customers (`Client.migration`, `Client.feedback`): their queries and
the frames they become."""

from __future__ import annotations

import pandas as pd
from gql import gql

__all__ = [
    "MIGRATION",
    "MIGRATION_COLUMNS",
    "migration_frame",
    "FEEDBACK",
    "FEEDBACK_COLUMNS",
    "FEEDBACK_PAGE",
    "feedback_frame",
]

MIGRATION = gql("""
query Migration($fromRun: Int!, $toRun: Int!, $dimension: String!) {
  migration(fromRun: $fromRun, toRun: $toRun, dimension: $dimension) {
    fromRun toRun dimension customers moved cells { fromValue toValue customers }
  }
}""")
MIGRATION_COLUMNS = ["from_value", "to_value", "customers"]

FEEDBACK = gql("""
query Feedback($first: Int!, $after: String, $customerId: ID) {
  feedback(first: $first, after: $after, customerId: $customerId) {
    pageInfo { hasNextPage endCursor }
    edges { node { id customerId kind score text recordedBy recordedAt } }
  }
}""")
FEEDBACK_COLUMNS = ["feedback_id", "customer_id", "kind", "score", "text", "recorded_by", "recorded_at"]
FEEDBACK_PAGE = 1_000  # the API's largest page


def migration_frame(m: dict) -> pd.DataFrame:
    """The matrix's non-empty cells, one row each; `.attrs` carries the runs, the dimension, the
    customers counted and how many moved."""
    df = pd.DataFrame(
        [[c["fromValue"], c["toValue"], c["customers"]] for c in m["cells"]], columns=MIGRATION_COLUMNS
    ).astype({"customers": "int64"})
    df.attrs.update(
        from_run=m["fromRun"], to_run=m["toRun"], dimension=m["dimension"], customers=m["customers"], moved=m["moved"]
    )
    return df


def feedback_frame(nodes: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([list(n.values()) for n in nodes], columns=FEEDBACK_COLUMNS)
    df["score"] = df["score"].astype("Int64")
    df["recorded_at"] = pd.to_datetime(df["recorded_at"], utc=True, format="ISO8601")
    return df
