"""Queries and columns of the strategy calls (`Client.playbook`, `packages`, `points`)."""

from __future__ import annotations

from gql import gql

PLAYBOOK = gql("""
{ playbook { version packages { name label labelZh channels discounts selectors
                                  entitlements { name label } care { visitsPerQuarter holidayGreetings birthdayCare } } } }""")
PLAYBOOK_COLUMNS = [
    "precedence",
    "package",
    "label",
    "label_zh",
    "entitlements",
    "channels",
    "visits_per_quarter",
    "holiday_greetings",
    "birthday_care",
    "discounts",
    "selectors",
]

# by the shape a page is asked in: Arrow or JSON rows, as `Client.arrow` says
PACKAGE_TABLE = {
    field: gql(f"""
query PackageTable($first: Int!, $after: String) {{
  packageTable(first: $first, after: $after) {{ columns {field} totalCount pageInfo {{ hasNextPage endCursor }} }}
}}""")
    for field in ("arrow", "rows")
}

POINTS = gql("""
query Points($id: ID!, $first: Int!) { customer(id: $id) { strategy { points { balance
  postings(first: $first) { id source kind rule points basisAmount multiplier package occurredAt expiresOn postedAt } } } } }""")
POSTING_COLUMNS = [
    "posting_id",
    "source",
    "kind",
    "rule",
    "points",
    "basis_amount",
    "multiplier",
    "package",
    "occurred_at",
    "expires_on",
    "posted_at",
]
MAX_POSTINGS = 500
