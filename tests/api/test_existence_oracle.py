"""No existence oracle: for every id-addressed field of the API, read or mutation, a relationship
manager gets the same answer for another book's object as for none at all (same type, code,
message; nothing of the other book), and the refused attempt is audited.

The fields are found in the schema, not listed by hand: an argument (or input field) named `id`,
`…Id` or `…Run` addresses something. Each must have a probe below or a stated reason why no
book applies, so a new one cannot land without facing the rule."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from graphql import get_named_type, is_input_object_type

from clientstrata.api.schema import schema
from clientstrata.graph.record.models import AuditEntry, Enterprise, HouseholdMember, Individual
from clientstrata.jobs.governance.overrides import propose_override

ERR = "__typename ... on Error { code message } ... on NotFound { kind key }"
OVERRIDE_RESULT = f"{{ {ERR} ... on Override {{ id customerId status }} }}"

# field → (document with `$v`, what `$v` names, whether a refusal is audited)
PROBES: dict[str, tuple[str, str, bool]] = {
    "Query.customers(filter.rmId)": (
        "query($v: String) { customers(filter: {rmId: $v}) { totalCount edges { node { id } } } }",
        "rm",
        False,
    ),
    "Query.customers(filter.branchId)": (
        "query($v: String) { customers(filter: {branchId: $v}) { totalCount edges { node { id } } } }",
        "branch",
        False,
    ),
    "Query.customer(id)": ("query($v: ID!) { customer(id: $v) { id name } }", "customer", True),
    "Query.customerTable(filter.rmId)": (
        "query($v: String) { customerTable(filter: {rmId: $v}) { totalCount rows } }",
        "rm",
        False,
    ),
    "Query.customerTable(filter.branchId)": (
        "query($v: String) { customerTable(filter: {branchId: $v}) { totalCount rows } }",
        "branch",
        False,
    ),
    "Query.actionTable(filter.rmId)": (
        "query($v: String) { actionTable(filter: {rmId: $v}) { totalCount rows } }",
        "rm",
        False,
    ),
    "Query.actionTable(filter.branchId)": (
        "query($v: String) { actionTable(filter: {branchId: $v}) { totalCount rows } }",
        "branch",
        False,
    ),
    "Query.household(id)": ("query($v: ID!) { household(id: $v) { id name memberCount } }", "household", True),
    "Query.enterprise(id)": ("query($v: ID!) { enterprise(id: $v) { id name } }", "enterprise", True),
    "Query.override(id)": ("query($v: Int!) { override(id: $v) { id customerId status } }", "override", True),
    "Query.overrides(filter.customerId)": (
        "query($v: ID) { overrides(filter: {customerId: $v}) { edges { node { id } } } }",
        "customer",
        False,
    ),
    "Query.auditLog(filter.entityId)": (
        "query($v: String) { auditLog(filter: {entityId: $v}) { edges { node { action } } } }",
        "customer",
        False,
    ),
    "Query.alerts(filter.customerId)": (
        "query($v: ID) { alerts(filter: {customerId: $v}) { edges { node { id type } } } }",
        "customer",
        False,
    ),
    "Query.feedback(customerId)": (
        "query($v: ID) { feedback(customerId: $v) { edges { node { id kind } } } }",
        "customer",
        False,
    ),
    "Query.alerts(filter.rmId)": (
        "query($v: String) { alerts(filter: {rmId: $v}) { edges { node { id type } } } }",
        "rm",
        False,
    ),
    "Mutation.proposeOverride(input.customerId)": (
        'mutation($v: ID!) { proposeOverride(input: {customerId: $v, dimension: "wealth_tier", '
        f'value: "private_banking", reason: "mandate"}}) {OVERRIDE_RESULT} }}',
        "customer",
        True,
    ),
    "Mutation.approveOverride(id)": (
        f"mutation($v: Int!) {{ approveOverride(id: $v) {OVERRIDE_RESULT} }}",
        "override",
        False,
    ),
    "Mutation.rejectOverride(id)": (
        f'mutation($v: Int!) {{ rejectOverride(id: $v, note: "no") {OVERRIDE_RESULT} }}',
        "override",
        False,
    ),
    "Mutation.revokeOverride(id)": (
        f'mutation($v: Int!) {{ revokeOverride(id: $v, reason: "no") {OVERRIDE_RESULT} }}',
        "override",
        False,
    ),
    "Mutation.acknowledgeAlert(id)": (
        f"mutation($v: Int!) {{ acknowledgeAlert(id: $v) {{ {ERR} ... on Alert {{ id customerId type }} }} }}",
        "alert",
        True,
    ),
    "Mutation.recordFeedback(input.customerId)": (
        'mutation($v: ID!) { recordFeedback(input: {customerId: $v, kind: "survey", score: 4}) '
        f"{{ {ERR} ... on Feedback {{ id customerId }} }} }}",
        "customer",
        True,
    ),
    "Mutation.recordActionOutcome(input.actionId)": (
        'mutation($v: Int!) { recordActionOutcome(input: {actionId: $v, outcome: "contacted"}) '
        f"{{ {ERR} ... on ActionOutcome {{ id customerId }} }} }}",
        "action",
        True,
    ),
    "Mutation.redeemPoints(input.customerId)": (
        'mutation($v: ID!) { redeemPoints(input: {customerId: $v, feeItem: "transfer", requestId: "probe"}) '
        f"{{ {ERR} ... on PointsRedemption {{ balance }} }} }}",
        "customer",
        True,
    ),
}
# fields whose objects belong to the whole bank, not to a book: there is nothing to hide
NO_BOOK = {
    "Query.segments(run)": "a published run is the bank's; its segments are cut to the caller's book",
    "Query.dimensions(run)": "a published run is the bank's; its standard's dimensions name no customer",
    "Query.run(id)": "classification runs are the bank's",
    "Query.migration(fromRun)": "runs are the bank's; the matrix is cut to the caller's book",
    "Query.migration(toRun)": "runs are the bank's; the matrix is cut to the caller's book",
    "Query.whatIf(id)": "what-ifs are the bank's (and need `whatif`)",
    "Mutation.redeemPoints(input.feeEventId)": "a fee event is looked up among the named customer's own "
    "(the customer is checked first); another's reads as none",
    "Mutation.redeemPoints(input.requestId)": "the caller's own idempotency key, not an object of a book",
    "Query.strategyEffect(runId)": "runs are the bank's; the effect is counted over the caller's book",
    "Mutation.recordActionOutcome(input.productId)": "products are the bank's catalogue",
    "Query.worklist(rmId)": "a relationship manager asking for any list but their own is refused alike, "
    "whether that RM exists or not",
    "Query.households(filter.branchId)": "an RM sees a household with a member in their book whole, "
    "its members' branches included (docs/households.md); the filter finds no household they cannot see",
}


def _addresses(name: str) -> bool:
    return name == "id" or name.endswith(("Id", "Run")) or name == "run"


def id_addressed_fields() -> set[str]:
    """`Root.field(arg)` or `Root.field(arg.inputField)` for every argument that names an object."""
    found = set()
    gql = schema._schema
    for root in (gql.query_type, gql.mutation_type):
        for fname, field in root.fields.items():
            for aname, arg in field.args.items():
                named = get_named_type(arg.type)
                if is_input_object_type(named):
                    found |= {f"{root.name}.{fname}({aname}.{k})" for k in named.fields if _addresses(k)}
                elif _addresses(aname):
                    found.add(f"{root.name}.{fname}({aname})")
    return found


def test_every_id_addressed_field_faces_the_rule():
    fields = id_addressed_fields()
    assert fields == set(PROBES) | set(NO_BOOK), (
        f"probe or justify: {sorted(fields - set(PROBES) - set(NO_BOOK))}; "
        f"gone: {sorted((set(PROBES) | set(NO_BOOK)) - fields)}"
    )


@pytest.fixture
def theirs_and_missing(loaded, rm_book):
    """For each kind of id: (one of another book's, one of nobody's)."""
    engine, _ = loaded
    rm, mine, others = rm_book
    with engine.begin() as conn:
        people = conn.execute(sa.select(Individual.customer_id, Individual.rm_id, Individual.branch_id)).all()
        other_rm = next(p.rm_id for p in people if p.rm_id and p.rm_id != rm)
        members = conn.execute(sa.select(HouseholdMember.household_id, HouseholdMember.customer_id)).all()
        mine_hh = {m.household_id for m in members if m.customer_id in set(mine)}
        my_branches = {p.branch_id for p in people if p.rm_id == rm}
        branch = next(p.branch_id for p in people if p.branch_id and p.branch_id not in my_branches)
        household = next(m.household_id for m in members if m.household_id not in mine_hh)
        enterprise = conn.execute(
            sa.select(Enterprise.enterprise_id).where(sa.or_(Enterprise.rm_id != rm, Enterprise.rm_id.is_(None)))
        ).scalar()
        alert = conn.execute(
            sa.text(
                "SELECT alert_id FROM alerts WHERE customer_id NOT IN (SELECT customer_id FROM individuals WHERE rm_id = :rm) AND status = 'open' ORDER BY alert_id"
            ),
            {"rm": rm},
        ).scalar()
        action = conn.execute(
            sa.text(
                "SELECT nba_id FROM next_best_actions WHERE customer_id NOT IN "
                "(SELECT customer_id FROM individuals WHERE rm_id = :rm) AND NOT control ORDER BY nba_id"
            ),
            {"rm": rm},
        ).scalar()
        override = propose_override(
            conn, "risk", others[0], "wealth_tier", "private_banking", "mandate", person="risk-1"
        ).override_id
    return {
        "customer": (others[0], "C0000000"),
        "rm": (other_rm, "RM-nobody"),
        "branch": (branch, "BR-nowhere"),
        "household": (household, "H-nobody"),
        "enterprise": (enterprise, "E-nobody"),
        "override": (override, 10**6),
        "alert": (alert, 10**6),
        "action": (action, 10**9),
    }


def _normal(body: dict, value) -> str:
    # the id written as <id> wherever it appears; `extensions` (the document's cost) is the same
    # for both asks, and its small numbers would read as ids
    answer = {k: v for k, v in body.items() if k != "extensions"}
    return re.sub(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", "<id>", json.dumps(answer, sort_keys=True))


def test_another_books_object_answers_as_none_and_is_audited(app, loaded, make_token, gql, rm_book, theirs_and_missing):
    engine, _ = loaded
    rm, _, _ = rm_book
    token = make_token("relationship_manager", rm)
    problems = []
    for field, (document, kind, audited) in PROBES.items():
        theirs, missing = theirs_and_missing[kind]
        assert theirs is not None, f"the bank has no {kind} outside {rm}'s book"
        with engine.connect() as conn:
            seen = conn.execute(sa.select(sa.func.max(AuditEntry.audit_id))).scalar() or 0
        got_theirs = gql(app, token, document, v=theirs)
        got_missing = gql(app, token, document, v=missing)
        if _normal(got_theirs, theirs) != _normal(got_missing, missing):
            problems.append(f"{field}: {got_theirs} ≠ {got_missing}")
        with engine.connect() as conn:
            refused = conn.execute(
                sa.select(AuditEntry.entity_type, AuditEntry.entity_id, AuditEntry.actor).where(
                    AuditEntry.audit_id > seen, AuditEntry.action == "access.refused"
                )
            ).all()
        if audited and [r.entity_id for r in refused] != [str(theirs)]:
            problems.append(f"{field}: refusal audited as {refused}, expected one for {theirs}")
        if not audited and refused:
            problems.append(f"{field}: audited {refused} though nothing was refused")
    assert not problems, "\n".join(problems)
