"""The relational record: SQLAlchemy 2.0 typed models.

Table and column names match the ingestion bundle (`clientstrata.jobs.ingest.bundle`) one to one,
so a bank maps its extracts onto one vocabulary. Money is NUMERIC(18, 2) read as float:
classification works on aggregates where cent-level float error is immaterial, and
Decimal objects would cost 10x on a million-row feature build.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "LARGE_CREDIT",
    "LARGE_CREDIT_WHERE",
    "Base",
    "Ingested",
    "Branch",
    "RelationshipManager",
    "Product",
    "Individual",
    "Enterprise",
    "Household",
    "HouseholdMember",
    "Employment",
    "EnterpriseControl",
    "SupplyChainLink",
    "Account",
    "AccountHolder",
    "MonthlyBalance",
    "Loan",
    "Card",
    "StandingOrder",
    "Transaction",
    "RiskQuestionnaire",
    "Purchase",
    "CardSpend",
    "FeeEvent",
    "PointsAccount",
    "PointsPosting",
    "IngestRun",
    "QuarantinedRow",
    "ClassificationRun",
    "Tag",
    "TagSpan",
    "TagDigest",
    "CustomerPackage",
    "StandardVersion",
    "StandardAdoption",
    "Override",
    "AuditEntry",
    "Notification",
    "Alert",
    "Feedback",
    "ClassificationChange",
    "ApiToken",
    "RollupClock",
    "CustomerRollup",
    "HouseholdRollup",
    "WhatIfRequest",
    "NextBestAction",
    "ActionOutcome",
]

Money = Numeric(18, 2, asdecimal=False)
# The credits `ix_transactions_large_credits` holds; a points query whose floor is at least this
# states the same terms, so every database sees that the index answers it.
LARGE_CREDIT = 50_000
LARGE_CREDIT_WHERE = f"direction = 'credit' AND amount >= {LARGE_CREDIT}"
# what the transaction features read from their covering index, in its order
_TRANSACTION_COVER = (
    "account_id",
    "booked_at",
    "direction",
    "amount",
    "currency",
    "is_cash",
    "counterparty_country",
    "channel",
)


class Base(DeclarativeBase):
    pass


def _fk(target: str, **kw) -> ForeignKey:
    return ForeignKey(target, ondelete="RESTRICT", **kw)


class Ingested:
    """A bundle table's rows name the ingest that last inserted or changed them (an ingest that
    finds a row unchanged leaves it alone). Not indexed, so bulk loads stay fast, except on the
    tables points are earned on (purchases, card_spend, transactions): a run reads only the rows
    of the ingests its points job has not scanned yet (`PointsScan`)."""

    ingest_id: Mapped[int | None] = mapped_column(Integer)


class Branch(Ingested, Base):
    __tablename__ = "branches"
    branch_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))


class RelationshipManager(Ingested, Base):
    __tablename__ = "relationship_managers"
    rm_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[str] = mapped_column(_fk("branches.branch_id"), index=True)
    grade: Mapped[str | None] = mapped_column(String(20))
    hired_on: Mapped[dt.date | None] = mapped_column(Date)


class Product(Ingested, Base):
    __tablename__ = "products"
    product_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(30), index=True)
    risk_level: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str | None] = mapped_column(String(3))
    term_months: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[float | None] = mapped_column(Float)


class Individual(Ingested, Base):
    __tablename__ = "individuals"
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    occupation: Mapped[str | None] = mapped_column(String(100))
    annual_income: Mapped[float | None] = mapped_column(Money)
    credit_score: Mapped[int | None] = mapped_column(Integer)
    is_pep: Mapped[bool | None] = mapped_column(Boolean)
    onboarded_on: Mapped[dt.date | None] = mapped_column(Date)
    branch_id: Mapped[str | None] = mapped_column(_fk("branches.branch_id"), index=True)
    rm_id: Mapped[str | None] = mapped_column(_fk("relationship_managers.rm_id"), index=True)


class Enterprise(Ingested, Base):
    __tablename__ = "enterprises"
    enterprise_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    industry: Mapped[str | None] = mapped_column(String(1))
    size: Mapped[str | None] = mapped_column(String(10))
    registered_capital: Mapped[float | None] = mapped_column(Money)
    annual_revenue: Mapped[float | None] = mapped_column(Money)
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    branch_id: Mapped[str | None] = mapped_column(_fk("branches.branch_id"), index=True)
    rm_id: Mapped[str | None] = mapped_column(_fk("relationship_managers.rm_id"), index=True)


class Household(Ingested, Base):
    __tablename__ = "households"
    household_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="confirmed")
    created_on: Mapped[dt.date | None] = mapped_column(Date)


class HouseholdMember(Ingested, Base):
    __tablename__ = "household_members"
    household_id: Mapped[str] = mapped_column(_fk("households.household_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), primary_key=True, unique=True)
    role: Mapped[str] = mapped_column(String(10))


class Employment(Ingested, Base):
    __tablename__ = "employment"
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(_fk("enterprises.enterprise_id"), primary_key=True, index=True)
    payroll: Mapped[bool] = mapped_column(Boolean)
    monthly_salary: Mapped[float | None] = mapped_column(Money)
    since: Mapped[dt.date | None] = mapped_column(Date)


class EnterpriseControl(Ingested, Base):
    __tablename__ = "enterprise_control"
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(_fk("enterprises.enterprise_id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(12), primary_key=True)
    share: Mapped[float | None] = mapped_column(Float)


class SupplyChainLink(Ingested, Base):
    __tablename__ = "supply_chain"
    supplier_id: Mapped[str] = mapped_column(_fk("enterprises.enterprise_id"), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(_fk("enterprises.enterprise_id"), primary_key=True, index=True)
    annual_volume: Mapped[float | None] = mapped_column(Money)


class Account(Ingested, Base):
    __tablename__ = "accounts"
    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_number: Mapped[str | None] = mapped_column(String(34))
    owner_type: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[str] = mapped_column(String(40), index=True)  # individual or enterprise
    product_id: Mapped[str] = mapped_column(_fk("products.product_id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    balance: Mapped[float | None] = mapped_column(Money)


class AccountHolder(Ingested, Base):
    __tablename__ = "account_holders"
    account_id: Mapped[str] = mapped_column(_fk("accounts.account_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))


class MonthlyBalance(Ingested, Base):
    __tablename__ = "balances_monthly"
    account_id: Mapped[str] = mapped_column(_fk("accounts.account_id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True, index=True)  # YYYY-MM
    avg_daily_balance: Mapped[float] = mapped_column(Money)


class Loan(Ingested, Base):
    __tablename__ = "loans"
    loan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(_fk("accounts.account_id"), index=True)
    product_id: Mapped[str | None] = mapped_column(_fk("products.product_id"))
    principal: Mapped[float] = mapped_column(Money)
    outstanding: Mapped[float | None] = mapped_column(Money)
    term_months: Mapped[int | None] = mapped_column(Integer)
    monthly_payment: Mapped[float | None] = mapped_column(Money)
    granted_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(1))  # A–D as in PKDD'99
    days_past_due: Mapped[int | None] = mapped_column(Integer)


class Card(Ingested, Base):
    __tablename__ = "cards"
    card_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(_fk("accounts.account_id"), index=True)
    holder_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), index=True)
    product_id: Mapped[str | None] = mapped_column(_fk("products.product_id"))
    card_type: Mapped[str] = mapped_column(String(20))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    credit_limit: Mapped[float | None] = mapped_column(Money)


class StandingOrder(Ingested, Base):
    __tablename__ = "standing_orders"
    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(_fk("accounts.account_id"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))
    amount: Mapped[float] = mapped_column(Money)
    counterparty_bank: Mapped[str | None] = mapped_column(String(20))
    counterparty_account: Mapped[str | None] = mapped_column(String(34))


class Transaction(Ingested, Base):
    __tablename__ = "transactions"
    txn_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(_fk("accounts.account_id"))
    booked_at: Mapped[dt.datetime] = mapped_column(DateTime)
    direction: Mapped[str] = mapped_column(String(6))
    amount: Mapped[float] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    channel: Mapped[str] = mapped_column(String(10))
    is_cash: Mapped[bool] = mapped_column(Boolean, default=False)
    counterparty_country: Mapped[str] = mapped_column(String(2), default="CN")
    counterparty_name: Mapped[str | None] = mapped_column(String(200))

    # Covering: the per-customer features (jobs/classification/features/transactions.py) read every column they need from
    # the index, not the table — row lookups were most of their cost on SQLite. Its leading
    # columns are the old (account_id, booked_at) index's, which it replaces.
    __table_args__ = (
        Index("ix_transactions_account_booked_cover", *_TRANSACTION_COVER),
        Index("ix_transactions_ingest_id", "ingest_id"),  # the points job reads an ingest's new rows
        # Partial: a bank's first points run looks for the few large credits (the default
        # playbook's deposit rule: CNY 50,000 or more, about one credit in 40,000) among every
        # transaction of every deposit account; no other index holds the amount in front. Only
        # those rows enter it, so an ingest's cost barely moves. Its columns are the covering
        # index's, so an account's credits are read, and posted, in the order they were before.
        Index(
            "ix_transactions_large_credits",
            *_TRANSACTION_COVER,
            sqlite_where=text(LARGE_CREDIT_WHERE),
            postgresql_where=text(LARGE_CREDIT_WHERE),
        ),
    )


class RiskQuestionnaire(Ingested, Base):
    __tablename__ = "risk_questionnaires"
    questionnaire_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), index=True)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[int | None] = mapped_column(Integer)
    risk_level: Mapped[str] = mapped_column(String(2))  # C1–C5
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    is_professional: Mapped[bool] = mapped_column(Boolean, default=False)


class Purchase(Ingested, Base):
    """A product purchase (bundle `purchases`): points are earned on it (jobs/strategies/points_earn.py)."""

    __tablename__ = "purchases"
    purchase_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), index=True)
    product_id: Mapped[str] = mapped_column(_fk("products.product_id"))
    account_id: Mapped[str | None] = mapped_column(_fk("accounts.account_id"))
    purchased_at: Mapped[dt.datetime] = mapped_column(DateTime)
    amount: Mapped[float] = mapped_column(Money)

    __table_args__ = (Index("ix_purchases_ingest_id", "ingest_id"),)  # the points job reads an ingest's new rows


class CardSpend(Ingested, Base):
    """Card spending from the card system (bundle `card_spend`): points are earned on it."""

    __tablename__ = "card_spend"
    spend_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    card_id: Mapped[str] = mapped_column(_fk("cards.card_id"), index=True)
    spent_at: Mapped[dt.datetime] = mapped_column(DateTime)
    amount: Mapped[float] = mapped_column(Money)
    merchant_category: Mapped[str | None] = mapped_column(String(4))

    __table_args__ = (Index("ix_card_spend_ingest_id", "ingest_id"),)  # the points job reads an ingest's new rows


class FeeEvent(Ingested, Base):
    """A fee charged (bundle `fee_events`): points can be redeemed against it once."""

    __tablename__ = "fee_events"
    fee_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), index=True)
    fee_item: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[str | None] = mapped_column(_fk("accounts.account_id"))
    charged_at: Mapped[dt.datetime] = mapped_column(DateTime)
    amount: Mapped[float] = mapped_column(Money)


# --- pipeline bookkeeping -------------------------------------------------------------


class IngestRun(Base):
    __tablename__ = "ingest_runs"
    ingest_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    read: Mapped[int] = mapped_column(Integer, default=0)
    loaded: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict | None] = mapped_column(JSON)


class QuarantinedRow(Base):
    """A rejected input row, kept verbatim with every reason it failed."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ingest_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.ingest_id"), index=True)
    source_file: Mapped[str] = mapped_column(String(200))
    row_number: Mapped[int] = mapped_column(Integer)
    table_name: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict] = mapped_column(JSON)  # values cut at jobs/ingest/quarantine.py's RAW_CHARS
    # the reader split the row into the header's fields cleanly; when not (a short, long or
    # damaged row) any value may be PII, so readers without read_pii see every value masked
    aligned: Mapped[bool | None] = mapped_column(Boolean)
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the table and the raw row

    __table_args__ = (UniqueConstraint("fingerprint", name="uq_quarantine_fingerprint"),)


class ClassificationRun(Base):
    __tablename__ = "classification_runs"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(10), default="running", index=True)
    standard_version: Mapped[str] = mapped_column(String(40))
    standard_sha256: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    customer_count: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(
        String(12), default="on_demand", server_default="on_demand"
    )  # scheduled | on_demand
    requested_by: Mapped[str | None] = mapped_column(String(100))
    # while running: renewed by the process's heartbeat; a run past it is dead (`jobs.runs.lease`)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    worker: Mapped[str | None] = mapped_column(String(100))  # host:pid of the process holding the lease
    # 1, 2, 3… in publication order, taken under the feed lock as the publish begins (rolled
    # back with it): the clock of `tag_spans`, NULL for a run that never published
    publish_seq: Mapped[int | None] = mapped_column(Integer)

    # as-of reads pick the latest run published at or before a moment
    __table_args__ = (
        Index("ix_classification_runs_published_at", "published_at"),
        Index("ix_classification_runs_publish_seq", "publish_seq", unique=True),
    )


class TagSpan(Base):
    """One classification of one subject on one dimension, true from one publication to another.

    A run writes only what changed: a tag whose content (value, labels, score, rule, inputs,
    standard version) is the same as in the previous published run keeps its open span and
    writes nothing. `from_seq` is the `publish_seq` of the run that made it true, `to_seq` that
    of the run that changed or dropped it (NULL: still true). Publication order, not run
    numbers: a run reserved early may publish late. `customer_id` is the subject: an
    individual, or an enterprise for the enterprise_* dimensions (the ids never collide)."""

    __tablename__ = "tag_spans"
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(40), primary_key=True)
    from_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_seq: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(60))
    score: Mapped[float | None] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict] = mapped_column(JSON)
    standard_version: Mapped[str] = mapped_column(String(40))

    # a run's tags on one dimension and value (reports, filters, segments): the spans of it
    __table_args__ = (Index("ix_tag_spans_dimension_value", "dimension", "value", "from_seq"),)


class TagDigest(Base):
    """A 64-bit digest of one subject's open spans (`jobs/runs/digests.py`), written with them by
    each publish: a re-run compares a partition's fresh digests with these and stages only the
    subjects whose tags changed. `scope` ranges individuals (0) and enterprises (1) apart."""

    __tablename__ = "tag_digests"
    scope: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    digest: Mapped[int] = mapped_column(BigInteger)

    # SQLite: rows stored in key order, so a partition's range is one sequential read
    __table_args__ = {"sqlite_with_rowid": False}


class _Views(DeclarativeBase):
    """Read-only views over the tables: mapped for queries, created by the migrations as
    views, and kept out of `Base.metadata` so nothing creates them as tables."""


class Tag(_Views):
    """The run-indexed face of `tag_spans`, a SQL view (migration 0016): one row per run
    published (or publishing, in its own transaction) and tag true in it. Readers query it as
    they queried the table it replaced; nobody writes it (`jobs/runs/spans.py` writes spans)."""

    __tablename__ = "tags"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(60))
    score: Mapped[float | None] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict] = mapped_column(JSON)
    standard_version: Mapped[str] = mapped_column(String(40))


class CurrentTagValues(Base):
    """The latest published run's value of every dimension of one subject, as a JSON object
    (dimension → value): the bulk read's wide row (`customerTable`, the SDK's `customers()`), so a
    page of 10,000 customers is 10,000 rows, not 220,000 tags pivoted. Kept in the publish
    transaction for the subjects whose values the run changed (jobs/runs/current_values.py);
    overrides are applied when read, as everywhere."""

    __tablename__ = "current_tag_values"
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tag_values: Mapped[str] = mapped_column(Text)

    # SQLite: rows stored in key order, so a page's range is one sequential read, not a lookup per row
    __table_args__ = {"sqlite_with_rowid": False}


class CustomerPackage(Base):
    """The service package a run's playbook gave one individual, the selector that chose it and
    why (jobs/strategies/packages.py); written in the run's publish transaction."""

    __tablename__ = "customer_packages"
    run_id: Mapped[int] = mapped_column(ForeignKey("classification_runs.run_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    package: Mapped[str] = mapped_column(String(40))
    selector: Mapped[str] = mapped_column(String(80))
    explanation_zh: Mapped[str] = mapped_column(Text)
    explanation_en: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_customer_packages_run_package", "run_id", "package"),)


# --- governance: standards, overrides, audit, outbox, alerts, feedback, change feed ----------


class StandardVersion(Base):
    """Every standard a run used, verbatim, so any run can be reproduced from its inputs."""

    __tablename__ = "standards"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class StandardAdoption(Base):
    """Who made which standard live, and when: runs use the latest adopted one (append-only)."""

    __tablename__ = "standard_adoptions"
    adoption_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("standards.sha256"))
    version: Mapped[str] = mapped_column(String(40))
    adopted_by: Mapped[str] = mapped_column(String(100))
    adopted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    previous_sha256: Mapped[str | None] = mapped_column(String(64))  # the standard live until then
    note: Mapped[str | None] = mapped_column(Text)


class Override(Base):
    """A manual classification (人工审核): proposed by one person, decided by another."""

    __tablename__ = "overrides"
    override_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    dimension: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str | None] = mapped_column(String(40))  # of `value`, from the standard
    label_en: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    # proposed → approved | rejected; approved → revoked | expired
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    proposed_by: Mapped[str] = mapped_column(String(100))
    # the person behind the proposing token; None: proposed by an operator (CLI `--actor`)
    proposer_person: Mapped[str | None] = mapped_column(String(100))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_overrides_customer_dimension", "customer_id", "dimension", "status"),)


class WhatIfRequest(Base):
    """A what-if asked over the API: a draft standard classified against current data in the
    background and diffed with the live run. The draft's text is kept here, not in the
    standards register (which holds what runs used), and so is the report once done: nothing is
    published, but the answer outlives the request and the process that computed it."""

    __tablename__ = "whatifs"
    whatif_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # queued → running → done | failed
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    standard_version: Mapped[str] = mapped_column(String(40))
    standard_sha256: Mapped[str] = mapped_column(String(64))
    standard_text: Mapped[str] = mapped_column(Text)
    sample: Mapped[int] = mapped_column(Integer)  # movers kept per dimension in the report
    base_run_id: Mapped[int | None] = mapped_column(ForeignKey("classification_runs.run_id"))
    report: Mapped[dict | None] = mapped_column(JSON)  # per dimension: customers, moved, from → to, sample
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)  # as a run's (`jobs.runs.lease`)
    worker: Mapped[str | None] = mapped_column(String(100))


class AuditEntry(Base):
    """Who did what, when and why: append-only."""

    __tablename__ = "audit_log"
    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)


class Notification(Base):
    """Outbox (letter / SMS / email) drained by the channel systems. A run's rows are unique per
    run, customer, channel and template; an override's (`override_id` set) per override."""

    __tablename__ = "notifications"
    notification_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("classification_runs.run_id"), index=True)
    override_id: Mapped[int | None] = mapped_column(
        ForeignKey("overrides.override_id", name="fk_notifications_override")
    )
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index(
            "uq_notifications_run",
            "run_id",
            "customer_id",
            "channel",
            "template",
            unique=True,
            sqlite_where=text("override_id IS NULL"),
            postgresql_where=text("override_id IS NULL"),
        ),
        Index(
            "uq_notifications_override",
            "override_id",
            "channel",
            "template",
            unique=True,
            sqlite_where=text("override_id IS NOT NULL"),
            postgresql_where=text("override_id IS NOT NULL"),
        ),
    )


class Alert(Base):
    """A signal routed to the customer's RM, saying why it fired; acknowledged once handled."""

    __tablename__ = "alerts"
    alert_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("classification_runs.run_id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    rm_id: Mapped[str | None] = mapped_column(String(40), index=True)
    alert_type: Mapped[str] = mapped_column(String(30), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # type + customer + period: the same signal raised by a re-run is not a second alert
    fingerprint: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("fingerprint", name="uq_alerts_fingerprint"),)


class Feedback(Base):
    """Satisfaction surveys, complaints and compliments recorded against a customer."""

    __tablename__ = "feedback"
    feedback_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    score: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ClassificationChange(Base):
    """Append-only feed of published tag changes and approved overrides. `seq` only grows,
    so an integration that polls `seq > cursor` never misses or repeats a change."""

    __tablename__ = "classification_changes"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(10))  # run | override
    run_id: Mapped[int | None] = mapped_column(ForeignKey("classification_runs.run_id"))
    override_id: Mapped[int | None] = mapped_column(ForeignKey("overrides.override_id"))
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    dimension: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(40))
    new_value: Mapped[str | None] = mapped_column(String(40))


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 hash is kept."""

    __tablename__ = "api_tokens"
    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # who holds it: maker–checker compares this, not the name (one person, several tokens)
    person: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(24))
    rm_id: Mapped[str | None] = mapped_column(_fk("relationship_managers.rm_id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # None: refused (set by every issue)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


# --- rollups: household and customer aggregates kept current by every ingest ----------------


class RollupClock(Base):
    """One row: the version and moment handed to the last rollup write. Writers lock this row
    (UPDATE) before stamping, so stamps are taken and committed in one order and a reader that
    sees a stamp also sees every smaller one: `updated_at > last seen` misses nothing.
    `month` is the latest balance month the rollups were computed for: a new month changes
    everyone's AUM, so it rebuilds them all."""

    __tablename__ = "rollup_clock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    month: Mapped[str | None] = mapped_column(String(7))


class CustomerRollup(Base):
    """A customer's current AUM (CNY, latest month) and household, as of the last ingest."""

    __tablename__ = "customer_rollups"
    customer_id: Mapped[str] = mapped_column(_fk("individuals.customer_id"), primary_key=True)
    household_id: Mapped[str | None] = mapped_column(String(40))
    aum: Mapped[float] = mapped_column(Money, default=0)
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_customer_rollups_aum", "aum", "customer_id"),
        Index("ix_customer_rollups_version", "version"),
    )


class HouseholdRollup(Base):
    """A household's view as integrations pull it: members, combined AUM and the latest run's
    household tier. `version`/`updated_at` move whenever any of it changes (`fingerprint`)."""

    __tablename__ = "household_rollups"
    household_id: Mapped[str] = mapped_column(_fk("households.household_id"), primary_key=True)
    aum: Mapped[float] = mapped_column(Money, default=0)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[str | None] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_household_rollups_version", "version", "household_id"),
        Index("ix_household_rollups_updated_at", "updated_at"),
    )


# --- strategies: next-best actions and their outcomes ---------------------------------------


class NextBestAction(Base):
    """An action a run chose for a customer, with its reasons; `control` rows were held out
    (never delivered) so the effect can be measured against them."""

    __tablename__ = "next_best_actions"
    nba_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("classification_runs.run_id"))
    customer_id: Mapped[str] = mapped_column(String(40))
    rm_id: Mapped[str | None] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    action_key: Mapped[str] = mapped_column(String(90))  # the action, or product_offer:<product_id>
    product_id: Mapped[str | None] = mapped_column(String(40))
    product_risk: Mapped[str | None] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(12))
    trigger: Mapped[str | None] = mapped_column(String(30))
    segment: Mapped[str | None] = mapped_column(String(40))  # the customer's wealth tier then
    propensity: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float)
    control: Mapped[bool] = mapped_column(Boolean)
    reason_en: Mapped[str] = mapped_column(Text)
    reason_zh: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_next_best_actions_run_customer", "run_id", "customer_id"),
        Index("ix_next_best_actions_rm_run", "rm_id", "run_id"),
    )


class ActionOutcome(Base):
    """What came of an action: contacted, not reachable, accepted, declined, converted (with the
    product and amount). Append-only: an action collects several as it progresses."""

    __tablename__ = "action_outcomes"
    outcome_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nba_id: Mapped[int] = mapped_column(ForeignKey("next_best_actions.nba_id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    action_key: Mapped[str] = mapped_column(String(90))
    channel: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(14))
    product_id: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[float | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


# --- points (积分): an append-only ledger -----------------------------------------------------


class PointsAccount(Base):
    """One customer's points balance: the sum of their postings, kept in the transaction that
    appends each posting. The row is what a redemption locks, and the CHECK is the database's
    own refusal of an overdraft (jobs/strategies/points.py)."""

    __tablename__ = "points_accounts"
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("balance >= 0", name="ck_points_accounts_balance"),)


class PointsScan(Base):
    """An ingest whose events of one earn source the points job has read under these earn rules
    (`rules`: a digest of the source's rules): a later run reads only the other ingests' rows.
    Written in the run's transaction with the postings it led to, so both commit or neither."""

    __tablename__ = "points_scans"
    source: Mapped[str] = mapped_column(String(20), primary_key=True)  # purchases | card_spend | deposits
    rules: Mapped[str] = mapped_column(String(64), primary_key=True)
    ingest_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scanned_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CrossSellRuleSet(Base):
    """The cross-sell association rules last mined, under the digest of what they were mined
    from (the holdings, the number of baskets, the mining parameters): a run whose holdings did
    not change reuses them instead of mining again (jobs/strategies/rule_cache.py)."""

    __tablename__ = "cross_sell_rules"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    rules: Mapped[str] = mapped_column(Text)  # the rule frame as JSON records
    n_rules: Mapped[int] = mapped_column(Integer)
    mined_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PointsPosting(Base):
    """A posting: earned (+), redeemed (−) or expired (−) points, with the stable key of its
    source; (customer_id, source) is unique, so replaying a source never posts twice."""

    __tablename__ = "points_postings"
    posting_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(120))  # e.g. purchase:PU1, card:S9, fee:F3, expire:2026-10-31
    kind: Mapped[str] = mapped_column(String(8))  # earn | redeem | expire
    rule: Mapped[str | None] = mapped_column(String(40))  # the earn rule or the fee item
    points: Mapped[int] = mapped_column(BigInteger)
    basis_amount: Mapped[float | None] = mapped_column(Money)  # CNY the points were earned on or paid for
    multiplier: Mapped[float | None] = mapped_column(Float)
    package: Mapped[str | None] = mapped_column(String(40))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime)  # the source's own time
    expires_on: Mapped[dt.date | None] = mapped_column(Date)  # earned points only
    posted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    posted_by: Mapped[str] = mapped_column(String(80))

    __table_args__ = (
        UniqueConstraint("customer_id", "source", name="uq_points_postings_customer_source"),
        CheckConstraint("(kind = 'earn' AND points > 0) OR (kind <> 'earn' AND points < 0)", name="ck_points_sign"),
        Index("ix_points_postings_customer_posting", "customer_id", "posting_id"),
    )
