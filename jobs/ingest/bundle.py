"""The ingestion contract: every file of a bundle, every column, its type and its rules.

A bundle is a folder with one file per table, `<table>.csv` (UTF-8, header row) or
`<table>.parquet`. Every file is optional; absent files load nothing. This module is the
single source of truth: the validator enforces it, the generator writes it, and
`bundle.md` documents it (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Column", "Table", "TABLES", "TABLE_BY_NAME", "PRODUCT_FAMILIES", "ASSET_FAMILIES"]

Kind = Literal["str", "int", "decimal", "float", "date", "datetime", "bool", "enum", "month"]

PRODUCT_FAMILIES = ("deposit", "wealth_management", "fund", "insurance", "loan", "card")
ASSET_FAMILIES = ("deposit", "wealth_management", "fund", "insurance")  # count towards AUM


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    doc: str
    required: bool = False
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None  # checked after normalisation
    normalise: str | None = None  # "phone" | "id_number" | "upper"
    references: tuple[str, str] | None = None  # (table, column)
    default: object = None
    pii: bool = False  # identifying personal data (C2, JR/T 0171-2020)
    past: bool = False  # an event: never after the data's as-of date (a birth, an opening, a booking)


@dataclass(frozen=True)
class Check:
    """A rule across columns of one row; `bad` names a pandas expression that is True when broken."""

    message: str
    left: str
    op: Literal[">=", "!="]
    right: str


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()  # single columns that identify a row besides the key
    checks: tuple[Check, ...] = ()
    # owner_id points at individuals or enterprises, depending on owner_type
    polymorphic: tuple[str, str, dict[str, tuple[str, str]]] | None = field(default=None)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def kept(self) -> tuple[str, ...]:
        """The columns an empty cell never changes in a stored row: the identifying ones (unique
        columns, PII, the references that place a row: branch, RM, product) and those with a
        default, which a new row gets and an update never falls back to. An empty cell is what a
        damaged or narrowed extract sends, not a decision (bundle.md, "Updates"); required columns
        cannot be empty at all."""
        return tuple(
            c.name
            for c in self.columns
            if not c.required and (c.pii or c.references or c.name in self.unique or c.default is not None)
        )

    @property
    def defaults(self) -> dict[str, object]:
        """Column -> the value a new row gets when its cell is empty or its file lacks the column."""
        return {c.name: c.default for c in self.columns if c.default is not None}


def _id(name: str, doc: str, **kw) -> Column:
    return Column(name, "str", doc, required=True, pattern=r"^[A-Za-z0-9_.:\-]{1,40}$", **kw)


def _ref(name: str, table: str, col: str, doc: str, required: bool = True) -> Column:
    return Column(name, "str", doc, required=required, references=(table, col))


DATE_MIN = 1900
DATE_MAX = 2100  # plausible years; outside them a date is a typo or a placeholder (0001, 9999)
MONEY_MAX = 1e13

TABLES: tuple[Table, ...] = (
    Table(
        "branches",
        "Bank branches (网点); PKDD'99 districts map here.",
        ("branch_id",),
        (
            _id("branch_id", "Branch identifier."),
            Column("name", "str", "Branch name.", required=True),
            Column("region", "str", "Region or province."),
            Column("city", "str", "City."),
        ),
    ),
    Table(
        "relationship_managers",
        "Relationship managers (客户经理) and their branch.",
        ("rm_id",),
        (
            _id("rm_id", "RM identifier."),
            Column("name", "str", "RM name.", required=True),
            _ref("branch_id", "branches", "branch_id", "Branch the RM works at."),
            Column("grade", "enum", "Seniority.", choices=("junior", "senior", "private_banker")),
            Column("hired_on", "date", "Date hired; seniority for private-banking assignment.", past=True),
        ),
    ),
    Table(
        "products",
        "The product catalogue.",
        ("product_id",),
        (
            _id("product_id", "Product identifier."),
            Column("name", "str", "Product name.", required=True),
            Column("family", "enum", "Product family.", required=True, choices=PRODUCT_FAMILIES),
            Column(
                "risk_level",
                "enum",
                "Risk level R1 (lowest) … R5 (highest), per the bank's "
                "product risk rating; empty for products without one.",
                choices=("R1", "R2", "R3", "R4", "R5"),
                normalise="upper",
            ),
            Column("currency", "str", "ISO 4217 currency.", pattern=r"^[A-Z]{3}$", normalise="upper", default="CNY"),
            Column("term_months", "int", "Term in months (0 = demand).", min=0, max=600),
            Column(
                "rate", "float", "Annual interest or expected yield, as a fraction (0.025 = 2.5%).", min=-0.1, max=1.0
            ),
        ),
    ),
    Table(
        "individuals",
        "Individual (retail) customers (个人客户).",
        ("customer_id",),
        (
            _id("customer_id", "Customer identifier."),
            Column("name", "str", "Full name.", required=True),
            Column("gender", "enum", "M or F.", choices=("M", "F"), normalise="upper"),
            Column("birth_date", "date", "Date of birth.", required=True, past=True),
            Column(
                "id_number",
                "str",
                "18-character PRC resident identity number; the check digit "
                "is verified. PII (C2): masked by the API unless the role needs it.",
                normalise="id_number",
                pii=True,
            ),
            Column(
                "phone",
                "str",
                "Phone; normalised to 11 mobile digits (+86 and separators "
                "removed) or an area-code landline. PII (C2).",
                normalise="phone",
                pii=True,
            ),
            Column("email", "str", "E-mail address.", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
            Column("address", "str", "Postal address. PII (C2).", pii=True),
            Column("occupation", "str", "Occupation."),
            Column("annual_income", "decimal", "Declared annual income, CNY.", min=0, max=MONEY_MAX),
            Column("credit_score", "int", "Credit bureau score.", min=300, max=900),
            Column("is_pep", "bool", "Politically exposed person.", default=False),
            Column("onboarded_on", "date", "Date the customer relationship began (合作年限).", past=True),
            _ref("branch_id", "branches", "branch_id", "Home branch.", required=False),
            _ref("rm_id", "relationship_managers", "rm_id", "Assigned RM.", required=False),
        ),
        unique=("id_number",),
    ),
    Table(
        "enterprises",
        "Corporate customers (对公客户).",
        ("enterprise_id",),
        (
            _id("enterprise_id", "Enterprise identifier."),
            Column("name", "str", "Registered name.", required=True),
            Column(
                "credit_code",
                "str",
                "18-character unified social credit code (统一社会信用代码).",
                pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
                normalise="upper",
            ),
            Column(
                "industry",
                "enum",
                "GB/T 4754 industry section letter A–T.",
                choices=tuple("ABCDEFGHIJKLMNOPQRST"),
                normalise="upper",
            ),
            Column("size", "enum", "Enterprise size.", choices=("micro", "small", "medium", "large")),
            Column("registered_capital", "decimal", "Registered capital, CNY.", min=0, max=MONEY_MAX),
            Column("annual_revenue", "decimal", "Annual revenue, CNY.", min=0, max=MONEY_MAX),
            Column("founded_on", "date", "Date of incorporation.", past=True),
            _ref("branch_id", "branches", "branch_id", "Servicing branch.", required=False),
            _ref("rm_id", "relationship_managers", "rm_id", "Corporate RM.", required=False),
        ),
        unique=("credit_code",),
    ),
    Table(
        "households",
        "Households (家庭); `candidate` ones are inferred and await review.",
        ("household_id",),
        (
            _id("household_id", "Household identifier."),
            Column("name", "str", "Display name."),
            Column(
                "status",
                "enum",
                "confirmed, or candidate (inferred, e.g. from a joint account).",
                choices=("confirmed", "candidate"),
                default="confirmed",
            ),
            Column("created_on", "date", "Date recorded.", past=True),
        ),
    ),
    Table(
        "household_members",
        "Who belongs to which household, and as what. A person belongs to at most one household.",
        ("household_id", "customer_id"),
        (
            _ref("household_id", "households", "household_id", "Household."),
            _ref("customer_id", "individuals", "customer_id", "Member."),
            Column(
                "role",
                "enum",
                "Role in the household.",
                required=True,
                choices=("head", "spouse", "child", "parent", "other"),
            ),
        ),
        unique=("customer_id",),
    ),
    Table(
        "employment",
        "Employment; `payroll` marks salary paid through this bank (代发工资).",
        ("customer_id", "enterprise_id"),
        (
            _ref("customer_id", "individuals", "customer_id", "Employee."),
            _ref("enterprise_id", "enterprises", "enterprise_id", "Employer."),
            Column("payroll", "bool", "Salary paid through this bank.", required=True),
            Column("monthly_salary", "decimal", "Gross monthly salary, CNY.", min=0, max=1e9),
            Column("since", "date", "Employed since.", past=True),
        ),
    ),
    Table(
        "enterprise_control",
        "Legal representatives, shareholders and executives (公私联动).",
        ("customer_id", "enterprise_id", "role"),
        (
            _ref("customer_id", "individuals", "customer_id", "The individual."),
            _ref("enterprise_id", "enterprises", "enterprise_id", "The enterprise."),
            Column(
                "role", "enum", "Kind of control.", required=True, choices=("legal_rep", "shareholder", "executive")
            ),
            Column("share", "float", "Equity share, 0–1 (shareholders).", min=0, max=1),
        ),
    ),
    Table(
        "supply_chain",
        "Supplier → buyer links between corporate customers.",
        ("supplier_id", "buyer_id"),
        (
            _ref("supplier_id", "enterprises", "enterprise_id", "Supplier."),
            _ref("buyer_id", "enterprises", "enterprise_id", "Buyer."),
            Column("annual_volume", "decimal", "Annual trade volume, CNY.", min=0, max=MONEY_MAX),
        ),
        checks=(Check("an enterprise cannot supply itself", "supplier_id", "!=", "buyer_id"),),
    ),
    Table(
        "accounts",
        "Accounts and holdings: deposits, wealth management, funds, insurance "
        "policies. Loans and cards have their own files and point at a settlement account.",
        ("account_id",),
        (
            _id("account_id", "Account identifier."),
            Column(
                "account_number",
                "str",
                "Account or card number. PII (C2).",
                pattern=r"^[0-9A-Z]{8,34}$",
                normalise="upper",
                pii=True,
            ),
            Column(
                "owner_type", "enum", "individual or enterprise.", required=True, choices=("individual", "enterprise")
            ),
            Column("owner_id", "str", "customer_id or enterprise_id of the owner.", required=True),
            _ref("product_id", "products", "product_id", "Product held."),
            Column("currency", "str", "ISO 4217 currency.", pattern=r"^[A-Z]{3}$", normalise="upper", default="CNY"),
            Column("opened_on", "date", "Date opened.", required=True, past=True),
            Column("closed_on", "date", "Date closed, if closed.", past=True),
            Column("status", "enum", "Account status.", choices=("active", "dormant", "closed"), default="active"),
            Column("balance", "decimal", "Current balance in the account currency.", min=-MONEY_MAX, max=MONEY_MAX),
        ),
        checks=(Check("closed_on is before opened_on", "closed_on", ">=", "opened_on"),),
        polymorphic=(
            "owner_id",
            "owner_type",
            {"individual": ("individuals", "customer_id"), "enterprise": ("enterprises", "enterprise_id")},
        ),
    ),
    Table(
        "account_holders",
        "Individuals on an account: the owner, joint holders (co_holder) and authorised users (PKDD'99 dispositions).",
        ("account_id", "customer_id"),
        (
            _ref("account_id", "accounts", "account_id", "Account."),
            _ref("customer_id", "individuals", "customer_id", "Holder."),
            Column("role", "enum", "Holder role.", required=True, choices=("owner", "co_holder", "authorised_user")),
        ),
    ),
    Table(
        "balances_monthly",
        "Monthly daily-average balance per account (月日均), the base of AUM and wealth tiers.",
        ("account_id", "month"),
        (
            _ref("account_id", "accounts", "account_id", "Account."),
            Column("month", "month", "Month, YYYY-MM.", required=True, past=True),
            Column(
                "avg_daily_balance",
                "decimal",
                "Average of the daily closing balances in the month.",
                required=True,
                min=-MONEY_MAX,
                max=MONEY_MAX,
            ),
        ),
    ),
    Table(
        "loans",
        "Loans, with PKDD'99 repayment status.",
        ("loan_id",),
        (
            _id("loan_id", "Loan identifier."),
            _ref("account_id", "accounts", "account_id", "Settlement account the loan is granted for."),
            _ref("product_id", "products", "product_id", "Loan product.", required=False),
            Column("principal", "decimal", "Amount granted.", required=True, min=0.01, max=MONEY_MAX),
            Column("outstanding", "decimal", "Amount still owed.", min=0, max=MONEY_MAX),
            Column("term_months", "int", "Duration in months.", min=1, max=600),
            Column("monthly_payment", "decimal", "Scheduled monthly payment.", min=0, max=MONEY_MAX),
            Column("granted_on", "date", "Date granted.", required=True, past=True),
            Column(
                "status",
                "enum",
                "A finished, no problems; B finished, not paid; C running, OK so far; D running, client in debt.",
                required=True,
                choices=("A", "B", "C", "D"),
                normalise="upper",
            ),
            Column("days_past_due", "int", "Days past due now.", min=0, max=100000),
        ),
    ),
    Table(
        "cards",
        "Debit and credit cards.",
        ("card_id",),
        (
            _id("card_id", "Card identifier."),
            _ref("account_id", "accounts", "account_id", "Account the card draws on."),
            _ref("holder_id", "individuals", "customer_id", "Card holder."),
            _ref("product_id", "products", "product_id", "Card product.", required=False),
            Column(
                "card_type",
                "enum",
                "Card type.",
                required=True,
                choices=("debit", "credit", "junior", "classic", "gold", "platinum"),
            ),
            Column("issued_on", "date", "Date issued.", required=True, past=True),
            Column("credit_limit", "decimal", "Credit limit, credit cards.", min=0, max=1e9),
        ),
    ),
    Table(
        "standing_orders",
        "Standing orders; their purpose reveals insurance, loan and household payments held elsewhere.",
        ("order_id",),
        (
            _id("order_id", "Order identifier."),
            _ref("account_id", "accounts", "account_id", "Debited account."),
            Column(
                "purpose",
                "enum",
                "What the payment is for.",
                required=True,
                choices=("insurance", "loan", "household", "leasing", "other"),
            ),
            Column("amount", "decimal", "Amount per payment.", required=True, min=0.01, max=1e10),
            Column("counterparty_bank", "str", "Recipient bank code."),
            Column("counterparty_account", "str", "Recipient account. PII (C2).", pii=True),
        ),
    ),
    Table(
        "transactions",
        "Booked transactions (twelve months in the synthetic bank).",
        ("txn_id",),
        (
            _id("txn_id", "Transaction identifier."),
            _ref("account_id", "accounts", "account_id", "Account."),
            Column("booked_at", "datetime", "Booking time, ISO 8601.", required=True, past=True),
            Column(
                "direction",
                "enum",
                "credit (money in) or debit (money out).",
                required=True,
                choices=("credit", "debit"),
            ),
            Column("amount", "decimal", "Amount, positive.", required=True, min=0.01, max=MONEY_MAX),
            Column("currency", "str", "ISO 4217 currency.", pattern=r"^[A-Z]{3}$", normalise="upper", default="CNY"),
            Column("channel", "enum", "Channel.", required=True, choices=("mobile", "online", "branch", "atm", "pos")),
            Column("is_cash", "bool", "Cash deposit or withdrawal.", default=False),
            Column(
                "counterparty_country",
                "str",
                "ISO 3166 alpha-2 country of the counterparty.",
                pattern=r"^[A-Z]{2}$",
                normalise="upper",
                default="CN",
            ),
            Column("counterparty_name", "str", "Counterparty."),
        ),
    ),
    Table(
        "purchases",
        "Purchases of products (认购/申购): wealth management, funds, large-denomination deposits "
        "(大额存单). Points (积分) are earned on them.",
        ("purchase_id",),
        (
            _id("purchase_id", "Purchase identifier."),
            _ref("customer_id", "individuals", "customer_id", "Buyer."),
            _ref("product_id", "products", "product_id", "Product bought."),
            _ref("account_id", "accounts", "account_id", "Holding the purchase went into.", required=False),
            Column("purchased_at", "datetime", "Purchase time, ISO 8601.", required=True, past=True),
            Column("amount", "decimal", "Amount paid, CNY.", required=True, min=0.01, max=MONEY_MAX),
        ),
    ),
    Table(
        "card_spend",
        "Card spending (刷卡消费) from the card system, per purchase at a merchant; points are earned on it.",
        ("spend_id",),
        (
            _id("spend_id", "Card transaction identifier."),
            _ref("card_id", "cards", "card_id", "Card used."),
            Column("spent_at", "datetime", "Time of the spend, ISO 8601.", required=True, past=True),
            Column("amount", "decimal", "Amount spent, CNY; refunds are not sent.", required=True, min=0.01, max=1e9),
            Column("merchant_category", "str", "Merchant category code (MCC), 4 digits.", pattern=r"^[0-9]{4}$"),
        ),
    ),
    Table(
        "fee_events",
        "Fees charged (手续费), by fee item of the playbook's fee schedule; points can be redeemed against them.",
        ("fee_id",),
        (
            _id("fee_id", "Fee event identifier."),
            _ref("customer_id", "individuals", "customer_id", "Customer charged."),
            Column(
                "fee_item",
                "str",
                "Fee item (`interbank_withdrawal`, `sms_alerts`, …): a value of the playbook's fee schedule.",
                required=True,
                pattern=r"^[a-z0-9_]{1,40}$",
            ),
            _ref("account_id", "accounts", "account_id", "Account charged.", required=False),
            Column("charged_at", "datetime", "Time charged, ISO 8601.", required=True, past=True),
            Column("amount", "decimal", "Fee charged, CNY, after any discount.", required=True, min=0, max=1e7),
        ),
    ),
    Table(
        "risk_questionnaires",
        "Risk-tolerance assessments (风险测评), C1 conservative … C5 aggressive.",
        ("questionnaire_id",),
        (
            _id("questionnaire_id", "Assessment identifier."),
            _ref("customer_id", "individuals", "customer_id", "Customer assessed."),
            Column("assessed_on", "date", "Date of assessment.", required=True, past=True),
            Column("score", "int", "Questionnaire score.", min=0, max=100),
            Column(
                "risk_level",
                "enum",
                "Resulting risk tolerance.",
                required=True,
                choices=("C1", "C2", "C3", "C4", "C5"),
                normalise="upper",
            ),
            Column("valid_until", "date", "End of validity; an expired assessment is not trusted."),
            Column("is_professional", "bool", "Professional investor (may buy any risk level).", default=False),
        ),
        checks=(Check("valid_until is before assessed_on", "valid_until", ">=", "assessed_on"),),
    ),
)

TABLE_BY_NAME = {t.name: t for t in TABLES}
