"""Governance reads for the SDK: the GraphQL documents and how their answers become
DataFrames (overrides; what-ifs, which the server does in the background)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from gql import gql

__all__ = [
    "OVERRIDES",
    "OVERRIDE_COLUMNS",
    "OVERRIDE_FILTERS",
    "SUBMIT_WHATIF",
    "WHATIF",
    "WHATIF_FINISHED",
    "overrides_frame",
    "WhatIfReport",
]

OVERRIDES = gql("""
query Overrides($first: Int!, $after: String, $filter: OverrideFilter) {
  overrides(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node { id customerId dimension value labelZh labelEn reason status proposedBy proposedAt
                   decidedBy decidedAt decisionNote expiresOn revokedBy revokedAt } }
  }
}""")
OVERRIDE_COLUMNS = [
    "override_id",
    "customer_id",
    "dimension",
    "value",
    "label_zh",
    "label_en",
    "reason",
    "status",
    "proposed_by",
    "proposed_at",
    "decided_by",
    "decided_at",
    "decision_note",
    "expires_on",
    "revoked_by",
    "revoked_at",
]
OVERRIDE_FILTERS = {
    "status": "status",
    "customer_id": "customerId",
    "dimension": "dimension",
    "proposed_by": "proposedBy",
}

SUBMIT_WHATIF = gql("""
mutation SubmitWhatIf($standard: String!, $sample: Int!) {
  whatIf(standard: $standard, sample: $sample) {
    __typename
    ... on WhatIf { id status }
    ... on Error { code message }
  }
}""")
WHATIF = gql("""
query WhatIf($id: Int!) {
  whatIf(id: $id) {
    id status requestedBy requestedAt startedAt finishedAt standardVersion standardSha256 sample error
    report { baseRunId moved dimensions { dimension customers moved fromTo { fromValue toValue customers }
                                          sample { customerId fromValue toValue } } }
  }
}""")
WHATIF_FINISHED = ("done", "failed")


def overrides_frame(nodes: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([list(n.values()) for n in nodes], columns=OVERRIDE_COLUMNS)
    for col in ("proposed_at", "decided_at", "revoked_at", "expires_on"):
        df[col] = pd.to_datetime(df[col])
    return df


@dataclass(frozen=True, eq=False)
class WhatIfReport:
    """A what-if of a draft standard as the server did it: who asked, its status and, once
    done, three DataFrames — `summary` (dimension, customers, moved), `from_to` (dimension,
    from_value, to_value, customers: movers only) and `sample` (dimension, customer_id,
    from_value, to_value: the first movers by customer id). Nothing was published."""

    whatif_id: int
    status: str  # queued, running, done or failed
    standard_version: str
    standard_sha256: str
    requested_by: str
    requested_at: pd.Timestamp
    finished_at: pd.Timestamp | None
    error: str | None
    base_run_id: int | None
    moved: int | None
    summary: pd.DataFrame
    from_to: pd.DataFrame
    sample: pd.DataFrame

    @classmethod
    def from_node(cls, w: dict) -> WhatIfReport:
        report = w.get("report") or {}
        dims = report.get("dimensions") or []
        return cls(
            whatif_id=w["id"],
            status=w["status"],
            standard_version=w["standardVersion"],
            standard_sha256=w["standardSha256"],
            requested_by=w["requestedBy"],
            requested_at=pd.Timestamp(w["requestedAt"]),
            finished_at=pd.Timestamp(w["finishedAt"]) if w["finishedAt"] else None,
            error=w["error"],
            base_run_id=report.get("baseRunId"),
            moved=report.get("moved"),
            summary=pd.DataFrame(
                [(d["dimension"], d["customers"], d["moved"]) for d in dims],
                columns=["dimension", "customers", "moved"],
            ),
            from_to=pd.DataFrame(
                [(d["dimension"], c["fromValue"], c["toValue"], c["customers"]) for d in dims for c in d["fromTo"]],
                columns=["dimension", "from_value", "to_value", "customers"],
            ),
            sample=pd.DataFrame(
                [(d["dimension"], m["customerId"], m["fromValue"], m["toValue"]) for d in dims for m in d["sample"]],
                columns=["dimension", "customer_id", "from_value", "to_value"],
            ),
        )

    def __repr__(self) -> str:
        if self.status != "done":
            return f"WhatIfReport(#{self.whatif_id} {self.standard_version!r}: {self.status})"
        touched = int((self.summary["moved"] > 0).sum())
        return (
            f"WhatIfReport(#{self.whatif_id} {self.standard_version!r} vs run {self.base_run_id}: {self.moved:,} "
            f"tags move, in {touched} of {len(self.summary)} dimensions)"
        )
