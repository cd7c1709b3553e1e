"""Classification standards: versioned YAML files with thresholds, bands, weights and labels.

The whole file is checked against one declared schema (`DOCUMENT`, in the terms of `schema.py`):
every dimension's section (`SCHEMA`) and the `governance:` and `alerts:` blocks (`blocks.py`).
A malformed or inconsistent file is refused when it is parsed, before anything runs, with an
`InvalidStandard` that names the file, the line and the problem, e.g. ``my.yaml, line 14:
dimensions.wealth_tier.bands[2]: min 400,000 overlaps the band before it (min 500,000)``: the
committee fixes files, not stack traces.
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
from clientstrata.jobs.ingest.bundle import PRODUCT_FAMILIES

from .blocks import ACTIONS, ALERTS, GOVERNANCE, PLAYBOOK
from .schema import (
    Anything,
    Ascending,
    Bands,
    Bool,
    DictOf,
    Label,
    Labelled,
    ListOf,
    Map,
    Num,
    Refused,
    Str,
    Template,
    fmt,
    is_num,
    need,
)
from .yaml_bounds import Unbounded, check_expansion, check_size

__all__ = [
    "Standard",
    "InvalidStandard",
    "load_standard",
    "parse_standard",
    "DEFAULT_STANDARD",
    "SCHEMA",
    "DOCUMENT",
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
    playbook: dict | None = None
    actions: dict | None = None
    text: str = field(default="", repr=False, compare=False)  # verbatim, as registered by sha256

    def __repr__(self) -> str:
        return f"Standard(version={self.version!r}, dimensions={sorted(self.dimensions)}, source={self.source!r})"


# --- locating problems ---------------------------------------------------------------------


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
        super().__init__(Label(**{"?any": DictOf(Anything()), "?all": DictOf(Anything()), **more}), min_len=1)
        self.features = features

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        for i, rule in enumerate(x):
            where = f"{path}[{i}]"
            conds = [k for k in ("any", "all") if k in rule]
            need(len(conds) <= 1, where, "use either any: or all:, not both")
            if not conds:
                need(i == len(x) - 1, where, "a rule without any:/all: catches everyone, so it must be the last")
                continue
            need(len(rule[conds[0]]) > 0, f"{where}.{conds[0]}", "needs at least one test")
            for feat, op, thr in rule_tests(rule[conds[0]]):
                tp = f"{where}.{conds[0]}.{feat}{op}"
                need(
                    feat in self.features,
                    tp,
                    f"unknown feature {feat!r} (this dimension can test: {', '.join(sorted(self.features))})",
                )
                if self.features[feat] == "bool":
                    need(op == "" and isinstance(thr, bool), tp, f"{feat} is true/false: write `{feat}: true`")
                elif op == "_in":
                    need(isinstance(thr, list) and all(is_num(t) for t in thr), tp, "_in needs a list of numbers")
                else:
                    need(op != "", tp, f"{feat} is a number: write {feat}_min, _max, _below or _above")
                    need(is_num(thr), tp, f"threshold must be a number, not {thr!r}")
        need(
            not any(k in x[-1] for k in ("any", "all")),
            f"{path}[{len(x) - 1}]",
            "the last rule must be a catch-all (no any:/all:) so every customer gets a value",
        )


class AmlGroups(DictOf):
    def __init__(self) -> None:
        super().__init__(
            Map({"max_points": Num(lo=0, hi=100), "factors": DictOf(Num(lo=0, hi=100), AML_FACTORS, 1)}),
            keys=("customer", "region", "business", "industry"),
            min_len=4,
        )

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        total = sum(g["max_points"] for g in x.values())
        need(abs(total - 100) < 1e-9, path, f"the groups' max_points add up to {fmt(total)}, not 100")
        for name, g in x.items():
            for f, pts in g["factors"].items():
                need(
                    pts <= g["max_points"],
                    f"{path}.{name}.factors.{f}",
                    f"{fmt(pts)} points exceed the group's max_points {fmt(g['max_points'])}",
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
FAMILIES = PRODUCT_FAMILIES  # the bundle contract's product families
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


class Dimensions(DictOf):
    """The `dimensions:` block: each section by its dimension's declared schema, then what the
    sections must agree on between them."""

    def __init__(self) -> None:
        super().__init__(Anything(), min_len=1)

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        for name, section in x.items():
            need(name in SCHEMA, f"{path}.{name}", f"unknown dimension (known: {', '.join(KNOWN_DIMENSIONS)})")
            SCHEMA[name][1].check(f"{path}.{name}", section, doc)
        _consistent(path, x)


def _consistent(path: str, dims: dict) -> None:
    """Cross-dimension consistency of valid sections."""
    for name in dims:
        missing = [n for n in NEEDS.get(name, ()) if n not in dims]
        need(not missing, f"{path}.{name}", f"reads the {', '.join(missing)} section(s): add them too")
    if "composite_segment" in dims and "wealth_tier" in dims:
        tier = dims["composite_segment"]["high_asset_min_tier"]
        values = [b["value"] for b in dims["wealth_tier"]["bands"]]
        need(
            tier in values,
            f"{path}.composite_segment.high_asset_min_tier",
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
                need(
                    longest <= limit,
                    f"{path}.{dim}",
                    f"joined {key} can reach {longest} characters, more than the {limit} a tag can hold",
                )
    if "cooperation_depth" in dims:
        need(
            len(dims["cooperation_depth"]["classes"]) == 3,
            f"{path}.cooperation_depth.classes",
            "needs exactly three classes: basic service, comprehensive, ecosystem synergy",
        )
    if "aml_risk" in dims:
        w = dims["aml_risk"]
        need(
            w["ratings"][-1]["min"] <= 100,
            f"{path}.aml_risk.ratings",
            "rating bands must start at or below 100, the highest score",
        )
        defined = {f for g in w["groups"].values() for f in g["factors"]}
        for f in w.get("minimum_rating", {}):
            need(f in defined, f"{path}.aml_risk.minimum_rating.{f}", "no group scores this factor")
    if "value_contribution" in dims:
        need(
            any(v > 0 for v in dims["value_contribution"]["weights"].values()),
            f"{path}.value_contribution.weights",
            "at least one weight must be above 0",
        )


class Version:
    def check(self, path: str, x: Any, doc: dict) -> None:
        need(
            isinstance(x, (str, int, float)) and str(x).strip() != "",
            path,
            'must be a version text such as "2026.2"',
        )


class Rates(DictOf):
    """Currency → its rate to CNY."""

    def __init__(self) -> None:
        super().__init__(Num(lo=0))

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        need(all(v > 0 for v in x.values()), path, "every rate must be above 0")


# The whole standard, block by block, checked in this order (the blocks after `dimensions` may
# name its bands and values). A new block is one more line here and its declaration.
DOCUMENT = Map(
    {
        "version": Version(),
        "?name": Str(),
        "?currency": Str(),
        "fx_to_cny": Rates(),
        "dimensions": Dimensions(),
        "?governance": GOVERNANCE,
        "?alerts": ALERTS,
        "?playbook": PLAYBOOK,
        "?actions": ACTIONS,
    },
    defaults={"alerts": {}},  # no `alerts:` block means every default, which must fit the standard's bands
)


def _validate(doc: Any) -> None:
    need(isinstance(doc, dict), "", "must be a YAML mapping")
    DOCUMENT.check("", doc, doc)  # paths start with "." here; trimmed when reported


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
        check_size(text)
        loader = yaml.SafeLoader(text)  # composed once: the tree gives the lines, then the values
        try:
            tree = loader.get_single_node()
            check_expansion(tree)  # before anything walks it as written out
            lines, doc = _lines(tree), loader.construct_document(tree) if tree is not None else None
        finally:
            loader.dispose()
    except Unbounded as exc:
        where = f"{src}, line {exc.line}" if exc.line else src
        raise InvalidStandard(f"{where}: {exc}", line=exc.line) from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise InvalidStandard(f"{src}: nested too deeply to be a standard") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{src}, line {mark.line + 1}" if mark else src
        raise InvalidStandard(
            f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})", line=mark.line + 1 if mark else None
        ) from None
    try:
        _validate(doc)
    except Refused as fail:
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
        playbook=doc.get("playbook"),
        actions=doc.get("actions"),
        text=text,
    )
