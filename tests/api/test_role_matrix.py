"""Every role × every root field and nested path: what each caller gets back.

The queries below select every field of every type the schema can reach (a test checks that,
so a new field or root is covered the day it lands). Each role asks all of them; the checks:
- a relationship manager's responses name no customer outside their book, on any path (a
  customer id anywhere in the JSON: nodes, household members, ecosystem neighbours,
  enterprise people, table rows), and what lies outside the book reads as absent;
- every other role sees across books;
- ID numbers, phones, addresses and account numbers are clear exactly for the roles with
  `read_pii`, masked for the rest;
- no response carries an error.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import sqlalchemy as sa
from graphql import TypeInfo, TypeInfoVisitor, Visitor, get_named_type, is_object_type, parse, visit

from clientstrata.api.schema import schema
from clientstrata.graph.access import Permission, Role, ROLE_PERMISSIONS
from clientstrata.graph.models import Employment, Enterprise, HouseholdMember, Individual

CUSTOMER_ID = re.compile(r"^C\d{7}$")
PII_FIELDS = {"idNumber", "phone", "address", "accountNumber"}

TAG = "dimension value label labelZh score explanation inputs standardVersion runId computedValue overrideId " \
      "overriddenBy overrideReason"
RM = "id name grade hiredOn branch { id name region city }"
PERSON = "id name gender birthDate branchId rmId idNumber phone address tier cooperationDepth"
CUSTOMER_360 = f"""{PERSON} tags {{ {TAG} }}
  holdings {{ family balance holdings {{ accountId productId productName family riskLevel currency balance status
                                        accountNumber }} }}
  relationshipManager {{ {RM} }}
  ecosystem(hops: 3) {{ label id name hops relations }}
  household {{ id name status aum members {{ role aum customerId customer {{ {PERSON} }} }} }}"""
ENTERPRISE = f"""id name industry size registeredCapital annualRevenue foundedOn branchId rmId tags {{ {TAG} }}
  people {{ customerId name link payroll share customer {{ {PERSON} }} }} peopleCount
  supplyChain {{ enterpriseId name role annualVolume }} relationshipManager {{ {RM} }}"""

# root field -> (query, the variables it is asked with: "mine" lies in the RM's book, "other" does not)
PATHS: dict[str, tuple[str, list[str]]] = {
    "customers": (f"""{{ customers(first: 60) {{ totalCount pageInfo {{ hasNextPage endCursor }}
                         edges {{ cursor node {{ {CUSTOMER_360} }} }} }} }}""", [""]),
    "customer": (f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_360} }} }}", ["mine", "other"]),
    "customerTable": ("""{ customerTable(first: 1000) { columns rows totalCount
                          pageInfo { hasNextPage endCursor } } }""", [""]),
    "household": (f"""query($id: ID!) {{ household(id: $id) {{ id name status aum
                      members {{ role aum customerId customer {{ {CUSTOMER_360} }} }} }} }}""", ["mine", "other"]),
    "enterprise": (f"query($id: ID!) {{ enterprise(id: $id) {{ {ENTERPRISE} }} }}", ["mine", "other"]),
}


def _schema_fields() -> set[tuple[str, str]]:
    """(type, field) for every field of every object type reachable from the roots."""
    gql = schema._schema
    todo = [t for t in (gql.query_type, gql.mutation_type) if t]
    seen_types, fields = set(), set()
    while todo:
        t = todo.pop()
        if t.name in seen_types:
            continue
        seen_types.add(t.name)
        for name, f in t.fields.items():
            fields.add((t.name, name))
            inner = get_named_type(f.type)
            if is_object_type(inner):
                todo.append(inner)
    return fields


def _selected_fields(query: str) -> set[tuple[str, str]]:
    info, out = TypeInfo(schema._schema), set()

    class Collect(Visitor):
        def enter_field(self, node, *_):
            parent = info.get_parent_type()
            if parent is not None and info.get_field_def() is not None:
                out.add((parent.name, node.name.value))

    visit(parse(query), TypeInfoVisitor(info, Collect()))
    return out


def test_the_matrix_reaches_every_root_field_and_every_nested_field():
    covered = set().union(*(_selected_fields(q) for q, _ in PATHS.values()))
    missing = sorted(f"{t}.{f}" for t, f in _schema_fields() - covered)
    assert not missing, f"add these to the role matrix's queries: {', '.join(missing)}"
    assert set(PATHS) == set(schema._schema.query_type.fields)


def _walk(value, key=None) -> Iterator[tuple[str | None, object]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def _targets(engine) -> tuple[str, dict[str, dict[str, str]], set[str]]:
    """The RM with the largest book, and for each id-taking root one id in that book and one not."""
    with engine.connect() as conn:
        people = dict(conn.execute(sa.select(Individual.customer_id, Individual.rm_id)).all())
        members = conn.execute(sa.select(HouseholdMember.household_id, HouseholdMember.customer_id)).all()
        firms = dict(conn.execute(sa.select(Enterprise.enterprise_id, Enterprise.rm_id)).all())
        staff = conn.execute(sa.select(Employment.enterprise_id, Employment.customer_id)).all()
    rms = [r for r in people.values() if r]
    rm = max(set(rms), key=rms.count)
    book = {c for c, r in people.items() if r == rm}
    households: dict[str, set[str]] = {}
    for h, c in members:
        households.setdefault(h, set()).add(c)
    employs: dict[str, set[str]] = {}
    for e, c in staff:
        employs.setdefault(e, set()).add(c)
    # the hard cases: a household and an enterprise of the RM's that also hold other RMs' customers
    mixed_household = next(h for h, ms in sorted(households.items()) if ms & book and ms - book)
    mixed_firm = max((e for e, r in firms.items() if r == rm), key=lambda e: len(employs.get(e, set()) - book))
    mine_customer = next(iter(sorted(households[mixed_household] & book)))
    ids = {
        "customer": {"mine": mine_customer, "other": next(c for c in sorted(people) if c not in book)},
        "household": {"mine": mixed_household,
                      "other": next(h for h, ms in sorted(households.items()) if not ms & book)},
        "enterprise": {"mine": mixed_firm, "other": next(e for e, r in sorted(firms.items()) if r != rm)},
    }
    assert employs.get(mixed_firm, set()) - book, "the test bank needs an RM's enterprise employing others' customers"
    return rm, ids, book


def test_every_role_on_every_path(app, make_token, loaded):
    engine, _ = loaded
    rm, ids, book = _targets(engine)
    with engine.connect() as conn:
        pii = {c: {"idNumber": i, "phone": p, "address": a} for c, i, p, a in conn.execute(
            sa.select(Individual.customer_id, Individual.id_number, Individual.phone, Individual.address))}
    problems: list[str] = []
    cells = 0
    for role in Role:
        token = make_token(role.value, rm if role is Role.RELATIONSHIP_MANAGER else None)
        clear = Permission.READ_PII in ROLE_PERMISSIONS[role]
        confined = Permission.ALL_BOOKS not in ROLE_PERMISSIONS[role]
        for root, (query, variants) in PATHS.items():
            for variant in variants:
                cells += 1
                where = f"{role.value} × {root}" + (f"({variant})" if variant else "")
                variables = {"id": ids[root][variant]} if variant else {}
                r = app.post("/graphql", json={"query": query, "variables": variables},
                             headers={"Authorization": f"Bearer {token}"})
                body = r.json()
                if r.status_code != 200 or body.get("errors"):
                    problems.append(f"{where}: {r.status_code} {body.get('errors')}")
                    continue
                data = body["data"][root]
                if variant == "other" and confined:
                    if data is not None:
                        problems.append(f"{where}: outside the book, yet returned")
                    continue
                if data is None:
                    problems.append(f"{where}: returned nothing")
                    continue
                seen = {v for _, v in _walk(data) if isinstance(v, str) and CUSTOMER_ID.match(v)}
                if not seen:
                    problems.append(f"{where}: no customer on the path, so the check proves nothing")
                if confined and seen - book:
                    problems.append(f"{where}: leaked {sorted(seen - book)[:5]}")
                if not confined and variant == "" and not seen - book:
                    problems.append(f"{where}: sees only one book")
                for key, value in _walk(data):
                    if key in PII_FIELDS and value is not None and clear != ("*" not in value):
                        problems.append(f"{where}: {key} {'masked' if clear else 'clear'}: {value}")
                # masked values still agree with the record where they show it
                for node in (n for n in _dicts(data) if "idNumber" in n and n.get("id") in pii):
                    truth = pii[node["id"]]
                    if node["idNumber"] and node["idNumber"][-4:] != truth["idNumber"][-4:]:
                        problems.append(f"{where}: idNumber of {node['id']} does not end like the record")
    assert cells == len(Role) * sum(len(v) for _, v in PATHS.values())
    assert not problems, f"{len(problems)} of {cells} cells wrong:\n" + "\n".join(problems)


def _dicts(value) -> Iterator[dict]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)
