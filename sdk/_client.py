"""A thin gql client that returns pandas DataFrames."""
from __future__ import annotations

import pandas as pd
from gql import Client as GqlClient, GraphQLRequest, gql
from gql.transport.exceptions import TransportError as GqlTransportError, TransportQueryError
from gql.transport.httpx import HTTPXTransport
from httpx import HTTPError
from tqdm.auto import tqdm

from ._errors import APIError, AuthenticationError, TransportError

__all__ = ["Client"]

PAGE_SIZE = 1000

_CUSTOMERS = gql("""
query Customers($first: Int!, $after: String, $filter: CustomerFilter) {
  customers(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name gender birthDate branchId rmId tier cooperationDepth } }
  }
}""")

_HOUSEHOLD = gql("""
query Household($id: ID!) {
  household(id: $id) {
    id name status aum
    members { role aum customer { id name gender birthDate tier cooperationDepth } }
  }
}""")

_COLUMNS = ["id", "name", "gender", "birthDate", "branchId", "rmId", "tier", "cooperationDepth"]
_FILTERS = {"tier": "tier", "cooperation_depth": "cooperationDepth", "branch_id": "branchId", "rm_id": "rmId"}


class Client:
    """`Client("http://127.0.0.1:8000/graphql", token=None)`; every method returns a DataFrame."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60, progress: bool = True) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url, self.progress = url, progress
        self._gql = GqlClient(transport=HTTPXTransport(url=url, headers=headers, timeout=timeout),
                              fetch_schema_from_transport=False)

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

    def customers(self, **filters) -> pd.DataFrame:
        """Every customer matching the filters (tier, cooperation_depth, branch_id, rm_id),
        fetched page by page."""
        unknown = set(filters) - set(_FILTERS)
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)}; use {sorted(_FILTERS)}")
        flt = {_FILTERS[k]: v for k, v in filters.items() if v is not None} or None
        rows, after, bar = [], None, None
        while True:
            page = self._execute(_CUSTOMERS, first=PAGE_SIZE, after=after, filter=flt)["customers"]
            if bar is None:
                bar = tqdm(total=page["totalCount"], desc="customers", unit="rows", disable=not self.progress, leave=False)
            rows += [e["node"] for e in page["edges"]]
            bar.update(len(page["edges"]))
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        bar.close()
        return pd.DataFrame(rows, columns=_COLUMNS)

    def household(self, household_id: str) -> pd.DataFrame:
        """The household's members with role and AUM; `.attrs` carries the household itself."""
        hh = self._execute(_HOUSEHOLD, id=household_id)["household"]
        if hh is None:
            raise APIError([f"no household with id {household_id!r}"])
        df = pd.DataFrame([{"role": m["role"], "aum": m["aum"], **(m["customer"] or {})} for m in hh["members"]])
        df.attrs.update({k: hh[k] for k in ("id", "name", "status", "aum")})
        return df
