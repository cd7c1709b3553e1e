"""Next-best actions for the SDK: the GraphQL documents and how their answers become DataFrames
(a customer's actions, a work list, the measured effect)."""

from __future__ import annotations

import pandas as pd
from gql import gql

__all__ = [
    "NEXT_BEST_ACTIONS",
    "WORKLIST",
    "STRATEGY_EFFECT",
    "ACTION_COLUMNS",
    "WORKLIST_COLUMNS",
    "EFFECT_COLUMNS",
    "ACTION_TABLE",
    "ACTION_TABLE_COLUMNS",
    "action_table_frame",
    "actions_frame",
    "worklist_frame",
    "effect_frame",
]

NEXT_BEST_ACTIONS = gql("""
query NextBestActions($id: ID!, $first: Int!) {
  customer(id: $id) {
    nextBestActions(first: $first) { rank action actionKey product productRisk channel trigger propensity value
                                     priority dueOn reasons { en zh } }
  }
}""")
WORKLIST = gql("""
query Worklist($rmId: String, $first: Int!) {
  worklist(rmId: $rmId, first: $first) { kind itemId customerId title channel priority dueOn why whyZh lastOutcome }
}""")
STRATEGY_EFFECT = gql("""
query StrategyEffect($runId: Int) {
  strategyEffect(runId: $runId) { actionKey segment offered contacted accepted converted control controlConverted
    conversionRate controlRate uplift upliftLow upliftHigh aumChange controlAumChange aumUplift aumUpliftLow
    aumUpliftHigh }
}""")
# by the shape a page is asked in: Arrow or JSON rows, as `Client.arrow` says
ACTION_TABLE = {
    field: gql(f"""
query ActionTable($first: Int!, $after: String, $filter: CustomerFilter) {{
  actionTable(first: $first, after: $after, filter: $filter) {{ columns {field} totalCount pageInfo {{ hasNextPage endCursor }} }}
}}""")
    for field in ("arrow", "rows")
}
# what an empty answer is shaped as; a page names its own columns
ACTION_TABLE_COLUMNS = [
    "customer_id",
    "rank",
    "action",
    "action_key",
    "product_id",
    "product_risk",
    "channel",
    "trigger",
    "segment",
    "propensity",
    "value",
    "priority",
    "due_on",
    "rm_id",
    "reason_en",
    "reason_zh",
    "run_id",
]
ACTION_COLUMNS = [
    "rank",
    "action",
    "action_key",
    "product",
    "product_risk",
    "channel",
    "trigger",
    "propensity",
    "value",
    "priority",
    "due_on",
    "reason_en",
    "reason_zh",
]
WORKLIST_COLUMNS = [
    "kind",
    "item_id",
    "customer_id",
    "title",
    "channel",
    "priority",
    "due_on",
    "why",
    "why_zh",
    "last_outcome",
]
EFFECT_COLUMNS = [
    "action_key",
    "segment",
    "offered",
    "contacted",
    "accepted",
    "converted",
    "control",
    "control_converted",
    "conversion_rate",
    "control_rate",
    "uplift",
    "uplift_low",
    "uplift_high",
    "aum_change",
    "control_aum_change",
    "aum_uplift",
    "aum_uplift_low",
    "aum_uplift_high",
]


def actions_frame(rows: list[dict]) -> pd.DataFrame:
    flat = [[*[r[k] for k in r if k != "reasons"], r["reasons"]["en"], r["reasons"]["zh"]] for r in rows]
    df = pd.DataFrame(flat, columns=ACTION_COLUMNS)
    df["due_on"] = pd.to_datetime(df["due_on"])
    return df


def action_table_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The concatenated pages of `actionTable`, typed: the due date a datetime, numbers floats."""
    df = df.reindex(columns=columns)
    if "due_on" in df:
        df["due_on"] = pd.to_datetime(df["due_on"])
    return df.astype({c: float for c in ("propensity", "value", "priority") if c in df})


def worklist_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([list(r.values()) for r in rows], columns=WORKLIST_COLUMNS)
    df["due_on"] = pd.to_datetime(df["due_on"])
    return df


def effect_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([list(r.values()) for r in rows], columns=EFFECT_COLUMNS)
    return df.astype({c: float for c in EFFECT_COLUMNS[8:]})
