"""One customer's 360, or one enterprise, as a dict of DataFrames: a one-row `profile` and one
frame per list the API returns (tags, holdings, household members, alerts, …), each in the
SDK's one shape (`typed`). One GraphQL request each: the server reads the 360 in a few
statements, so a notebook looping over a short list of ids stays quick."""

from __future__ import annotations

import pandas as pd
from gql import gql

from . import _actions as A
from ._frames import typed

__all__ = ["CUSTOMER", "ENTERPRISE", "customer_frames", "enterprise_frames"]

_TAG = """dimension value labelEn labelZh score explanation explanationZh standardVersion runId computedValue overrideId
          overriddenBy overrideReason"""
CUSTOMER = gql(f"""
query Customer360($id: ID!) {{
  customer(id: $id) {{
    id name gender birthDate age branchId rmId idNumber phone address email occupation onboardedOn
    annualIncome creditScore isPep aumMonthAverage currentBalance tier cooperationDepth
    relationshipManager {{ name }}
    strategy {{ package {{ name }} }}
    tags {{ {_TAG} }}
    holdings {{ holdings {{ accountId productId productName family riskLevel currency balance status accountNumber }} }}
    household {{ id name status aum tier members {{ role aum customer {{ id name gender birthDate age tier }} }} }}
    alerts {{ id runId type severity reason status createdAt acknowledgedBy acknowledgedAt }}
    feedback {{ id kind score text recordedBy recordedAt }}
    nextBestActions(first: 20) {{ rank action actionKey product productRisk channel trigger propensity value
                                  priority dueOn reasons {{ en zh }} }}
  }}
}}""")
ENTERPRISE = gql(f"""
query Enterprise($id: ID!) {{
  enterprise(id: $id) {{
    id name industry size registeredCapital annualRevenue foundedOn branchId rmId peopleCount
    relationshipManager {{ name }}
    tags {{ {_TAG} }}
    people {{ customerId name link payroll share }}
    supplyChain {{ enterpriseId name role annualVolume }}
  }}
}}""")
TAG_COLUMNS = [
    "dimension",
    "value",
    "label_en",
    "label_zh",
    "score",
    "explanation",
    "explanation_zh",
    "standard_version",
    "run_id",
    "computed_value",
    "override_id",
    "overridden_by",
    "override_reason",
]
HOLDING_COLUMNS = [
    "account_id",
    "product_id",
    "product_name",
    "family",
    "risk_level",
    "currency",
    "balance",
    "status",
    "account_number",
]
MEMBER_COLUMNS = ["customer_id", "name", "gender", "birth_date", "age", "tier", "role", "aum"]
ALERT_COLUMNS = [
    "alert_id",
    "run_id",
    "type",
    "severity",
    "reason",
    "status",
    "created_at",
    "acknowledged_by",
    "acknowledged_at",
]
FEEDBACK_COLUMNS = ["feedback_id", "kind", "score", "text", "recorded_by", "recorded_at"]
PEOPLE_COLUMNS = ["customer_id", "name", "link", "payroll", "share"]
SUPPLY_COLUMNS = ["enterprise_id", "name", "role", "annual_volume"]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows of the API in `columns` order (the query selects them in that order)."""
    return typed(pd.DataFrame([list(r.values()) for r in rows], columns=columns))


def _profile(node: dict, lists: tuple[str, ...], key: str) -> dict:
    row = {k: v for k, v in node.items() if k not in lists}
    row[key] = row.pop("id")
    row["rm_name"] = (row.pop("relationshipManager") or {}).get("name")
    return row


def customer_frames(c: dict) -> dict[str, pd.DataFrame]:
    """The 360 answer as frames: profile (one row, with household_id, household_tier, package
    and rm_name), tags, holdings, household (the members; `.attrs` the household), alerts,
    feedback, next_best_actions."""
    lists = ("tags", "holdings", "household", "alerts", "feedback", "nextBestActions", "strategy")
    row = _profile(c, lists, "customer_id")
    hh = c["household"]
    row["household_id"], row["household_tier"] = (hh["id"], hh["tier"]) if hh else (None, None)
    row["package"] = ((c["strategy"] or {}).get("package") or {}).get("name")
    members = [
        {
            **{k: (m["customer"] or {}).get(k) for k in ("id", "name", "gender", "birthDate", "age", "tier")},
            "role": m["role"],
            "aum": m["aum"],
        }
        for m in (hh["members"] if hh else [])
    ]
    household = _frame(members, MEMBER_COLUMNS)
    if hh:
        household.attrs.update({k: hh[k] for k in ("id", "name", "aum", "tier")}, status=hh["status"].lower())
    return {
        "profile": typed(pd.DataFrame([row])),
        "tags": _frame(c["tags"], TAG_COLUMNS),
        "holdings": _frame([h for fam in c["holdings"] for h in fam["holdings"]], HOLDING_COLUMNS),
        "household": household,
        "alerts": _frame(c["alerts"], ALERT_COLUMNS),
        "feedback": _frame(c["feedback"], FEEDBACK_COLUMNS),
        "next_best_actions": typed(A.actions_frame(c["nextBestActions"])),
    }


def enterprise_frames(e: dict) -> dict[str, pd.DataFrame]:
    """The enterprise answer as frames: profile (one row, with people_count and rm_name), tags
    (the enterprise dimensions), people (controllers, then payroll employees you may see),
    supply_chain."""
    row = _profile(e, ("tags", "people", "supplyChain"), "enterprise_id")
    return {
        "profile": typed(pd.DataFrame([row])),
        "tags": _frame(e["tags"], TAG_COLUMNS),
        "people": _frame(e["people"], PEOPLE_COLUMNS),
        "supply_chain": _frame(e["supplyChain"], SUPPLY_COLUMNS),
    }
