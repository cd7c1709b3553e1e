"""Classification standards: versioned YAML files with thresholds, bands, weights and labels.

Every dimension's section is checked against a declared schema (`SCHEMA`). A malformed or
inconsistent file is refused with an `InvalidStandard` that names the file, the line and the
problem, e.g. ``my.yaml, line 14: dimensions.wealth_tier.bands[2]: min 400,000 overlaps the
band before it (min 500,000)``: the committee fixes files, not stack traces.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from clientstrata.graph.errors import InvalidInput

__all__ = [
    "Standard",
    "InvalidStandard",
    "load_standard",
    "parse_standard",
    "DEFAULT_STANDARD",
    "SCHEMA",
    "KNOWN_DIMENSIONS",
    "RULE_FEATURES",
    "rule_tests",
]

DEFAULT_STANDARD = "default.yaml"


class InvalidStandard(InvalidInput):
    """The standard file cannot be used; the message says where and why. `line` (1-based, of
    the offending key or its nearest ancestor) and `key` (e.g. `dimensions.wealth_tier.bands[2]`)
    are set when the problem was located in the file."""

    code = "INVALID_STANDARD"

    def __init__(self, message: str, line: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.line, self.key = line, key


@dataclass(frozen=True)
class Standard:
    version: str
    name: str
    sha256: str
    fx_to_cny: dict[str, float]
    dimensions: dict[str, dict]
    source: str
    governance: dict | None = None
    alerts: dict | None = None
    text: str = field(default="", repr=False, compare=False)  # verbatim, as registered by sha256

    def __repr__(self) -> str:
        return f"Standard(version={self.version!r}, dimensions={sorted(self.dimensions)}, source={self.source!r})"


# --- locating problems ---------------------------------------------------------------------


class _Fail(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem = path, problem


def _need(cond: bool, path: str, problem: str) -> None:
    if not cond:
        raise _Fail(path, problem)


def _lines(node: yaml.Node | None, path: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """path → 1-based line of every node of the composed YAML tree."""
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = str(k.value)
            sub = f"{path}.{key}" if path else key
            out.setdefault(sub, k.start_mark.line + 1)
            if isinstance(v, (yaml.MappingNode, yaml.SequenceNode)):
                _lines(v, sub, out)
            else:
                out[sub] = v.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, f"{path}[{i}]", out)
    return out


def _line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, or of its nearest ancestor in the file (for a missing key)."""
    while path not in lines:
        if not path:
            return None
        path = re.sub(r"(\[\d+\]|\.?[^.\[]+)$", "", path)
    return lines[path]


# --- a small declared schema ---------------------------------------------------------------


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _fmt(x: Any) -> str:
    return f"{x:,}" if _num(x) else repr(x)


class Num:
    def __init__(self, lo: float | None = None, hi: float | None = None, integer: bool = False) -> None:
        self.lo, self.hi, self.integer = lo, hi, integer

    def check(self, path: str, x: Any) -> None:
        kind = "a whole number" if self.integer else "a number"
        _need(_num(x) and (not self.integer or float(x).is_integer()), path, f"must be {kind}, not {x!r}")
        _need(self.lo is None or x >= self.lo, path, f"{_fmt(x)} is below the smallest allowed value {_fmt(self.lo)}")
        _need(self.hi is None or x <= self.hi, path, f"{_fmt(x)} is above the largest allowed value {_fmt(self.hi)}")


class Str:
    def __init__(self, choices: tuple[str, ...] | None = None, max_len: int | None = None) -> None:
        self.choices, self.max_len = choices, max_len

    def check(self, path: str, x: Any) -> None:
        _need(isinstance(x, str) and x != "", path, f"must be a non-empty text, not {x!r}")
        _need(
            self.max_len is None or len(x) <= self.max_len,
            path,
            f"{x!r} is longer than {self.max_len} characters, the most a tag can hold",
        )
        _need(self.choices is None or x in self.choices, path, f"{x!r} is not one of {', '.join(self.choices or ())}")


class Template(Str):
    """A label with `{n}` where the decile number goes."""

    def check(self, path: str, x: Any) -> None:
        super().check(path, x)
        _need("{n}" in x, path, "must contain {n}, where the decile number goes")


class Bool:
    def check(self, path: str, x: Any) -> None:
        _need(isinstance(x, bool), path, f"must be true or false, not {x!r}")


class ListOf:
    def __init__(self, item, min_len: int = 0, unique: bool = False) -> None:
        self.item, self.min_len, self.unique = item, min_len, unique

    def check(self, path: str, x: Any) -> None:
        _need(isinstance(x, list), path, "must be a list")
        _need(len(x) >= self.min_len, path, f"needs at least {self.min_len} entries")
        for i, v in enumerate(x):
            self.item.check(f"{path}[{i}]", v)
        if self.unique:
            _need(len(set(map(str, x))) == len(x), path, "entries must be distinct")


class DictOf:
    """A mapping with free keys (from `keys` when given) and values of one kind."""

    def __init__(self, value, keys: tuple[str, ...] | None = None, min_len: int = 0) -> None:
        self.value, self.keys, self.min_len = value, keys, min_len

    def check(self, path: str, x: Any) -> None:
        _need(isinstance(x, dict), path, "must be a mapping")
        _need(len(x) >= self.min_len, path, f"needs at least {self.min_len} entries")
        for k, v in x.items():
            _need(
                self.keys is None or k in self.keys, f"{path}.{k}", f"unknown key (known: {', '.join(self.keys or ())})"
            )
            self.value.check(f"{path}.{k}", v)


class Map:
    """A mapping with declared fields; `?name` marks an optional one. Unknown keys are refused."""

    def __init__(self, fields: dict, extra: bool = False) -> None:
        self.fields = {k.lstrip("?"): (v, not k.startswith("?")) for k, v in fields.items()}
        self.extra = extra

    def check(self, path: str, x: Any) -> None:
        _need(isinstance(x, dict), path, "must be a mapping")
        for k, (spec, required) in self.fields.items():
            if k in x:
                spec.check(f"{path}.{k}", x[k])
            else:
                _need(not required, path, f"missing {k}")
        if not self.extra:
            for k in x:
                _need(k in self.fields, f"{path}.{k}", f"unknown key (known: {', '.join(self.fields)})")


def Label(**more) -> Map:
    # lengths of the tags table's columns (graph/models.py Tag)
    return Map({"value": Str(max_len=40), "label_zh": Str(max_len=40), "label_en": Str(max_len=60), **more})


class Labelled(ListOf):
    """A list of labelled entries with distinct values."""

    def __init__(self, min_len: int = 1, exact: tuple[str, ...] | None = None, **more) -> None:
        super().__init__(Label(**more), min_len)
        self.exact = exact

    def check(self, path: str, x: Any) -> None:
        super().check(path, x)
        values = [e["value"] for e in x]
        for i, v in enumerate(values):
            _need(v not in values[:i], f"{path}[{i}]", f"value {v!r} appears twice")
        if self.exact is not None:
            _need(
                values == list(self.exact),
                path,
                f"values must be exactly {', '.join(self.exact)} in this order (code relies on them)",
            )


class Bands(Labelled):
    """Ascending `min` bands from 0: every number falls in exactly one."""

    def __init__(self, integer_months: bool = False, **more) -> None:
        extra = {"min": Num(lo=0), **more}
        if integer_months:
            extra["?downgrade_after_months"] = Num(lo=1, hi=120, integer=True)
        super().__init__(min_len=2, **extra)

    def check(self, path: str, x: Any) -> None:
        super().check(path, x)
        _need(x[0]["min"] == 0, f"{path}[0]", "the first band must start at min 0 so every customer has one")
        for i in range(1, len(x)):
            _need(
                x[i]["min"] > x[i - 1]["min"],
                f"{path}[{i}]",
                f"min {_fmt(x[i]['min'])} overlaps the band before it (min {_fmt(x[i - 1]['min'])}); bands must ascend",
            )


# Features that rules may test, per dimension: name → "num" or "bool".
RULE_FEATURES: dict[str, dict[str, str]] = {
    "lifecycle_stage": {
        "age": "num",
        "retired": "bool",
        "parent_with_children": "bool",
        "has_mortgage": "bool",
        "children": "num",
        "household_size": "num",
        "annual_income": "num",
        "salaried": "bool",
    },
    "relationship_stage": {"aum_change": "num", "aum_before": "num", "aum": "num", "tenure_years": "num"},
    "demand_tier": {
        "professional_investor": "bool",
        "aum": "num",
        "investment_families": "num",
        "max_risk_level": "num",
    },
    "credit_risk_tier": {
        "loan_in_debt": "bool",
        "loan_unpaid": "bool",
        "days_past_due": "num",
        "credit_score": "num",
        "debt_to_income": "num",
        "has_loan_history": "bool",
        "loans_outstanding": "num",
    },
    "behaviour_rfm": {"r": "num", "f": "num", "m": "num"},
    "enterprise_credit_tier": {
        "loan_in_debt": "bool",
        "loan_unpaid": "bool",
        "days_past_due": "num",
        "debt_to_revenue": "num",
        "has_loan_history": "bool",
        "loans_outstanding": "num",
    },
}
_OPS = ("_min", "_max", "_below", "_above", "_in")


def rule_tests(cond: dict) -> list[tuple[str, str, Any]]:
    """(feature, op, threshold) for each test of an any:/all: condition; op '' for booleans."""
    out = []
    for key, thr in cond.items():
        op = next((o for o in _OPS if key.endswith(o)), "")
        out.append((key[: -len(op)] if op else key, op, thr))
    return out


class Rules(ListOf):
    """First-match rules: labelled, `any:` or `all:` tests over the dimension's features, the last
    one a catch-all."""

    def __init__(self, features: dict[str, str], **more) -> None:
        super().__init__(Label(**{"?any": DictOf(_Any()), "?all": DictOf(_Any()), **more}), min_len=1)
        self.features = features

    def check(self, path: str, x: Any) -> None:
        super().check(path, x)
        for i, rule in enumerate(x):
            where = f"{path}[{i}]"
            conds = [k for k in ("any", "all") if k in rule]
            _need(len(conds) <= 1, where, "use either any: or all:, not both")
            if not conds:
                _need(i == len(x) - 1, where, "a rule without any:/all: catches everyone, so it must be the last")
                continue
            _need(len(rule[conds[0]]) > 0, f"{where}.{conds[0]}", "needs at least one test")
            for feat, op, thr in rule_tests(rule[conds[0]]):
                tp = f"{where}.{conds[0]}.{feat}{op}"
                _need(
                    feat in self.features,
                    tp,
                    f"unknown feature {feat!r} (this dimension can test: {', '.join(sorted(self.features))})",
                )
                if self.features[feat] == "bool":
                    _need(op == "" and isinstance(thr, bool), tp, f"{feat} is true/false: write `{feat}: true`")
                elif op == "_in":
                    _need(isinstance(thr, list) and all(_num(t) for t in thr), tp, "_in needs a list of numbers")
                else:
                    _need(op != "", tp, f"{feat} is a number: write {feat}_min, _max, _below or _above")
                    _need(_num(thr), tp, f"threshold must be a number, not {thr!r}")
        _need(
            not any(k in x[-1] for k in ("any", "all")),
            f"{path}[{len(x) - 1}]",
            "the last rule must be a catch-all (no any:/all:) so every customer gets a value",
        )


class _Any:
    def check(self, path: str, x: Any) -> None:
        pass


class Ascending:
    """A list of `n` numbers, strictly ascending (or descending)."""

    def __init__(self, n: int, descending: bool = False) -> None:
        self.n, self.descending = n, descending

    def check(self, path: str, x: Any) -> None:
        _need(
            isinstance(x, list) and len(x) == self.n and all(_num(v) for v in x),
            path,
            f"must be a list of {self.n} numbers",
        )
        for i in range(1, len(x)):
            ok = x[i] < x[i - 1] if self.descending else x[i] > x[i - 1]
            _need(
                ok,
                f"{path}[{i}]",
                f"{_fmt(x[i])} must be {'below' if self.descending else 'above'} "
                f"the threshold before it ({_fmt(x[i - 1])})",
            )


class AmlGroups(DictOf):
    def __init__(self) -> None:
        super().__init__(
            Map({"max_points": Num(lo=0, hi=100), "factors": DictOf(Num(lo=0, hi=100), AML_FACTORS, 1)}),
            keys=("customer", "region", "business", "industry"),
            min_len=4,
        )

    def check(self, path: str, x: Any) -> None:
        super().check(path, x)
        total = sum(g["max_points"] for g in x.values())
        _need(abs(total - 100) < 1e-9, path, f"the groups' max_points add up to {_fmt(total)}, not 100")
        for name, g in x.items():
            for f, pts in g["factors"].items():
                _need(
                    pts <= g["max_points"],
                    f"{path}.{name}.factors.{f}",
                    f"{_fmt(pts)} points exceed the group's max_points {_fmt(g['max_points'])}",
                )


AML_FACTORS = (
    "pep",
    "missing_id_number",
    "high_risk_region",
    "high_risk_country",
    "cash_intensive",
    "frequent_cross_border",
    "rapid_in_out",
    "structuring",
    "high_risk_occupation",
    "high_risk_industry",
)
FAMILIES = ("deposit", "wealth_management", "fund", "insurance", "loan", "card")
_LEVEL = Str(tuple(f"C{i}" for i in range(1, 6)))
_BASICS = {"?basis": Str(), "?label_zh": Str(), "?label_en": Str()}

# The declared schema: every dimension a standard may configure, with its subject.
SCHEMA: dict[str, tuple[str, Map]] = {
    "wealth_tier": ("individual", Map({**_BASICS, "bands": Bands(integer_months=True), "?hnw_min": Num(lo=0)})),
    "household_wealth_tier": (
        "individual",
        Map({**_BASICS, "bands": Bands(integer_months=True), "?hnw_min": Num(lo=0)}),
    ),
    "value_contribution": (
        "individual",
        Map(
            {
                **_BASICS,
                "aum_spread": DictOf(Num(lo=-1, hi=1), ("deposit", "wealth_management", "fund", "insurance")),
                "fee_rates": DictOf(Num(lo=0, hi=1), ("deposit", "wealth_management", "fund", "insurance")),
                "loan_margin": Num(lo=-1, hi=1),
                "lgd": Num(lo=0, hi=1),
                "weights": DictOf(Num(lo=0, hi=10), ("aum_spread", "net_interest", "fee_income", "expected_loss"), 4),
                "decile_label_zh": Template(),
                "decile_label_en": Template(),
            }
        ),
    ),
    "risk_preference": (
        "individual",
        Map(
            {
                **_BASICS,
                "validity_months": Num(lo=1, hi=120, integer=True),
                "levels": Labelled(exact=("C1", "C2", "C3", "C4", "C5")),
                "unassessed": Label(),
                "expired": Label(),
            }
        ),
    ),
    "risk_consistency": (
        "individual",
        Map(
            {
                **_BASICS,
                "below_gap": Num(lo=1, hi=4, integer=True),
                "classes": Labelled(exact=("consistent", "above_appetite", "below_appetite", "unknown")),
            }
        ),
    ),
    "suitability": (
        "individual",
        Map(
            {
                **_BASICS,
                "elderly_age": Num(lo=0, hi=150),
                "professional_all_levels": Bool(),
                "levels": Labelled(exact=("none", "R1", "R2", "R3", "R4", "R5")),
            }
        ),
    ),
    "lifecycle_stage": (
        "individual",
        Map(
            {
                **_BASICS,
                "rules": Rules(RULE_FEATURES["lifecycle_stage"]),
                "mortgage_min_term_months": Num(lo=1, hi=600, integer=True),
                "retired_early_age": Num(lo=0, hi=150),
            }
        ),
    ),
    "relationship_stage": (
        "individual",
        Map(
            {
                **_BASICS,
                "lookback_months": Num(lo=1, hi=11, integer=True),
                "rules": Rules(RULE_FEATURES["relationship_stage"]),
            }
        ),
    ),
    "cooperation_depth": (
        "individual",
        Map(
            {
                **_BASICS,
                "basic_families": ListOf(Str(FAMILIES), 1, unique=True),
                "ecosystem_links": ListOf(
                    Str(("payroll_employer", "controls", "household_members", "co_holders", "supply_chain")),
                    1,
                    unique=True,
                ),
                "classes": Labelled(
                    exact=None,
                    **{"?min_other_families": Num(lo=0, integer=True), "?min_ecosystem_links": Num(lo=0, integer=True)},
                ),
            }
        ),
    ),
    "demand_tier": ("individual", Map({**_BASICS, "rules": Rules(RULE_FEATURES["demand_tier"])})),
    "credit_risk_tier": (
        "individual",
        Map({**_BASICS, "rules": Rules(RULE_FEATURES["credit_risk_tier"], pd=Num(lo=0, hi=1))}),
    ),
    "aml_risk": (
        "individual",
        Map(
            {
                **_BASICS,
                "groups": AmlGroups(),
                "?minimum_rating": DictOf(Str(("low", "medium", "high")), AML_FACTORS),
                "thresholds": Map(
                    {
                        "cash_intensive_share": Num(lo=0, hi=1),
                        "cash_intensive_min_count": Num(lo=0, integer=True),
                        "frequent_cross_border_count": Num(lo=1, integer=True),
                        "rapid_in_out_count": Num(lo=1, integer=True),
                        "structuring_count": Num(lo=1, integer=True),
                    }
                ),
                "cash_reporting_threshold": Num(lo=1),
                "structuring_margin": Num(lo=0, hi=1),
                "rapid_in_out": Map(
                    {
                        "window_days": Num(lo=1, hi=31, integer=True),
                        "min_amount": Num(lo=0),
                        "out_ratio": Num(lo=0, hi=1),
                    }
                ),
                "high_risk_regions": ListOf(Str()),
                "high_risk_countries": ListOf(Str()),
                "high_risk_occupations": ListOf(Str()),
                "high_risk_industries": ListOf(Str(tuple("ABCDEFGHIJKLMNOPQRST"))),
                "ratings": Bands(review_months=Num(lo=1, hi=120, integer=True)),
            }
        ),
    ),
    "behaviour_rfm": (
        "individual",
        Map(
            {
                **_BASICS,
                "recency_days_max": Ascending(4, descending=True),
                "frequency_min": Ascending(4),
                "monetary_min": Ascending(4),
                "segments": Rules(RULE_FEATURES["behaviour_rfm"]),
            }
        ),
    ),
    "behaviour_channel": (
        "individual",
        Map(
            {
                **_BASICS,
                "channels": ListOf(Str(("mobile", "online", "branch", "atm", "pos")), 1, unique=True),
                "min_transactions": Num(lo=1, integer=True),
                "labels": Labelled(),
            }
        ),
    ),
    "behaviour_activity": (
        "individual",
        Map(
            {
                **_BASICS,
                "dormant_after_days": Num(lo=1, integer=True),
                "classes": Labelled(exact=("active", "dormant", "unknown")),
            }
        ),
    ),
    "behaviour_loyalty": ("individual", Map({**_BASICS, "bands": Bands()})),
    "business_categories": (
        "individual",
        Map({**_BASICS, "categories": Labelled(families=ListOf(Str(FAMILIES), 1, unique=True)), "none": Label()}),
    ),
    "composite_segment": (
        "individual",
        Map(
            {
                **_BASICS,
                "high_asset_min_tier": Str(),
                "aggressive_min_level": _LEVEL,
                "ecosystem_min_links": Num(lo=0, integer=True),
                "parts": Map({p: Map({"high": Label(), "low": Label()}) for p in ("asset", "risk", "ecosystem")}),
            }
        ),
    ),
    "enterprise_industry": (
        "enterprise",
        Map(
            {
                **_BASICS,
                "sections": DictOf(
                    Map({"label_zh": Str(max_len=40), "label_en": Str(max_len=60)}), tuple("ABCDEFGHIJKLMNOPQRST"), 1
                ),
                "unknown": Label(),
            }
        ),
    ),
    "enterprise_size": ("enterprise", Map({**_BASICS, "bands": Bands(), "unknown": Label()})),
    "enterprise_credit_tier": ("enterprise", Map({**_BASICS, "rules": Rules(RULE_FEATURES["enterprise_credit_tier"])})),
    "enterprise_ecosystem_role": (
        "enterprise",
        Map(
            {
                **_BASICS,
                "core_min_suppliers": Num(lo=1, integer=True),
                "payroll_min_employees": Num(lo=1, integer=True),
                "roles": Labelled(exact=("both", "core_enterprise", "payroll_provider", "none")),
            }
        ),
    ),
}
KNOWN_DIMENSIONS = tuple(SCHEMA)
# Sections a dimension reads besides its own (a partial standard must include them).
NEEDS: dict[str, tuple[str, ...]] = {
    "value_contribution": ("credit_risk_tier",),
    "risk_consistency": ("risk_preference",),
    "suitability": ("risk_preference",),
    "demand_tier": ("business_categories",),
    "composite_segment": ("wealth_tier", "risk_preference", "cooperation_depth"),
}

_TOP = Map(
    {
        "version": _Any(),
        "?name": Str(),
        "?currency": Str(),
        "fx_to_cny": DictOf(Num(lo=0)),
        "dimensions": DictOf(_Any(), min_len=1),
        "?governance": DictOf(_Any()),
        "?alerts": DictOf(_Any()),
    }
)


def _validate(doc: Any) -> None:
    _need(isinstance(doc, dict), "", "must be a YAML mapping")
    _TOP.check("", doc)  # paths start with "." here; trimmed when reported
    _need(
        isinstance(doc["version"], (str, int, float)) and str(doc["version"]).strip() != "",
        ".version",
        'must be a version text such as "2026.2"',
    )
    _need(all(v > 0 for v in doc["fx_to_cny"].values()), ".fx_to_cny", "every rate must be above 0")
    dims = doc["dimensions"]
    for name, section in dims.items():
        _need(name in SCHEMA, f".dimensions.{name}", f"unknown dimension (known: {', '.join(KNOWN_DIMENSIONS)})")
        SCHEMA[name][1].check(f".dimensions.{name}", section)
    # Cross-dimension consistency.
    for name in dims:
        missing = [n for n in NEEDS.get(name, ()) if n not in dims]
        _need(not missing, f".dimensions.{name}", f"reads the {', '.join(missing)} section(s): add them too")
    if "composite_segment" in dims and "wealth_tier" in dims:
        tier = dims["composite_segment"]["high_asset_min_tier"]
        values = [b["value"] for b in dims["wealth_tier"]["bands"]]
        _need(
            tier in values,
            ".dimensions.composite_segment.high_asset_min_tier",
            f"{tier!r} is not a wealth_tier band (bands: {', '.join(values)})",
        )
    # Multi-part values and labels are joined; the joined text must still fit a tag.
    for dim, parts, seps in (
        ("composite_segment", lambda d: [[p["high"], p["low"]] for p in d["parts"].values()], (".", "·", ", ")),
        ("business_categories", lambda d: [[c] for c in d["categories"]], (",", "、", ", ")),
    ):
        if dim in dims:
            for key, sep, limit in zip(("value", "label_zh", "label_en"), seps, (40, 40, 60)):
                longest = sum(max(len(e[key]) for e in group) for group in parts(dims[dim]))
                longest += len(sep) * (len(parts(dims[dim])) - 1)
                _need(
                    longest <= limit,
                    f".dimensions.{dim}",
                    f"joined {key} can reach {longest} characters, more than the {limit} a tag can hold",
                )
    if "cooperation_depth" in dims:
        _need(
            len(dims["cooperation_depth"]["classes"]) == 3,
            ".dimensions.cooperation_depth.classes",
            "needs exactly three classes: basic service, comprehensive, ecosystem synergy",
        )
    if "aml_risk" in dims:
        w = dims["aml_risk"]
        _need(
            w["ratings"][-1]["min"] <= 100,
            ".dimensions.aml_risk.ratings",
            "rating bands must start at or below 100, the highest score",
        )
        defined = {f for g in w["groups"].values() for f in g["factors"]}
        for f in w.get("minimum_rating", {}):
            _need(f in defined, f".dimensions.aml_risk.minimum_rating.{f}", "no group scores this factor")
    if "value_contribution" in dims:
        _need(
            any(v > 0 for v in dims["value_contribution"]["weights"].values()),
            ".dimensions.value_contribution.weights",
            "at least one weight must be above 0",
        )


def load_standard(path: str | Path | None = None) -> Standard:
    """The packaged default standard, or a committee's file."""
    if path is None:
        text = (
            resources.files("clientstrata.jobs.classification")
            .joinpath("standards", DEFAULT_STANDARD)
            .read_text("utf-8")
        )
        return parse_standard(text, f"(default) {DEFAULT_STANDARD}")
    p = Path(path)
    if not p.is_file():
        raise InvalidStandard(f"{p}: no such standard file")
    return parse_standard(p.read_text("utf-8"), str(p))


def parse_standard(text: str, source: str = "(draft)") -> Standard:
    """A standard from its YAML text (a draft sent over the API, a registered standard);
    `source` names it in messages."""
    src = source
    try:
        lines = _lines(yaml.compose(text, Loader=yaml.SafeLoader))
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{src}, line {mark.line + 1}" if mark else src
        raise InvalidStandard(
            f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})", line=mark.line + 1 if mark else None
        ) from None
    try:
        _validate(doc)
    except _Fail as fail:
        path = fail.path.lstrip(".")
        line = _line_of(lines, path)
        where = f"{src}, line {line}" if line else src
        raise InvalidStandard(
            f"{where}: {path + ': ' if path else ''}{fail.problem}", line=line, key=path or None
        ) from None
    return Standard(
        version=str(doc["version"]),
        name=str(doc.get("name", "")),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        fx_to_cny={k: float(v) for k, v in doc["fx_to_cny"].items()},
        dimensions=doc["dimensions"],
        source=src,
        governance=doc.get("governance"),
        alerts=doc.get("alerts"),
        text=text,
    )
