"""One naming scheme across the API, checked over the whole schema rather than a list of types:
labels come as `label`/`labelEn`/`labelZh` together, an enum a filter accepts is the enum its
type returns, and every connection ends an empty page with a null `endCursor`."""

from collections import Counter

import pytest
from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, get_named_type, is_enum_type
from graphql import is_non_null_type as non_null

from clientstrata.api.schema import schema

GQL = schema._schema
LABELS = ("label", "labelEn", "labelZh")


def ask(app, token, query, **variables):
    r = app.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


def _types(*kinds):
    return [t for name, t in GQL.type_map.items() if not name.startswith("__") and isinstance(t, kinds)]


def test_every_type_with_a_label_has_all_three_alike():
    checked = 0
    for t in _types(GraphQLObjectType, GraphQLInterfaceType):
        present = [f for f in LABELS if f in t.fields]
        if not present:
            continue
        checked += 1
        assert set(present) == set(LABELS), f"{t.name} has only {present}"
        fields = [t.fields[f].type for f in LABELS]
        assert {get_named_type(f).name for f in fields} == {"String"}, t.name
        assert len({non_null(f) for f in fields}) == 1, f"{t.name}: the labels differ in nullability"
    assert checked >= 9  # tags, segments, overrides and the playbook's parts at least


def test_a_filters_enum_is_what_its_type_returns():
    """`<X>Filter.f` and `<X>.f` agree: when either is an enum, both are that enum (so a value read
    can be passed back as it was read, in the same case)."""
    pairs = 0
    for flt in _types(GraphQLInputObjectType):
        target = GQL.type_map.get(flt.name.removesuffix("Filter"))
        if not flt.name.endswith("Filter") or not isinstance(target, GraphQLObjectType):
            continue
        for name in flt.fields.keys() & target.fields.keys():
            given, returned = get_named_type(flt.fields[name].type), get_named_type(target.fields[name].type)
            if is_enum_type(given) or is_enum_type(returned):
                pairs += 1
                assert given is returned, f"{flt.name}.{name} takes {given}, {target.name}.{name} returns {returned}"
    assert pairs >= 1


def test_a_household_status_read_is_a_filter_value(app_ro, make_token_ro):
    token = make_token_ro("marketing_analyst")
    page = ask(app_ro, token, "{ households(first: 1000) { edges { node { id status } } } }")["households"]
    statuses = Counter(e["node"]["status"] for e in page["edges"])
    assert statuses
    q = "query($s: HouseholdStatus) { households(first: 1000, filter: {status: $s}) { totalCount } }"
    for status, n in statuses.items():
        assert ask(app_ro, token, q, s=status)["households"]["totalCount"] == n, status


def _connections():
    """Root fields returning a page (a type with `pageInfo`), with what to select of a page's items."""
    for name, field in GQL.query_type.fields.items():
        page = get_named_type(field.type)
        if isinstance(page, GraphQLObjectType) and "pageInfo" in page.fields:
            assert {"first", "after"} <= field.args.keys(), f"{name} pages without first/after"
            yield name, "edges { cursor }" if "edges" in page.fields else "rows"


def test_every_connection_ends_an_empty_page_with_a_null_end_cursor(app_ro, make_token_ro):
    token = make_token_ro("admin")  # sees every root, the audit log included
    roots = list(_connections())
    assert len(roots) >= 9
    for root, items in roots:
        q = f"query($a: String) {{ {root}(first: 100, after: $a) {{ {items} pageInfo {{ hasNextPage endCursor }} }} }}"
        after, pages = None, 0
        while True:
            page = ask(app_ro, token, q, a=after)[root]
            got = page.get("edges", page.get("rows"))
            pages += 1
            assert pages < 100, root
            if not got:
                assert page["pageInfo"] == {"hasNextPage": False, "endCursor": None}, f"{root}: {page['pageInfo']}"
                break
            assert page["pageInfo"]["endCursor"], root
            after = page["pageInfo"]["endCursor"]  # past the last item, the next page is the empty one


def test_list_items_carry_their_natural_key(app_ro, make_token_ro):
    token = make_token_ro("marketing_analyst")
    q = """{ customers(first: 300) { edges { node { id holdings { holdings { id accountId } }
             household { members { id customerId } } } } } }"""
    nodes = [e["node"] for e in ask(app_ro, token, q)["customers"]["edges"]]
    holdings = [h for n in nodes for f in n["holdings"] for h in f["holdings"]]
    assert holdings and len({h["id"] for h in holdings}) == len(holdings)  # unique across the bank
    members = [m for n in nodes if n["household"] for m in n["household"]["members"]]
    assert members and all(m["id"] == m["customerId"] for m in members)


@pytest.mark.parametrize("kind", ["EcosystemIndividual", "EcosystemEnterprise", "EcosystemHousehold"])
def test_ecosystem_nodes_hold_no_path(kind):
    node = GQL.type_map[kind]
    assert "id" in node.fields and not {"hops", "relations"} & node.fields.keys()
    assert {"hops", "relations", "node"} <= GQL.type_map["EcosystemEdge"].fields.keys()
