"""A thin gql client that returns pandas DataFrames."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import orjson
import pandas as pd
from gql import Client as GqlClient
from gql import GraphQLRequest, gql
from gql.transport.exceptions import TransportError as GqlTransportError
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from httpx import HTTPError
from tqdm.auto import tqdm

from . import _actions as A
from . import _changes as CH
from . import _customer as C
from . import _dimensions as D
from . import _governance as G
from . import _history as H
from . import _strategies as S
from . import _tables as T
from ._errors import APIError, AuthenticationError, TransportError
from ._frames import typed

__all__ = ["Client"]

PAGE_SIZE = 10_000

# the page as Arrow or as JSON columns, as `Client.arrow` says
_CUSTOMER_TABLE = {
    field: gql(f"""
query CustomerTable($first: Int!, $after: String, $filter: CustomerFilter, $dimensions: [String!], $total: Boolean!) {{
  customerTable(first: $first, after: $after, filter: $filter, dimensions: $dimensions) {{
    columns {field} totalCount @include(if: $total)
    pageInfo {{ hasNextPage endCursor }}
  }}
}}""")
    for field in ("arrow", "columnValues")
}

_HOUSEHOLD = gql("""
query Household($id: ID!) {
  household(id: $id) {
    id name status aum
    members { role aum customer { id name gender birthDate tier cooperationDepth } }
  }
}""")

_HOUSEHOLDS = gql("""
query Households($first: Int!, $after: String, $filter: HouseholdFilter, $since: DateTime) {
  households(first: $first, after: $after, filter: $filter, updatedSince: $since) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name status tier aum memberCount updatedAt } }
  }
}""")
HOUSEHOLD_PAGE = 1_000  # the API's largest page
HOUSEHOLD_COLUMNS = ["household_id", "name", "status", "tier", "aum", "member_count", "updated_at"]
_HOUSEHOLD_FILTERS = {
    "tier": "tier",
    "branch_id": "branchId",
    "status": "status",
    "aum_min": "aumMin",
    "aum_max": "aumMax",
}

_SEGMENTS = gql("""
query Segments($dimension: String!, $run: Int) {
  segments(dimension: $dimension, run: $run) {
    value label labelZh customers share meanScore aumTotal aumAvg description descriptionZh
  }
}""")
SEGMENT_COLUMNS = [
    "value",
    "label",
    "label_zh",
    "customers",
    "share",
    "mean_score",
    "aum_total",
    "aum_avg",
    "description",
    "description_zh",
]

_ALERTS = gql("""
query Alerts($first: Int!, $after: String, $filter: AlertFilter) {
  alerts(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node { id runId customerId rmId type severity reason status createdAt acknowledgedBy acknowledgedAt } }
  }
}""")
ALERT_COLUMNS = [
    "alert_id",
    "run_id",
    "customer_id",
    "rm_id",
    "type",
    "severity",
    "reason",
    "status",
    "created_at",
    "acknowledged_by",
    "acknowledged_at",
]
_ALERT_FILTERS = {"type": "type", "status": "status", "customer_id": "customerId", "rm_id": "rmId"}

_RUNS = gql("""
query Runs($first: Int!, $after: String) {
  runs(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id status kind requestedBy standardVersion startedAt publishedAt customerCount error } }
  }
}""")
RUN_COLUMNS = [
    "run_id",
    "status",
    "kind",
    "requested_by",
    "standard_version",
    "started_at",
    "published_at",
    "customer_count",
    "error",
]

_FILTERS = {
    "tier": "tier",
    "cooperation_depth": "cooperationDepth",
    "branch_id": "branchId",
    "rm_id": "rmId",
    "aum_min": "aumMin",
    "aum_max": "aumMax",
    "tags": "tags",
}


def _customer_filter(filters: dict) -> dict:
    """`customers()`'s keyword filters as the API's CustomerFilter input."""
    unknown = set(filters) - set(_FILTERS)
    if unknown:
        raise ValueError(f"unknown filter {sorted(unknown)}; use {sorted(_FILTERS)}")
    flt = {_FILTERS[k]: v for k, v in filters.items() if v is not None}
    if "tags" in flt:
        flt["tags"] = [
            {"dimension": d, "values": [v] if isinstance(v, str) else list(v)} for d, v in flt["tags"].items()
        ]
    return flt


class Client:
    """`Client("http://127.0.0.1:8000/graphql", token=None)`; every method returns a DataFrame
    (a what-if: a `WhatIfReport` holding three; `customer`, `enterprise`: a dict of them). Bulk
    pulls read their pages as Arrow when pyarrow is installed (`arrow=False`: as JSON; the frames
    are the same)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        timeout: float = 60,
        progress: bool = True,
        page_size: int = PAGE_SIZE,
        arrow: bool | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url, self.progress, self.page_size = url, progress, page_size
        # bulk pages as Arrow (None: when pyarrow is installed; False: always JSON)
        self.arrow = T.arrow_wanted(arrow)
        self._gql = GqlClient(
            # orjson reads a bulk page several times faster than the standard library; the transport
            # opens an httpx client per request, and each built its TLS context (the CA bundle read
            # again, tens of milliseconds) until given this one
            transport=HTTPXTransport(
                url=url,
                headers=headers,
                timeout=timeout,
                json_deserialize=orjson.loads,
                verify=httpx.create_ssl_context(),
            ),
            fetch_schema_from_transport=False,
        )

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

    def _execute(self, query, **variables) -> dict:
        try:
            return self._gql.execute(GraphQLRequest(query, variable_values=variables))
        except TransportQueryError as exc:
            errors = exc.errors or [{"message": str(exc)}]
            messages = [e.get("message", str(e)) for e in errors]
            codes = [(e.get("extensions") or {}).get("code") for e in errors]
            error = AuthenticationError if "UNAUTHENTICATED" in codes else APIError
            raise error(messages, codes) from None
        except (GqlTransportError, HTTPError, OSError) as exc:
            raise TransportError(f"cannot reach {self.url}: {exc}") from None

    def customers(self, dimensions: list[str] | None = None, **filters) -> pd.DataFrame:
        """Every customer matching the filters, one row each, with the latest run's value of each
        dimension as a column (all dimensions unless `dimensions` names some). Filters: tier,
        cooperation_depth, branch_id, rm_id, aum_min, aum_max, and tags={dimension: [values]},
        e.g. `customers(tier="wealth", tags={"risk_preference": ["C4", "C5"]})`.

        Beside the record's columns: age, aum_month_average (what the wealth tier reads),
        current_balance (today's deposit and investment balances), household_id and household_tier.
        Scales (tiers, deciles, levels) are ordered categoricals in the standard's order, as the
        server gives it; other dimensions categoricals; multi-label tags lists.

        Pages of 10,000 travel as columns, not as GraphQL objects, so a whole segment is quick: as
        Arrow when pyarrow is installed (`pip install 'clientstrata[arrow]'`), else as JSON."""
        flt = _customer_filter(filters)
        pages, after = T.Pages("arrow" if self.arrow else "columnValues"), None
        with tqdm(desc="customers", unit="rows", disable=not self.progress, leave=False) as bar:
            while True:
                page = self._execute(  # the total (a count of the whole filter) once, for the bar
                    _CUSTOMER_TABLE[pages.field],
                    first=self.page_size,
                    after=after,
                    filter=flt or None,
                    dimensions=dimensions,
                    total=after is None,
                )["customerTable"]
                bar.total = page.get("totalCount", bar.total)
                bar.update(pages.add(page))
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
        dims = self._execute(D.DIMENSIONS)["dimensions"]
        return D.categorise(typed(pages.frame(categorical=D.categorical_columns(dims))), dims)

    def households(self, updated_since=None, **filters) -> pd.DataFrame:
        """Households, one row each (household_id, name, status, tier, aum, member_count,
        updated_at), pulled a page at a time. Filters: tier, branch_id, status ("confirmed" or
        "candidate"), aum_min, aum_max. With `updated_since` (a datetime or ISO string) only those
        whose view changed after it, oldest change first: keep `df["updated_at"].max()` and pass it
        next time to sync incrementally without missing or repeating a change. `tier` is an ordered
        categorical in the standard's order, as in `customers()`."""
        unknown = set(filters) - set(_HOUSEHOLD_FILTERS)
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)}; use {sorted(_HOUSEHOLD_FILTERS)}")
        flt = {_HOUSEHOLD_FILTERS[k]: v for k, v in filters.items() if v is not None}
        if "status" in flt:
            flt["status"] = str(flt["status"]).upper()
        since = pd.Timestamp(updated_since).isoformat() if updated_since is not None else None
        rows, _ = self._nodes(
            _HOUSEHOLDS,
            "households",
            min(self.page_size, HOUSEHOLD_PAGE),
            "households",
            filter=flt or None,
            since=since,
        )
        df = pd.DataFrame(
            [
                [r["id"], r["name"], r["status"].lower(), r["tier"], r["aum"], r["memberCount"], r["updatedAt"]]
                for r in rows
            ],
            columns=HOUSEHOLD_COLUMNS,
        )
        dims = self._execute(D.DIMENSIONS)["dimensions"]
        return D.categorise(typed(df), dims, aliases={"tier": "household_wealth_tier"})

    def _nodes(
        self, query, root: str, first: int, desc: str, after: str | None = None, **variables
    ) -> tuple[list[dict], str | None]:
        """Every node of a connection, page by page; returns them and the last cursor."""
        nodes: list[dict] = []
        with tqdm(desc=desc, unit="rows", disable=not self.progress, leave=False) as bar:
            while True:
                page = self._execute(query, first=first, after=after, **variables)[root]
                if "totalCount" in page:
                    bar.total = page["totalCount"]
                nodes += [e["node"] for e in page["edges"]]
                bar.update(len(page["edges"]))
                after = page["pageInfo"]["endCursor"] or after
                if not page["pageInfo"]["hasNextPage"]:
                    return nodes, after

    def segments(self, dimension: str, run: int | None = None) -> pd.DataFrame:
        """Each value of `dimension` (the latest run, or `run`) with its customers, share and AUM;
        behaviour clusters carry their descriptions."""
        rows = self._execute(_SEGMENTS, dimension=dimension, run=run)["segments"]
        return typed(pd.DataFrame([list(r.values()) for r in rows], columns=SEGMENT_COLUMNS))

    def changes(self, after: str | None = None) -> pd.DataFrame:
        """Published tag changes and approved overrides after the cursor `after`, oldest first
        (seq, at in UTC, source, run_id, override_id, customer_id, dimension, old_value,
        new_value). `df.attrs["cursor"]` is where to resume: keep it and pass it next time, and no
        change is missed or seen twice, across restarts of either side.

        Pages of up to 50,000 travel as columns (`classificationChangeTable`), not as GraphQL
        objects, so a full pull runs at the speed of `customers()`."""
        return typed(
            CH.pull_changes(self._execute, min(self.page_size, CH.MAX_CHANGE_PAGE), after, self.progress, self.arrow)
        )

    def migration(self, from_run: int, to_run: int, dimension: str) -> pd.DataFrame:
        """Who moved from which value to which of `dimension` between two published runs: the
        matrix's non-empty cells (from_value, to_value, customers; `(none)` where a side has no
        tag). `.attrs`: from_run, to_run, dimension, customers, moved. A relationship manager's
        counts are of their book."""
        return typed(
            H.migration_frame(
                self._execute(H.MIGRATION, fromRun=from_run, toRun=to_run, dimension=dimension)["migration"]
            )
        )

    def feedback(self, customer_id: str | None = None) -> pd.DataFrame:
        """Surveys, complaints and compliments, oldest first (feedback_id, customer_id, kind, score,
        text, recorded_by, recorded_at in UTC): one customer's, or the whole bank's (a relationship
        manager: their book's)."""
        nodes, _ = self._nodes(H.FEEDBACK, "feedback", H.FEEDBACK_PAGE, "feedback", customerId=customer_id)
        return typed(H.feedback_frame(nodes))

    def alerts(self, **filters) -> pd.DataFrame:
        """Alerts oldest first; filters: type, status ("open" or "acknowledged"), customer_id, rm_id."""
        unknown = set(filters) - set(_ALERT_FILTERS)
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)}; use {sorted(_ALERT_FILTERS)}")
        flt = {_ALERT_FILTERS[k]: v for k, v in filters.items() if v is not None}
        nodes, _ = self._nodes(_ALERTS, "alerts", 9_999, "alerts", filter=flt or None)
        return typed(pd.DataFrame([list(n.values()) for n in nodes], columns=ALERT_COLUMNS))

    def next_best_actions(self, customer_id: str, first: int = 3) -> pd.DataFrame:
        """The customer's next-best actions now, best first, with their reasons (en, zh)."""
        found = self._execute(A.NEXT_BEST_ACTIONS, id=customer_id, first=first)["customer"]
        if found is None:
            raise APIError([f"no customer with id {customer_id!r} in your book"])
        return typed(A.actions_frame(found["nextBestActions"]))

    def actions(self, **filters) -> pd.DataFrame:
        """The latest run's next-best actions of every customer the filters select (those of
        `customers()`), by customer then rank: the campaign list. Held-out (control) actions are
        left out, and no row offers a product above the customer's suitability; relationship
        managers get their book. Pages travel as columns (`actionTable`), like `customers()`."""
        flt = _customer_filter(filters)
        pages, after = T.Pages("arrow" if self.arrow else "rows"), None
        with tqdm(desc="actions", unit="rows", disable=not self.progress, leave=False) as bar:
            while True:
                page = self._execute(A.ACTION_TABLE[pages.field], first=self.page_size, after=after, filter=flt or None)
                page = page["actionTable"]
                bar.total = page["totalCount"]
                bar.update(pages.add(page))
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
        df = pages.frame(A.ACTION_TABLE_COLUMNS)
        return typed(A.action_table_frame(df, list(df.columns)))

    def worklist(self, rm_id: str | None = None, first: int = 200) -> pd.DataFrame:
        """A relationship manager's open actions and alerts, due first (an RM: their own)."""
        return typed(A.worklist_frame(self._execute(A.WORKLIST, rmId=rm_id, first=first)["worklist"]))

    def strategy_effect(self, run_id: int | None = None) -> pd.DataFrame:
        """Each action's effect per segment (and "all") against its control group: counts,
        conversion uplift with its interval, AUM change."""
        return typed(A.effect_frame(self._execute(A.STRATEGY_EFFECT, runId=run_id)["strategyEffect"]))

    def runs(self) -> pd.DataFrame:
        """Classification runs, newest first, with their status and standard version."""
        nodes, _ = self._nodes(_RUNS, "runs", 100, "runs")
        return typed(pd.DataFrame([list(n.values()) for n in nodes], columns=RUN_COLUMNS))

    def household(self, household_id: str) -> pd.DataFrame:
        """The household's members with role and AUM; `.attrs` carries the household itself."""
        hh = self._execute(_HOUSEHOLD, id=household_id)["household"]
        if hh is None:
            raise APIError([f"no household with id {household_id!r}"])
        df = pd.DataFrame([{"role": m["role"], "aum": m["aum"], **(m["customer"] or {})} for m in hh["members"]])
        df.attrs.update({k: hh[k] for k in ("id", "name", "aum")}, status=hh["status"].lower())
        return typed(df)

    def customer(self, customer_id: str) -> dict[str, pd.DataFrame]:
        """The customer 360 as a dict of frames: profile (one row), tags, holdings, household
        (members; `.attrs` the household), alerts, feedback, next_best_actions."""
        found = self._execute(C.CUSTOMER, id=customer_id)["customer"]
        if found is None:
            raise APIError([f"no customer with id {customer_id!r} in your book"], ["NOT_FOUND"])
        return C.customer_frames(found)

    def enterprise(self, enterprise_id: str) -> dict[str, pd.DataFrame]:
        """One enterprise as a dict of frames: profile (one row), tags, people, supply_chain."""
        found = self._execute(C.ENTERPRISE, id=enterprise_id)["enterprise"]
        if found is None:
            raise APIError([f"no enterprise with id {enterprise_id!r} that you may see"], ["NOT_FOUND"])
        return C.enterprise_frames(found)

    def overrides(self, **filters) -> pd.DataFrame:
        """Manual overrides in every state, oldest first; filters: status ("proposed", "approved",
        "rejected", "revoked", "expired"), customer_id, dimension, proposed_by.
        `overrides(status="proposed")` is what awaits a checker."""
        unknown = set(filters) - set(G.OVERRIDE_FILTERS)
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)}; use {sorted(G.OVERRIDE_FILTERS)}")
        flt = {G.OVERRIDE_FILTERS[k]: v for k, v in filters.items() if v is not None}
        nodes, _ = self._nodes(G.OVERRIDES, "overrides", 1000, "overrides", filter=flt or None)
        return typed(G.overrides_frame(nodes))

    def submit_whatif(self, standard: str | os.PathLike, sample: int = 20) -> int:
        """Queue a what-if of a draft standard — its YAML text, or a `Path` to the file — and
        return its id at once; the server does it in the background. A draft it cannot use
        raises `APIError` naming the line (`codes == ["INVALID_STANDARD"]`)."""
        text = Path(standard).read_text("utf-8") if isinstance(standard, os.PathLike) else standard
        got = self._execute(G.SUBMIT_WHATIF, standard=text, sample=sample)["whatIf"]
        if got["__typename"] != "WhatIf":
            raise APIError([got["message"]], [got["code"]])
        return got["id"]

    def whatif_report(
        self, whatif_id: int, wait: bool = True, timeout: float = 3600, poll_every: float = 2.0
    ) -> G.WhatIfReport:
        """A what-if's report (`.summary`, `.from_to`, `.sample` DataFrames). Waits while it is
        queued or running (`wait=False`: returns at once, the frames empty until done); a failed
        one raises `APIError` saying why; `TimeoutError` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            node = self._execute(G.WHATIF, id=whatif_id)["whatIf"]
            if node is None:
                raise APIError([f"no what-if with id {whatif_id}"], ["NOT_FOUND"])
            if node["status"] == "failed":
                raise APIError([f"what-if {whatif_id} failed: {node['error']}"], ["WHATIF_FAILED"])
            if node["status"] in G.WHATIF_FINISHED or not wait:
                return G.WhatIfReport.from_node(node)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"what-if {whatif_id} is still {node['status']} after {timeout:g} s; "
                    f"fetch it later with whatif_report({whatif_id})"
                )
            time.sleep(poll_every)

    def whatif(self, standard: str | os.PathLike, sample: int = 20, timeout: float = 3600) -> G.WhatIfReport:
        """Submit a draft standard and wait for its report: `submit_whatif` then `whatif_report`.
        The server publishes nothing."""
        return self.whatif_report(self.submit_whatif(standard, sample), timeout=timeout)

    def playbook(self) -> pd.DataFrame:
        """The live playbook's service packages in precedence order (the last is the catch-all),
        with entitlements, channels, care, discounts and selectors; `.attrs["version"]`."""
        pb = self._execute(S.PLAYBOOK)["playbook"]
        rows = [
            [
                i + 1,
                p["name"],
                p["label"],
                p["labelZh"],
                [e["name"] for e in p["entitlements"]],
                p["channels"],
                p["care"]["visitsPerQuarter"],
                p["care"]["holidayGreetings"],
                p["care"]["birthdayCare"],
                p["discounts"],
                p["selectors"],
            ]
            for i, p in enumerate(pb["packages"])
        ]
        df = pd.DataFrame(rows, columns=S.PLAYBOOK_COLUMNS)
        df.attrs["version"] = pb["version"]
        return typed(df)

    def packages(self) -> pd.DataFrame:
        """Every customer's service package in the latest run, one row each (customer_id, run_id,
        package, selector, explanation_en, explanation_zh, points_balance); relationship managers
        get their book. Pages travel as columns, like `customers()`."""
        pages, after = T.Pages("arrow" if self.arrow else "rows"), None
        with tqdm(desc="packages", unit="rows", disable=not self.progress, leave=False) as bar:
            while True:
                page = self._execute(S.PACKAGE_TABLE[pages.field], first=self.page_size, after=after)["packageTable"]
                bar.total = page["totalCount"]
                bar.update(pages.add(page))
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
        return typed(pages.frame())

    def points(self, customer_id: str, first: int = S.MAX_POSTINGS) -> pd.DataFrame:
        """One customer's points (积分) postings, newest first (the `first` newest, at most 500);
        `.attrs["balance"]` is the balance, always the sum of all postings."""
        found = self._execute(S.POINTS, id=customer_id, first=first)["customer"]
        if found is None or found["strategy"] is None:
            raise APIError([f"no classified customer {customer_id!r} that you may see"])
        pts = found["strategy"]["points"]
        df = pd.DataFrame([list(p.values()) for p in pts["postings"]], columns=S.POSTING_COLUMNS)
        df.attrs["balance"] = pts["balance"]
        return typed(df)
