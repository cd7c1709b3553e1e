import pytest
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.jobs.classification.classify import INDIVIDUAL
from clientstrata.jobs.classification.segments import DIMENSION as CLUSTER


@pytest.fixture(scope="module")
def client(loaded_ro, make_token_ro):
    engine, graph = loaded_ro
    with TestClient(
        create_app(engine, graph), headers={"Authorization": f"Bearer {make_token_ro('marketing_analyst')}"}
    ) as c:
        yield c


def gql(client, query, **variables):
    r = client.post("/graphql", json={"query": query, "variables": variables})
    assert r.status_code in (200, 400), r.text
    return r.json()


def test_pages_cover_every_customer_once(client):
    seen, after = [], None
    while True:
        page = gql(
            client,
            "query($after: String) { customers(first: 70, after: $after) { totalCount "
            "pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
            after=after,
        )
        conn = page["data"]["customers"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert conn["totalCount"] == 300 and len(seen) == 300 == len(set(seen))


def test_filter_by_tier_matches_the_tags(client):
    all_ = gql(client, "{ customers(first: 1000) { edges { node { id tier } } } }")["data"]["customers"]["edges"]
    affluent = gql(
        client, '{ customers(first: 1000, filter: {tier: "affluent"}) { totalCount edges { node { id tier } } } }'
    )
    got = affluent["data"]["customers"]
    assert got["totalCount"] == sum(e["node"]["tier"] == "affluent" for e in all_) > 0
    assert {e["node"]["tier"] for e in got["edges"]} == {"affluent"}


def test_customer_tags_explain_and_pii_is_masked(client):
    data = gql(
        client,
        '{ customer(id: "C0000001") { id idNumber phone tags { dimension value label labelZh '
        "explanation explanationZh inputs standardVersion runId } household { id members { role customer { id } } } } }",
    )
    c = data["data"]["customer"]
    # every individual dimension and the data-driven behaviour cluster, one tag each
    assert {t["dimension"] for t in c["tags"]} == {*INDIVIDUAL, CLUSTER}
    assert len(c["tags"]) == len(INDIVIDUAL) + 1
    tier = next(t for t in c["tags"] if t["dimension"] == "wealth_tier")
    assert "month-average AUM" in tier["explanation"] and "aum" in tier["inputs"] and tier["runId"] == 1
    # the same reason in Chinese, with the same figure: words made on read from the stored inputs
    assert "月日均资产" in tier["explanationZh"] and tier["labelZh"] in tier["explanationZh"]
    figure = tier["explanation"].split("AUM ")[1].split(" ")[0]
    assert figure in tier["explanationZh"]
    assert all(t["explanation"] and t["explanationZh"] and t["explanation"] != t["explanationZh"] for t in c["tags"])
    assert c["idNumber"][:3].isdigit() and "*" * 11 in c["idNumber"]
    assert c["phone"][3:7] == "****"
    assert "C0000001" in {m["customer"]["id"] for m in c["household"]["members"]}


def test_unknown_ids_are_null_and_bad_arguments_are_clear(client):
    assert gql(client, '{ customer(id: "nope") { id } household(id: "nope") { id } }')["data"] == {
        "customer": None,
        "household": None,
    }
    err = gql(client, "{ customers(first: 100000) { totalCount } }")["errors"][0]["message"]
    assert err == "`first` must be between 1 and 1000"
    err = gql(client, '{ customers(after: "garbage!") { totalCount } }')["errors"][0]["message"]
    assert "not a cursor" in err and "Traceback" not in err


def test_depth_and_alias_limits(client):
    deep = (
        '{ customer(id: "C0000001") { household { members { customer { household { members { customer '
        "{ household { members { customer { household { members { customer { id } } } } } } } } } } } } } }"
    )
    assert "exceeds maximum operation depth" in gql(client, deep)["errors"][0]["message"]
    aliases = "{ " + " ".join(f'a{i}: customer(id: "C0000001") {{ id }}' for i in range(30)) + " }"
    assert "aliases" in gql(client, aliases)["errors"][0]["message"].lower()


def test_a_repeated_document_is_validated_once(client):
    """The limits are validation rules; they must not defeat the validation cache. (The cache's
    LRU is strawberry's own, shared per size.)"""
    from strawberry.extensions.validation_cache import _get_validate_cache

    q = '{ customer(id: "C0000001") { id name } }'
    gql(client, q)
    before = _get_validate_cache(256).cache_info()
    for _ in range(3):
        assert "errors" not in gql(client, q)
    after = _get_validate_cache(256).cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)
    # and a document refused by a limit is refused again from the cache
    deep = (
        '{ customer(id: "C0000001") { household { members { customer { household { members { customer '
        "{ household { members { customer { household { members { customer { id } } } } } } } } } } } } } }"
    )
    for _ in range(2):
        assert "exceeds maximum operation depth" in gql(client, deep)["errors"][0]["message"]


def test_graphiql_is_served_to_browsers(client):
    r = client.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()
