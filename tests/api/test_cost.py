"""Query cost: lists multiply through the selection (pages × nested lists × hops, fragments and
variables resolved), a bigger page never costs less, and an operation over the budget is refused
before any resolver runs, over HTTP with a 400 that states its cost and the budget."""

import asyncio
import json

import pytest
from graphql import parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from strawberry.extensions import SchemaExtension

from clientstrata.api.app import create_app
from clientstrata.api.context import Context
from clientstrata.api.cost import DEFAULT_LIST, LIST_BOUNDS, operation_cost
from clientstrata.api.schema import build_schema, schema
from clientstrata.api.settings import ApiSettings
from clientstrata.graph.record.access import authenticate

GQL_JSON = "application/graphql-response+json"
SCHEMA = schema._schema
BOMB = "{ customers(first:1000) { edges { node { ecosystem(hops:4, first:1000) { hops } } } } }"


def cost(query: str, **variables) -> int:
    return operation_cost(SCHEMA, parse(query), None, variables)


def test_the_issue_query_multiplies_pages_lists_and_hops():
    # the connection (1), its page of edges and nodes (1000 each), then 1000 walks of 1000 × 4 hops
    assert cost(BOMB) == 1 + 1000 + 1000 + 1000 * 1000 * 4
    assert cost("{ customers(first: 10) { totalCount pageInfo { hasNextPage } } }") == 2  # no page selected
    assert cost("{ customers(first: 10) { edges { node { id tags { value } } } } }") == 1 + 10 + 10 + 10 * DEFAULT_LIST
    assert cost('{ customer(id: "C1") { alerts { id } } }') == 1 + LIST_BOUNDS[("Customer", "alerts")]
    assert cost("{ customerTable(first: 50000) { columns rows } }") == 1 + 50000  # a table's rows are its page
    for encoding in ("columnValues", "arrow"):  # the same page, encoded otherwise, costs the same
        assert cost(f"{{ customerTable(first: 50000) {{ columns {encoding} }} }}") == 1 + 50000
    assert cost("{ classificationChangeTable(first: 9) { arrow } }") == 1 + 9
    assert cost("{ actionTable(first: 100) { rows arrow } }") == 1 + 2 * 100  # two encodings: twice the work


def test_fragments_variables_and_defaults_cost_what_they_stand_for():
    literal = cost(BOMB)
    assert (
        cost(
            """query($n: Int!, $h: Int! = 4) { customers(first: $n) { ...Page } }
            fragment Page on CustomerConnection { edges { node { ... on Customer { ...Eco } } } }
            fragment Eco on Customer { ecosystem(hops: $h, first: $n) { hops } }""",
            n=1000,
        )
        == literal
    )
    # the schema's defaults count when the argument is left out: customers 50, ecosystem 2 hops × 100
    assert cost("{ customers { edges { node { ecosystem { hops } } } } }") == 1 + 50 + 50 + 50 * 100 * 2


# --- generated documents --------------------------------------------------------------------

_NESTED = {
    "eco": "ecosystem(hops: {h}, first: {k}) {{ hops relations }}",
    "tags": "tags {{ dimension value }}",
    "holdings": "holdings {{ family holdings {{ accountId }} }}",
    "alerts": "alerts {{ id type }}",
    "feedback": "feedback {{ id }}",
}


@st.composite
def documents(draw):
    """(a query template over page sizes n, k and hops h, a spelling) for customer pages with
    nested lists, spelled with literals, variables or fragments."""
    nested = draw(st.lists(st.sampled_from(sorted(_NESTED)), min_size=0, max_size=3, unique=True))
    spelling = draw(st.sampled_from(["literal", "variables", "fragment"]))
    return nested, spelling


def render(nested, spelling, n, k, h):
    inner = " ".join(_NESTED[f] for f in nested) or "id"
    if spelling == "variables":
        body = inner.format(h="$h", k="$k")
        used = {"n": n, **({"k": k, "h": h} if "eco" in nested else {})}  # an unused variable is invalid
        declared = ", ".join(f"${name}: Int!" for name in used)
        return f"query({declared}) {{ customers(first: $n) {{ edges {{ node {{ id {body} }} }} }} }}", used
    body = inner.format(h=h, k=k)
    if spelling == "fragment":
        return (
            f"{{ customers(first: {n}) {{ ...P }} }} fragment P on CustomerConnection {{ edges {{ node {{ ...C }} }} }}"
            f" fragment C on Customer {{ id {body} }}",
            {},
        )
    return f"{{ customers(first: {n}) {{ edges {{ node {{ id {body} }} }} }} }}", {}


sizes = st.integers(min_value=0, max_value=1000)


@settings(max_examples=200, deadline=None)
@given(documents(), sizes, sizes, st.integers(min_value=1, max_value=4), st.sampled_from("nkh"), st.integers(1, 500))
def test_a_bigger_page_never_costs_less(doc, n, k, h, which, more):
    nested, spelling = doc
    base = {"n": n, "k": k, "h": h}
    bigger = {**base, which: base[which] + more}
    q, v = render(nested, spelling, **base)
    q2, v2 = render(nested, spelling, **bigger)
    assert cost(q2, **v2) >= cost(q, **v)
    # and every spelling of the same request costs the same
    spelled = [render(nested, s, **base) for s in ("literal", "variables", "fragment")]
    assert {cost(sq, **sv) for sq, sv in spelled} == {cost(q, **v)}


# --- refused before it runs -----------------------------------------------------------------


class _Resolved(SchemaExtension):
    """Counts the fields resolved, root fields included."""

    calls = 0

    def resolve(self, _next, root, info, *args, **kwargs):
        type(self).calls += 1
        return _next(root, info, *args, **kwargs)


@pytest.fixture(scope="module")
def principal(loaded_ro, make_token_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        return authenticate(conn, make_token_ro("marketing_analyst"))


BUDGET = 400


@pytest.fixture(scope="module")
def small_budget():
    built = build_schema(ApiSettings(max_cost=BUDGET))
    built.extensions = [*built.extensions, _Resolved]
    return built


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    documents(),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=4),
)
def test_every_operation_over_the_budget_is_refused_before_any_resolver_runs(
    small_budget, loaded_ro, principal, doc, n, k, h
):
    engine, graph = loaded_ro
    q, v = render(*doc, n=n, k=k, h=h)
    expected = cost(q, **v)
    _Resolved.calls = 0
    result = asyncio.run(
        small_budget.execute(q, v, context_value=Context(engine=engine, graph=graph, principal=principal))
    )
    assert result.extensions["cost"] == {"requested": expected, "budget": BUDGET}
    codes = [(e.extensions or {}).get("code") for e in result.errors or ()]
    if expected > BUDGET:
        assert result.data is None and codes == ["QUERY_TOO_COSTLY"]
        assert _Resolved.calls == 0
        assert f"costs {expected}, over the budget of {BUDGET}" in result.errors[0].message
    else:
        assert "QUERY_TOO_COSTLY" not in codes and _Resolved.calls > 0


# --- over HTTP ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(loaded_ro, make_token_ro):
    engine, graph = loaded_ro
    token = make_token_ro("service_agent")  # the lowest-privilege role
    with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def test_the_issue_query_is_refused_with_400_its_cost_and_the_budget(client):
    r = client.post("/graphql", json={"query": BOMB}, headers={"accept": GQL_JSON})
    assert r.status_code == 400, r.text
    body = r.json()
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 4002001, "budget": 100000}
    assert "costs 4002001, over the budget of 100000" in error["message"]
    assert "Traceback" not in r.text
    assert body["extensions"]["cost"] == {"requested": 4002001, "budget": 100000}


def test_an_application_json_client_is_refused_with_400_too(client):
    """The spec lets request errors answer 200 to `application/json` clients, but a cost refusal is
    the server's policy, not a malformed request: every client sees it as a 400 it can act on."""
    r = client.post("/graphql", json={"query": BOMB}, headers={"accept": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_an_operation_within_the_budget_reports_its_cost(client):
    r = client.post("/graphql", json={"query": "{ customers(first: 5) { edges { node { id } } } }"})
    assert r.status_code == 200
    body = r.json()
    assert len(body["data"]["customers"]["edges"]) == 5
    assert body["extensions"]["cost"] == {"requested": 11, "budget": 100000}


def test_the_budget_comes_from_the_environment(loaded_ro, make_token_ro):
    engine, graph = loaded_ro
    settings_ = ApiSettings.from_env({"CLIENTSTRATA_MAX_COST": "10"})
    token = make_token_ro("service_agent")
    with TestClient(create_app(engine, graph, settings=settings_)) as c:
        r = c.post(
            "/graphql",
            content=json.dumps({"query": "{ customers(first: 5) { edges { node { id } } } }"}),
            headers={"Authorization": f"Bearer {token}", "accept": GQL_JSON, "content-type": "application/json"},
        )
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["budget"] == 10


# The API's largest page for each paged root field: the SDK asks for at most these.
_LARGEST_PAGE = {
    "customerTable": 50000,
    "actionTable": 50000,
    "packageTable": 50000,
    "customer": 500,  # nested: a customer's points postings (next-best actions: 20)
    "worklist": 1000,
    "classificationChanges": 9999,
    "classificationChangeTable": 50000,
    "alerts": 9999,
    "feedback": 1000,
    "customers": 1000,
    "households": 1000,
    "overrides": 1000,
    "auditLog": 1000,
    "runs": 100,
}


def test_every_query_the_sdk_sends_fits_the_default_budget_at_its_largest_page():
    import clientstrata.sdk._actions as actions_module
    import clientstrata.sdk._changes as changes_module
    import clientstrata.sdk._client as client_module
    import clientstrata.sdk._customer as customer_module
    import clientstrata.sdk._dimensions as dimensions_module
    import clientstrata.sdk._governance as governance_module
    import clientstrata.sdk._history as history_module
    import clientstrata.sdk._strategies as strategies_module

    modules = (
        client_module,
        governance_module,
        changes_module,
        history_module,
        actions_module,
        strategies_module,
        customer_module,
        dimensions_module,
    )
    values = [v for m in modules for v in vars(m).values()]
    # a bulk table's documents are kept by the shape of their pages (Arrow or JSON)
    values += [d for v in values if isinstance(v, dict) for d in v.values()]
    sent = [v.document for v in values if getattr(v, "document", None) is not None]
    assert len(sent) >= 20
    for doc in sent:
        op = doc.definitions[0]
        root = op.selection_set.selections[0].name.value
        declared = {d.variable.name.value for d in op.variable_definitions or ()}
        variables = {"first": _LARGEST_PAGE[root]} if "first" in declared else {}
        assert operation_cost(SCHEMA, doc, None, variables) <= ApiSettings().max_cost, root
