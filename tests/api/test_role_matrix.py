"""Every role × every root field and nested path: what each caller gets back.

The queries below select every field of every type the schema can reach (a test checks that,
so a new field or root is covered the day it lands). Each role asks all of them; the checks:
- a relationship manager's responses name no customer outside their book, on any path (a
  customer id anywhere in the JSON: nodes, household members, ecosystem neighbours,
  enterprise people, table rows, the tables' Arrow pages decoded), and what lies outside the book
  reads as absent; an Arrow page holds exactly its table's rows;
- every other role sees across books;
- ID numbers, phones, addresses and account numbers are clear exactly for the roles with
  `read_pii`, masked for the rest;
- no response carries an error.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pyarrow as pa
import sqlalchemy as sa
from graphql import TypeInfo, TypeInfoVisitor, Visitor, get_named_type, is_object_type, parse, visit

from clientstrata.api.schema import schema
from clientstrata.api.tables import json_rows
from clientstrata.graph.record.access import ROLE_PERMISSIONS, Permission, Role
from clientstrata.graph.record.models import Employment, Enterprise, HouseholdMember, Individual
from clientstrata.jobs.governance.overrides import approve_override, propose_override
from clientstrata.jobs.governance.standards import standard_text
from clientstrata.jobs.runs.whatif_requests import queue_whatif, run_queued_whatif
from clientstrata.jobs.tracking.feedback import record_feedback

CUSTOMER_ID = re.compile(r"^C\d{7}$")
PII_FIELDS = {"idNumber", "phone", "address", "accountNumber", "email"}
WITHHELD_FIELDS = {"annualIncome", "creditScore", "isPep"}  # no partial form: null unless read_pii

TAG = (
    "dimension value label labelEn labelZh score explanation explanationZh inputs standardVersion runId computedValue overrideId "
    "overriddenBy overrideReason"
)
RM = "id name grade hiredOn branch { id name region city }"
ALERT = "id runId customerId rmId type severity reason details status createdAt acknowledgedBy acknowledgedAt"
RUN = "id status kind requestedBy standardVersion standardSha256 startedAt publishedAt customerCount error"
PAGE = "pageInfo { hasNextPage endCursor }"
PERSON = (
    "id name gender birthDate age branchId rmId idNumber phone address email occupation onboardedOn annualIncome "
    "creditScore isPep tier cooperationDepth aum aumMonthAverage currentBalance"
)
HOUSEHOLD = "id name status aum tier memberCount updatedAt"
CARE = "visitsPerQuarter holidayGreetings birthdayCare"
PLAY = "name label labelEn labelZh selectors"
PRICE = "feeItem basePrice discountPct price why whyZh"
PACKAGE = (
    f"name label labelEn labelZh entitlements {{ name label labelEn labelZh }} care {{ {CARE} }} channels advisor team services "
    "servicesZh discounts selectors"
)
RISK_MEASURE = (
    "name kind label labelEn labelZh creditLimitChangePct rateChangeBp reviewMonths enhancedDueDiligence productCeiling"
)
POSTING = "id source kind rule points basisAmount multiplier package occurredAt expiresOn postedAt"
CUSTOMER_360 = f"""{PERSON} tags {{ {TAG} }} asOf: tags(asOf: "2100-01-01") {{ dimension value }}
  tagHistory(dimension: "wealth_tier") {{ runId publishedAt standardVersion value label labelEn labelZh score explanation explanationZh }}
  holdings {{ family balance holdings {{ id accountId productId productName family riskLevel currency balance status
                                        accountNumber }} }}
  relationshipManager {{ {RM} }}
  ecosystem(hops: 3) {{ hops relations node {{ __typename id kind name degree }} }}
  household {{ {HOUSEHOLD} members {{ id role aum customerId customer {{ {PERSON} }} }} }}
  alerts {{ {ALERT} customer {{ {PERSON} }} }}
  feedback {{ id customerId kind score text recordedBy recordedAt }}
  strategy {{ package {{ {PACKAGE} selector explanation explanationZh }} marketingPlays {{ {PLAY} }} care {{ {CARE} }}
              price(feeItem: "sms_alerts") {{ {PRICE} }} prices {{ {PRICE} }}
              points {{ balance postings(first: 5) {{ {POSTING} }} }}
              nextBestActions(first: 3) {{ rank actionKey productRisk priority dueOn reasons {{ en zh }} }} }}

  nextBestActions(first: 3) {{ rank action actionKey product productRisk channel trigger propensity value priority
                               dueOn reasons {{ en zh }} }}
"""
OVERRIDE_FIELDS = (
    "id customerId dimension value label labelZh labelEn reason status proposedBy proposerPerson proposedAt decidedBy "
    "decidedAt decisionNote expiresOn revokedBy revokedAt"
)
WHATIF_FIELDS = """id status requestedBy requestedAt startedAt finishedAt standardVersion standardSha256 sample error
  report { standardVersion standardSha256 baseRunId published moved dimensions { dimension customers moved
           fromTo { fromValue toValue customers } sample { customerId fromValue toValue } } }"""
ENTERPRISE = f"""id name industry size registeredCapital annualRevenue foundedOn branchId rmId tags {{ {TAG} }}
  people {{ customerId name link payroll share customer {{ {PERSON} }} }} peopleCount
  supplyChain {{ enterpriseId name role annualVolume }} relationshipManager {{ {RM} }}"""

# root field -> (query, the variables it is asked with: "mine" lies in the RM's book, "other" does not)
PATHS: dict[str, tuple[str, list[str]]] = {
    "customers": (
        f"""{{ customers(first: 60) {{ totalCount {PAGE}
                         edges {{ cursor node {{ {CUSTOMER_360} }} }} }} }}""",
        [""],
    ),
    "customer": (f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_360} }} }}", ["mine", "other"]),
    "customerTable": (
        f"{{ customerTable(first: 1000) {{ columns rows columnValues arrow totalCount {PAGE} }} }}",
        [""],
    ),
    "packageTable": (f"{{ packageTable(first: 1000) {{ columns rows arrow totalCount {PAGE} }} }}", [""]),
    "actionTable": (f"{{ actionTable(first: 1000) {{ columns rows arrow totalCount {PAGE} }} }}", [""]),
    "households": (
        f"""{{ households(first: 200) {{ totalCount {PAGE} edges {{ cursor node {{ {HOUSEHOLD}
                       members {{ id role aum customerId customer {{ {PERSON} }} }} }} }} }} }}""",
        [""],
    ),
    "household": (
        f"""query($id: ID!) {{ household(id: $id) {{ {HOUSEHOLD}
                      members {{ id role aum customerId customer {{ {CUSTOMER_360} }} }} }} }}""",
        ["mine", "other"],
    ),
    "enterprise": (f"query($id: ID!) {{ enterprise(id: $id) {{ {ENTERPRISE} }} }}", ["mine", "other"]),
    "alerts": (
        f"{{ alerts(first: 500) {{ {PAGE} edges {{ cursor node {{ {ALERT} customer {{ {PERSON} }} }} }} }} }}",
        [""],
    ),
    "override": (f"query($id: Int!) {{ override(id: $id) {{ {OVERRIDE_FIELDS} }} }}", ["mine", "other"]),
    "overrides": (f"{{ overrides(first: 1000) {{ {PAGE} edges {{ cursor node {{ {OVERRIDE_FIELDS} }} }} }} }}", [""]),
    "worklist": (
        "{ worklist(first: 1000) { kind itemId customerId title channel priority dueOn why whyZh lastOutcome } }",
        [""],
    ),
    "classificationChanges": (
        f"""{{ classificationChanges(first: 9999) {{ {PAGE} edges {{ cursor node {{
                                   seq at source runId overrideId customerId dimension oldValue newValue
                                   explanation explanationZh }} }} }} }}""",
        [""],
    ),
    "feedback": (
        f"""{{ feedback(first: 1000) {{ {PAGE} edges {{ cursor node {{
                      id customerId kind score text recordedBy recordedAt }} }} }} }}""",
        [""],
    ),
    "classificationChangeTable": (
        f"{{ classificationChangeTable(first: 20000) {{ columns rows arrow totalCount {PAGE} }} }}",
        [""],
    ),
}
# roots that answer with counts rather than customers: a relationship manager's add up to their book
AGGREGATES: dict[str, tuple[str, object]] = {
    "segments": (
        """{ segments(dimension: "wealth_tier") { value label labelEn labelZh customers share meanScore
                      aumTotal aumAvg description descriptionZh } }""",
        lambda data: sum(s["customers"] for s in data),
    ),
    "migration": (
        """{ migration(fromRun: 1, toRun: 1, dimension: "wealth_tier") { fromRun toRun dimension
                       customers moved cells { fromValue toValue customers } } }""",
        lambda data: sum(c["customers"] for c in data["cells"]),
    ),
}
# roots about the system rather than customers, and the permission they need (None: any role)
SYSTEM_ROOTS: dict[str, tuple[str, Permission | None]] = {
    "runs": (f"{{ runs(first: 20) {{ {PAGE} edges {{ cursor node {{ {RUN} }} }} }} }}", None),
    "run": (f"{{ run(id: 1) {{ {RUN} }} }}", None),
    # the report names movers from every book: only roles that may ask for a what-if read one
    "whatIf": (f"{{ whatIf(id: 1) {{ {WHATIF_FIELDS} }} }}", Permission.WHATIF),
    "playbook": (
        f"""{{ playbook {{ version packages {{ {PACKAGE} selector explanation explanationZh }}
                      marketingPlays {{ {PLAY} }} feeSchedule {{ name label labelEn labelZh basePrice unit }}
                      contributionDiscounts }} }}""",
        None,
    ),
    "dimensions": (
        "{ dimensions { name subject ordered multiLabel separator values { value label labelEn labelZh rank } } }",
        None,
    ),
    "segmentStrategy": (
        f"""{{ segmentStrategy(dimension: "wealth_tier", value: "mass") {{ dimension value
                             packages {{ package customers }} marketingPlays {{ {PLAY} }} }} }}""",
        None,
    ),
    # counts per action and segment; a relationship manager's are of their book
    "strategyEffect": (
        """{ strategyEffect { actionKey segment offered contacted accepted converted control controlConverted
                           conversionRate controlRate uplift upliftLow upliftHigh aumChange controlAumChange
                           aumUplift aumUpliftLow aumUpliftHigh } }""",
        None,
    ),
    "auditLog": (
        f"""{{ auditLog(first: 100) {{ {PAGE} edges {{ cursor node {{
                      id at actor action entityType entityId details }} }} }} }}""",
        Permission.READ_AUDIT,
    ),
}

ERR = "... on Error { code message } ... on NotFound { kind key }"
OVERRIDE = f"... on Override {{ {OVERRIDE_FIELDS} }}"
# mutation -> (document, permission); ids that do not exist, so a role that may act gets NotFound
MUTATIONS: dict[str, tuple[str, Permission]] = {
    "startRun": (
        f"mutation {{ startRun {{ __typename ... on ClassificationRun {{ {RUN} }} ... on Error {{ code }} }} }}",
        Permission.START_RUN,
    ),
    "whatIf": (
        f"""mutation {{ whatIf(standard: "version: [") {{ __typename ... on Error {{ code message }}
                   ... on InvalidStandard {{ line key }} ... on WhatIf {{ {WHATIF_FIELDS} }} }} }}""",
        Permission.WHATIF,
    ),
    "proposeOverride": (
        """mutation($id: ID!) { proposeOverride(input: {customerId: $id, dimension: "wealth_tier",
                           value: "wealth", reason: "role matrix"}) { __typename %s %s } }"""
        % (OVERRIDE, ERR),
        Permission.PROPOSE_OVERRIDE,
    ),
    "approveOverride": (
        f"mutation {{ approveOverride(id: 987654) {{ __typename {OVERRIDE} {ERR} }} }}",
        Permission.DECIDE_OVERRIDE,
    ),
    "rejectOverride": (
        f'mutation {{ rejectOverride(id: 987654, note: "no") {{ __typename {OVERRIDE} {ERR} }} }}',
        Permission.DECIDE_OVERRIDE,
    ),
    "revokeOverride": (
        f'mutation {{ revokeOverride(id: 987654, reason: "no") {{ __typename {OVERRIDE} {ERR} }} }}',
        Permission.DECIDE_OVERRIDE,
    ),
    "acknowledgeAlert": (
        f"mutation {{ acknowledgeAlert(id: 987654) {{ __typename ... on Alert {{ {ALERT} }} {ERR} }} }}",
        Permission.ACKNOWLEDGE_ALERT,
    ),
    "recordFeedback": (
        """mutation($id: ID!) { recordFeedback(input: {customerId: $id, kind: "compliment",
                          text: "role matrix"}) { __typename ... on Feedback { id customerId kind score text
                          recordedBy recordedAt } %s } }"""
        % ERR,
        Permission.RECORD_FEEDBACK,
    ),
    "recordActionOutcome": (
        """mutation { recordActionOutcome(input: {actionId: 987654, outcome: "contacted"}) { __typename
                          ... on ActionOutcome { id actionId customerId outcome productId amount note recordedBy
                          recordedAt } %s } }"""
        % ERR,
        Permission.RECORD_FEEDBACK,
    ),
    "redeemPoints": (
        """mutation($id: ID!) { redeemPoints(input: {customerId: $id, feeItem: "sms_alerts",
                          requestId: "role matrix"}) { __typename ... on PointsRedemption { balance replayed
                          posting { %s } } %s } }"""
        % (POSTING, ERR),
        Permission.REDEEM_POINTS,
    ),
}


# fields (not roots) that need a permission: (document, path to the field, permission)
GUARDED_FIELDS: dict[str, tuple[str, tuple[str, ...], Permission]] = {
    "CustomerStrategy.riskMeasures": (
        f"query($id: ID!) {{ customer(id: $id) {{ strategy {{ riskMeasures {{ {RISK_MEASURE} }} }} }} }}",
        ("customer", "strategy", "riskMeasures"),
        Permission.READ_RISK_MEASURES,
    ),
    "Playbook.riskMeasures": (
        f"{{ playbook {{ riskMeasures {{ {RISK_MEASURE} }} }} }}",
        ("playbook", "riskMeasures"),
        Permission.READ_RISK_MEASURES,
    ),
    "SegmentStrategy.riskMeasures": (
        f"""{{ segmentStrategy(dimension: "aml_risk", value: "low") {{ riskMeasures {{ {RISK_MEASURE} }} }} }}""",
        ("segmentStrategy", "riskMeasures"),
        Permission.READ_RISK_MEASURES,
    ),
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


def _documents() -> list[str]:
    return (
        [q for q, _ in PATHS.values()]
        + [q for q, _ in AGGREGATES.values()]
        + [q for q, _ in SYSTEM_ROOTS.values()]
        + [q for q, _ in MUTATIONS.values()]
        + [q for q, _, _ in GUARDED_FIELDS.values()]
    )


def test_the_matrix_reaches_every_root_field_and_every_nested_field():
    covered = set().union(*(_selected_fields(q) for q in _documents()))
    missing = sorted(f"{t}.{f}" for t, f in _schema_fields() - covered)
    assert not missing, f"add these to the role matrix's queries: {', '.join(missing)}"
    assert set(PATHS) | set(AGGREGATES) | set(SYSTEM_ROOTS) == set(schema._schema.query_type.fields)
    assert set(MUTATIONS) == set(schema._schema.mutation_type.fields)


def _walk(value, key=None) -> Iterator[tuple[str | None, object]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def _arrow_pages(data, where: str, problems: list[str]) -> None:
    """A table's `arrow` page decoded in place into rows: it must hold exactly the page's `rows`
    (the same columns, the same cells), so the walk's book and PII checks read what it carries."""
    for node in _dicts(data):
        if "arrow" not in node:
            continue
        with pa.ipc.open_stream(base64.b64decode(node["arrow"])) as reader:
            table = reader.read_all()
        decoded = json_rows(table)
        if table.column_names != node["columns"] or decoded != node["rows"]:
            problems.append(f"{where}: the arrow page is not the page's rows")
        node["arrow"] = decoded


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
        "household": {
            "mine": mixed_household,
            "other": next(h for h, ms in sorted(households.items()) if not ms & book),
        },
        "enterprise": {"mine": mixed_firm, "other": next(e for e, r in sorted(firms.items()) if r != rm)},
    }
    assert employs.get(mixed_firm, set()) - book, "the test bank needs an RM's enterprise employing others' customers"
    return rm, ids, book


def _governance_records(engine, graph, ids: dict, book: set[str]) -> None:
    """What the governance roots read: an override on a customer in the RM's book and one
    outside it (each root's "mine" and "other"), what-if #1, done, and feedback on both customers."""
    assert ids["customer"]["mine"] in book and ids["customer"]["other"] not in book
    with engine.begin() as conn:
        mine = propose_override(conn, "maker", ids["customer"]["mine"], "wealth_tier", "wealth", "role matrix")
        other = propose_override(conn, "maker", ids["customer"]["other"], "wealth_tier", "wealth", "role matrix")
        approve_override(conn, "checker", other.override_id)
        whatif_id = queue_whatif(conn, "analyst", standard_text(None), sample=5)
        for who in ("mine", "other"):  # what `feedback` reads: one in the RM's book, one outside it
            record_feedback(conn, "agent", ids["customer"][who], "compliment", text="role matrix")
    assert whatif_id == 1 and run_queued_whatif(engine, graph, whatif_id)["status"] == "done"
    ids["override"] = {"mine": mine.override_id, "other": other.override_id}


def _ask(app, token, query, variables=None) -> tuple[int, dict]:
    r = app.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"}
    )
    return r.status_code, r.json()


def test_every_role_on_every_path(app, make_token, loaded):
    engine, graph = loaded
    rm, ids, book = _targets(engine)
    _governance_records(engine, graph, ids, book)
    with engine.connect() as conn:
        pii = {
            c: {"idNumber": i, "phone": p, "address": a}
            for c, i, p, a in conn.execute(
                sa.select(Individual.customer_id, Individual.id_number, Individual.phone, Individual.address)
            )
        }
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
                status, body = _ask(app, token, query, {"id": ids[root][variant]} if variant else {})
                if status != 200 or body.get("errors"):
                    problems.append(f"{where}: {status} {body.get('errors')}")
                    continue
                data = body["data"][root]
                _arrow_pages(data, where, problems)
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
                    if key in WITHHELD_FIELDS and value is not None and not clear:
                        problems.append(f"{where}: {key} shown without read_pii: {value}")
                # masked values still agree with the record where they show it
                for node in (n for n in _dicts(data) if "idNumber" in n and n.get("id") in pii):
                    truth = pii[node["id"]]
                    if node["idNumber"] and node["idNumber"][-4:] != truth["idNumber"][-4:]:
                        problems.append(f"{where}: idNumber of {node['id']} does not end like the record")
        for root, (query, total) in AGGREGATES.items():
            cells += 1
            status, body = _ask(app, token, query)
            if status != 200 or body.get("errors"):
                problems.append(f"{role.value} × {root}: {status} {body.get('errors')}")
                continue
            want = len(book) if confined else len(pii)
            if total(body["data"][root]) != want:
                problems.append(f"{role.value} × {root}: counts {total(body['data'][root])} customers, not {want}")
        for root, (query, permission) in SYSTEM_ROOTS.items():
            cells += 1
            status, body = _ask(app, token, query)
            allowed = permission is None or permission in ROLE_PERMISSIONS[role]
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            if allowed and (codes or not body["data"][root]):
                problems.append(f"{role.value} × {root}: refused or empty: {body}")
            if not allowed and (codes != ["NOT_ALLOWED"] or (body.get("data") or {}).get(root)):
                problems.append(f"{role.value} × {root}: should be NOT_ALLOWED, got {body}")
    assert cells == len(Role) * (sum(len(v) for _, v in PATHS.values()) + len(AGGREGATES) + len(SYSTEM_ROOTS))
    assert not problems, f"{len(problems)} of {cells} cells wrong:\n" + "\n".join(problems)


def test_every_role_on_every_guarded_field(app_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    rm, ids, _ = _targets(engine)
    problems = []
    for role in Role:
        token = make_token_ro(role.value, rm if role is Role.RELATIONSHIP_MANAGER else None)
        for name, (query, path, permission) in GUARDED_FIELDS.items():
            status, body = _ask(app_ro, token, query, {"id": ids["customer"]["mine"]} if "$id" in query else {})
            value = body.get("data")
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
            if permission in ROLE_PERMISSIONS[role]:
                if status != 200 or codes or not value:
                    problems.append(f"{role.value} × {name}: refused or empty: {body}")
            elif codes != {"NOT_ALLOWED"} or value is not None:
                problems.append(f"{role.value} × {name}: should be NOT_ALLOWED and null, got {body}")
    assert not problems, "\n".join(problems)


def test_every_role_on_every_mutation(app, make_token, loaded):
    """A role without the permission gets the typed NotAllowed and changes nothing; a role with it
    gets past the check (the ids do not exist, so NotFound, or the write itself). A relationship
    manager acting on a customer outside the book gets NotFound, as for no customer at all
    (`test_existence_oracle.py`)."""
    engine, _ = loaded
    rm, ids, book = _targets(engine)
    problems: list[str] = []
    cells = 0
    for role in Role:
        token = make_token(role.value, rm if role is Role.RELATIONSHIP_MANAGER else None)
        confined = Permission.ALL_BOOKS not in ROLE_PERMISSIONS[role]
        for name, (doc, permission) in MUTATIONS.items():
            for variant in ["mine", "other"] if "$id" in doc else [""]:
                cells += 1
                where = f"{role.value} × {name}" + (f"({variant})" if variant else "")
                status, body = _ask(app, token, doc, {"id": ids["customer"][variant]} if variant else None)
                if status != 200 or body.get("errors"):
                    problems.append(f"{where}: {status} {body.get('errors')}")
                    continue
                got = body["data"][name]["__typename"]
                refused = permission not in ROLE_PERMISSIONS[role]
                hidden = not refused and confined and variant == "other"
                if refused != (got == "NotAllowed") or (hidden and got != "NotFound"):
                    problems.append(f"{where}: {'should be refused' if refused else 'refused'}: {body['data'][name]}")
    assert cells == len(Role) * sum(2 if "$id" in d else 1 for d, _ in MUTATIONS.values())
    assert not problems, f"{len(problems)} of {cells} cells wrong:\n" + "\n".join(problems)


def _dicts(value) -> Iterator[dict]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)
