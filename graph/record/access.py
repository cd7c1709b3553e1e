"""Who may see and do what: roles, the principal behind a request, and API tokens.

Tokens are random 256-bit secrets shown once at creation and stored only as SHA-256
hashes (a high-entropy secret needs no slow hash), so a leaked database yields no usable
token. A relationship manager's book (名单制管理) is enforced here, in the data layer,
through `Principal.book`, so every read path applies the same rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import ClientStrataError, InvalidInput, NotFound

from .models import ApiToken, Enterprise, Individual, RelationshipManager

__all__ = [
    "Role",
    "Permission",
    "Principal",
    "NotAllowed",
    "OutOfBook",
    "Unauthenticated",
    "ROLE_PERMISSIONS",
    "issue_token",
    "authenticate",
    "revoke_token",
    "list_tokens",
    "require_in_book",
    "in_book",
    "book_subjects",
    "SYSTEM",
    "TOKEN_LIFETIME_DAYS",
    "token_lifetime",
    "expiry",
]

TOKEN_PREFIX = "cst_"
TOKEN_LIFETIME_DAYS = 90  # default; CLIENTSTRATA_TOKEN_LIFETIME_DAYS overrides it


class Role(str, Enum):
    ADMIN = "admin"
    RISK_OFFICER = "risk_officer"
    MARKETING_ANALYST = "marketing_analyst"
    RELATIONSHIP_MANAGER = "relationship_manager"
    SERVICE_AGENT = "service_agent"


class Permission(str, Enum):
    READ_PII = "read_pii"  # unmasked ID, phone, account numbers, address
    ALL_BOOKS = "all_books"  # customers of every RM, not only one's own
    START_RUN = "start_run"
    WHATIF = "whatif"
    PROPOSE_OVERRIDE = "propose_override"
    DECIDE_OVERRIDE = "decide_override"  # approve, reject, revoke
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    RECORD_FEEDBACK = "record_feedback"
    READ_RISK_MEASURES = "read_risk_measures"  # the playbook's credit, AML and suitability measures
    READ_AUDIT = "read_audit"
    REDEEM_POINTS = "redeem_points"  # pay a customer's fee with their points (积分)


P = Permission
# Least privilege, after JR/T 0171-2020: only roles that act on a named customer see C2 data.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({P.ALL_BOOKS, P.START_RUN, P.WHATIF, P.DECIDE_OVERRIDE, P.READ_AUDIT}),
    Role.RISK_OFFICER: frozenset(
        {
            P.READ_PII,
            P.ALL_BOOKS,
            P.WHATIF,
            P.PROPOSE_OVERRIDE,
            P.DECIDE_OVERRIDE,
            P.ACKNOWLEDGE_ALERT,
            P.READ_RISK_MEASURES,
        }
    ),
    Role.MARKETING_ANALYST: frozenset({P.ALL_BOOKS, P.WHATIF, P.PROPOSE_OVERRIDE}),
    Role.RELATIONSHIP_MANAGER: frozenset(
        {P.READ_PII, P.PROPOSE_OVERRIDE, P.ACKNOWLEDGE_ALERT, P.RECORD_FEEDBACK, P.REDEEM_POINTS}
    ),
    Role.SERVICE_AGENT: frozenset({P.ALL_BOOKS, P.RECORD_FEEDBACK, P.REDEEM_POINTS}),
}


class Unauthenticated(ClientStrataError):
    code = "UNAUTHENTICATED"


class NotAllowed(ClientStrataError):
    code = "NOT_ALLOWED"


class OutOfBook(NotFound):
    """Something that exists, but outside the caller's book. It reads exactly as `NotFound` (same
    code, same message, same key): a caller must not learn that it exists, let alone whose it
    is. The type is for the boundary alone, which audits the refused attempt."""


@dataclass(frozen=True)
class Principal:
    """The caller: a token's role and, for a relationship manager, their own RM id. `actor` is
    the token's name (what the audit log shows); `person` is who holds it, the identity
    maker–checker compares (one person may hold several tokens, under different names)."""

    role: Role
    actor: str
    rm_id: str | None = None
    token_id: int | None = None
    person: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise NotAllowed(f"role {self.role.value} may not {permission.value.replace('_', ' ')}")

    @property
    def book(self) -> str | None:
        """The RM whose customers alone this caller may see; None means every customer."""
        return None if self.can(Permission.ALL_BOOKS) else self.rm_id

    def __repr__(self) -> str:
        return f"Principal(role={self.role.value!r}, actor={self.actor!r}, rm_id={self.rm_id!r})"


def _customer(conn: Connection, customer_id: str, book: str | None) -> bool:
    individuals, enterprises = Individual.__table__, Enterprise.__table__
    people = sa.select(individuals.c.customer_id).where(individuals.c.customer_id == customer_id)
    firms = sa.select(enterprises.c.enterprise_id).where(enterprises.c.enterprise_id == customer_id)
    if book is not None:
        people, firms = people.where(individuals.c.rm_id == book), firms.where(enterprises.c.rm_id == book)
    return conn.execute(people.union_all(firms)).first() is not None


def require_in_book(conn: Connection, customer_id: str, book: str | None, kind: str = "customer", key=None) -> None:
    """Refuse a step on a customer outside the caller's book (`Principal.book`; None: every
    customer) as if there were no such `kind` (default: the customer) with `key`: an RM cannot
    tell another book's object from none (`OutOfBook` reads exactly as `NotFound`)."""
    if book is None or _customer(conn, customer_id, book):
        return
    key = customer_id if key is None else str(key)
    if _customer(conn, customer_id, None):
        raise OutOfBook(kind, key)
    raise NotFound(kind, key)


# Batch jobs and the CLI act as the system: every book, no PII unless a command asks.
SYSTEM = Principal(Role.ADMIN, "system")


def in_book(conn: Connection, ids: Sequence[str], book: str | None) -> set[str]:
    """The subset of `ids` that are customers the caller may see."""
    individuals = Individual.__table__
    q = sa.select(individuals.c.customer_id).where(individuals.c.customer_id.in_(list(ids)))
    if book is not None:
        q = q.where(individuals.c.rm_id == book)
    return set(conn.execute(q).scalars())


def book_subjects(book: str) -> sa.Select:
    """Ids of the customers in an RM's book (individuals and enterprises they manage), for
    `column.in_(…)` in the tables keyed by customer (alerts, the change feed, tags)."""
    individuals, enterprises = Individual.__table__, Enterprise.__table__
    return (
        sa.select(individuals.c.customer_id)
        .where(individuals.c.rm_id == book)
        .union_all(sa.select(enterprises.c.enterprise_id).where(enterprises.c.rm_id == book))
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_lifetime(env: dict[str, str] | None = None) -> dt.timedelta:
    """How long a new token lives unless its issuer says otherwise: CLIENTSTRATA_TOKEN_LIFETIME_DAYS, default 90."""
    raw = (os.environ if env is None else env).get("CLIENTSTRATA_TOKEN_LIFETIME_DAYS") or str(TOKEN_LIFETIME_DAYS)
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise InvalidInput(f"CLIENTSTRATA_TOKEN_LIFETIME_DAYS must be a whole number of days ≥ 1, not {raw!r}")
    return dt.timedelta(days=days)


def expiry(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """`--expires` as a moment: a date (the token works through that day) or a number of days
    from now; None when not given (the default lifetime applies)."""
    if text is None or not text.strip():
        return None
    now = now or utcnow()
    text = text.strip()
    if text.isdigit():
        return now + dt.timedelta(days=int(text))
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time()) + dt.timedelta(days=1)
    except ValueError:
        raise InvalidInput(f"--expires takes a date (YYYY-MM-DD) or a number of days, not {text!r}") from None


def issue_token(
    conn: Connection,
    role: str,
    name: str,
    rm_id: str | None = None,
    created_by: str = "system",
    person: str | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[int, str]:
    """Create a token; returns (token_id, secret). The secret is not stored and cannot be shown
    again. `person` is who holds it (default: the RM for a relationship_manager token, else the
    name); it expires at `expires_at` (default: `token_lifetime()` from now)."""
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}") from None
    if role_ is Role.RELATIONSHIP_MANAGER:
        if not rm_id:
            raise InvalidInput("a relationship_manager token needs --rm-id: the RM whose book it may read")
        found = conn.execute(sa.select(RelationshipManager.rm_id).where(RelationshipManager.rm_id == rm_id)).first()
        if not found:
            raise NotFound("relationship manager", rm_id)
    elif rm_id:
        raise InvalidInput(f"--rm-id applies only to relationship_manager tokens, not {role_.value}")
    if not name.strip():
        raise InvalidInput("a token needs a name saying who or what holds it")
    person = (person or "").strip() or (rm_id if role_ is Role.RELATIONSHIP_MANAGER else name.strip())
    now = utcnow()
    expires_at = expires_at or now + token_lifetime()
    if expires_at <= now:
        raise InvalidInput(f"the token would expire at {expires_at:%Y-%m-%d %H:%M}, which has passed")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(
        sa.insert(ApiToken).values(
            token_hash=_hash(secret),
            role=role_.value,
            rm_id=rm_id,
            name=name.strip(),
            person=person,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    ).inserted_primary_key[0]
    return token_id, secret


def authenticate(conn: Connection, token: str | None) -> Principal:
    if not token:
        raise Unauthenticated("missing bearer token: send `Authorization: Bearer <token>`")
    row = conn.execute(sa.select(ApiToken).where(ApiToken.token_hash == _hash(token))).mappings().first()
    if row is None or row["revoked_at"] is not None:
        raise Unauthenticated("invalid or revoked token")
    if row["expires_at"] is None or row["expires_at"] <= utcnow():
        raise Unauthenticated("the token has expired: ask an administrator for a new one")
    return Principal(Role(row["role"]), row["name"], row["rm_id"], row["token_id"], row["person"])


def revoke_token(conn: Connection, token_id: int) -> None:
    done = conn.execute(
        sa.update(ApiToken)
        .where(ApiToken.token_id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if not done.rowcount:
        raise NotFound("active token", str(token_id))


def list_tokens(conn: Connection) -> list[dict]:
    cols = [
        ApiToken.token_id,
        ApiToken.name,
        ApiToken.person,
        ApiToken.role,
        ApiToken.rm_id,
        ApiToken.created_by,
        ApiToken.created_at,
        ApiToken.expires_at,
        ApiToken.revoked_at,
    ]
    return [dict(r) for r in conn.execute(sa.select(*cols).order_by(ApiToken.token_id)).mappings()]
