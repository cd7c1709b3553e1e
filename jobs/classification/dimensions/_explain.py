"""Explanations as templates: a tag keeps a short rule key and its inputs; the words are made
when the tag is read, in the reader's language, from the key, the inputs and the standard of
the run that read it.

A run used to render every tag's reason in Python and store it (about 12 µs and 200 bytes a
tag, 19M tags at 1M customers); now a worker writes a key such as `@1` or, for the standards'
first-match rules, `@m2.5` (rule 2 fired; bit i set: that rule's test i held), and only the
tags someone reads are put into words. A rule text that is not a key (stored before keys) is
shown as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import orjson

from clientstrata.jobs.classification.standard import rule_tests

from ._tags import fmt

__all__ = [
    "KEY",
    "Lang",
    "LANGS",
    "is_key",
    "inputs_dict",
    "match_keys",
    "match_words",
    "arrow",
    "family_names",
    "feature_name",
]

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")
KEY = "@1"  # the one key of a dimension whose words follow from its inputs alone


def is_key(rule: object) -> bool:
    return isinstance(rule, str) and rule.startswith("@")


def inputs_dict(inputs: object) -> dict:
    """A tag's inputs as a dict, whether the reader got JSON text or the decoded object."""
    if isinstance(inputs, (str, bytes)):
        return orjson.loads(inputs)
    return dict(inputs or {})


def arrow(tag: Mapping, lang: Lang) -> str:
    """`→ label`: the class a rule gave, in the reader's words (English keeps the Chinese term
    beside it, as a bank's English documents do)."""
    if lang == "zh":
        return f"→ {tag['label_zh']}"
    return f"→ {tag['label_en']} ({tag['label_zh']})"


# Chinese names of the features the standard's first-match rules test; a boolean feature has
# its words when it holds and when it does not. A feature not listed keeps its own name.
_ZH_NAMES = {
    "age": "年龄",
    "children": "子女数",
    "household_size": "家庭人数",
    "annual_income": "年收入",
    "aum": "资产",
    "aum_before": "回看期初资产",
    "aum_change": "资产变动率",
    "tenure_years": "合作年限",
    "investment_families": "投资类产品种数",
    "max_risk_level": "最高产品风险等级",
    "credit_score": "信用评分",
    "debt_to_income": "负债收入比",
    "days_past_due": "逾期天数",
    "loans_outstanding": "贷款余额",
    "debt_to_revenue": "负债营收比",
    "r": "近度R",
    "f": "频度F",
    "m": "金额M",
    # the graph's ties to other customers (cooperation_depth's ecosystem links)
    "payroll_employer": "代发工资单位",
    "controls": "控制企业",
    "household_members": "家庭成员",
    "co_holders": "联名账户持有人",
    "supply_chain": "供应链往来企业",
}
# the bundle's product families (jobs/ingest/bundle.md) as a Chinese reader names them; a code
# in Chinese text reads as a gap in the translation, so a family not listed keeps its code only
# until it is named here
_ZH_FAMILIES = {
    "deposit": "存款",
    "wealth_management": "理财",
    "fund": "基金",
    "insurance": "保险",
    "loan": "贷款",
    "card": "银行卡",
}
_ZH_FLAGS = {
    "retired": ("已退休", "未退休"),
    "parent_with_children": ("有子女", "无子女"),
    "has_mortgage": ("有房贷", "无房贷"),
    "salaried": ("有工资收入", "无工资收入"),
    "professional_investor": ("专业投资者", "非专业投资者"),
    "loan_in_debt": ("有欠款贷款", "无欠款贷款"),
    "loan_unpaid": ("有到期未还贷款", "无到期未还贷款"),
    "has_loan_history": ("有贷款记录", "无贷款记录"),
}


def feature_name(feat: str, lang: Lang) -> str:
    return _ZH_NAMES.get(feat, feat) if lang == "zh" else feat


def family_names(families, lang: Lang) -> list[str]:
    """Product family codes as the reader's words: Chinese names in Chinese, the codes in English."""
    return [_ZH_FAMILIES.get(f, f) for f in families] if lang == "zh" else list(families)


def _flag(feat: str, holds: bool, lang: Lang) -> str:
    if lang == "zh" and feat in _ZH_FLAGS:
        return _ZH_FLAGS[feat][0 if holds else 1]
    if lang == "zh":
        return feat if holds else f"非{feat}"
    return feat if holds else f"not {feat}"


_HELD = {"_min": "≥", "_max": "≤", "_below": "<", "_above": ">", "_in": "in"}
_FAILED = {"_min": "<", "_max": ">", "_below": "≥", "_above": "≤", "_in": "not in"}
_IN_ZH = {"in": "属于", "not in": "不属于"}


def _threshold(op: str, thr) -> str:
    return fmt(thr) if op != "_in" else "[" + ", ".join(fmt(x) for x in thr) + "]"


def _test_words(feat: str, op: str, thr, value, held: bool, lang: Lang) -> str:
    if op == "":  # a flag: the test holds when the flag equals thr
        return _flag(feat, bool(thr) == held, lang)
    v = fmt(value)
    name = feature_name(feat, lang)
    if v == "unknown":
        return f"{name}未知" if lang == "zh" else f"{feat} unknown"
    sym = (_HELD if held else _FAILED)[op]
    if lang == "zh":
        sym = _IN_ZH.get(sym, sym)
    return f"{name} {v} {sym} {_threshold(op, thr)}"


def match_keys(pick: np.ndarray, bits: np.ndarray) -> list[str]:
    """`@m<rule>.<bits>` per row, formatted once per distinct pair (a partition has few)."""
    if len(pick) == 0:
        return []
    pairs = np.stack([np.asarray(pick, dtype=np.int64), np.asarray(bits, dtype=np.int64)], axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    words = np.array([f"@m{i}.{b}" for i, b in uniq.tolist()], dtype=object)
    return words[inverse.reshape(-1)].tolist()


def _parse_match(rule: str) -> tuple[int, int]:
    index, _, bits = rule[2:].partition(".")
    return int(index), int(bits or 0)


def match_words(rule: str, rules: Sequence[dict], inputs: Mapping, lang: Lang) -> str:
    """Why a first-match rule fired (the tests that held, joined by and/or), or, for the catch-all,
    why each rule above it did not (the tests that failed), from the key `first_match` wrote."""
    index, bits = _parse_match(rule)
    rules = list(rules)
    fired = rules[index]
    kind = "any" if "any" in fired else "all" if "all" in fired else None
    if kind is not None:
        parts = [
            _test_words(feat, op, thr, inputs.get(feat), True, lang)
            for i, (feat, op, thr) in enumerate(rule_tests(fired[kind]))
            if bits >> i & 1
        ]
        if lang == "zh":
            return (" 或 " if kind == "any" else " 且 ").join(parts)
        return (" or " if kind == "any" else " and ").join(parts)
    why, bit = [], 0
    for r in rules[:index]:
        kind = "any" if "any" in r else "all"
        failed = []
        for feat, op, thr in rule_tests(r[kind]):
            if bits >> bit & 1:
                failed.append(_test_words(feat, op, thr, inputs.get(feat), False, lang))
            bit += 1
        if lang == "zh":
            why.append(f"非{r['label_zh']}（{('，' if kind == 'any' else ' 或 ').join(failed)}）")
        else:
            why.append(f"not {r['label_en']} ({(', ' if kind == 'any' else ' or ').join(failed)})")
    if not why:
        return "无适用规则" if lang == "zh" else "no rule applies"
    return ("；" if lang == "zh" else "; ").join(why)
