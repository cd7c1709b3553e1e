"""The small declarative schema the standard is written in: specs that check a YAML value.

Each spec has `check(path, value, doc)`: `path` names the value (`.alerts.dormant.severity`),
`doc` is the whole document, for values that must name something the document itself holds
(a wealth_tier band, a dimension). A spec refuses a value by raising `Refused(path, problem)`;
`parse_standard` turns that into an `InvalidStandard` with the file and the line of `path`.
Declaring a new block of the standard means composing these, not writing checks by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "Refused",
    "need",
    "is_num",
    "fmt",
    "Anything",
    "Num",
    "Str",
    "Template",
    "Bool",
    "OneOf",
    "ListOf",
    "DictOf",
    "Map",
    "Toggle",
    "Maybe",
    "Label",
    "Labelled",
    "Bands",
    "Ascending",
]


class Refused(Exception):
    """A value the schema refuses: where (`path`) and why (`problem`)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem = path, problem


def need(cond: bool, path: str, problem: str) -> None:
    if not cond:
        raise Refused(path, problem)


def is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def fmt(x: Any) -> str:
    return f"{x:,}" if is_num(x) else repr(x)


class Anything:
    def check(self, path: str, x: Any, doc: dict) -> None:
        pass


class Num:
    """A number in [lo, hi]. `says` words every refusal as "must be <says> (got x)" where one
    sentence reads better than the three default ones."""

    def __init__(
        self, lo: float | None = None, hi: float | None = None, integer: bool = False, says: str | None = None
    ) -> None:
        self.lo, self.hi, self.integer, self.says = lo, hi, integer, says

    def check(self, path: str, x: Any, doc: dict) -> None:
        kind = "a whole number" if self.integer else "a number"
        ok = is_num(x) and (not self.integer or float(x).is_integer())
        if self.says is not None:
            in_range = ok and (self.lo is None or x >= self.lo) and (self.hi is None or x <= self.hi)
            need(in_range, path, f"must be {self.says} (got {x!r})")
            return
        need(ok, path, f"must be {kind}, not {x!r}")
        need(self.lo is None or x >= self.lo, path, f"{fmt(x)} is below the smallest allowed value {fmt(self.lo)}")
        need(self.hi is None or x <= self.hi, path, f"{fmt(x)} is above the largest allowed value {fmt(self.hi)}")


class Str:
    def __init__(self, choices: tuple[str, ...] | None = None, max_len: int | None = None) -> None:
        self.choices, self.max_len = choices, max_len

    def check(self, path: str, x: Any, doc: dict) -> None:
        need(isinstance(x, str) and x != "", path, f"must be a non-empty text, not {x!r}")
        need(
            self.max_len is None or len(x) <= self.max_len,
            path,
            f"{x!r} is longer than {self.max_len} characters, the most a tag can hold",
        )
        need(self.choices is None or x in self.choices, path, f"{x!r} is not one of {', '.join(self.choices or ())}")


class Template(Str):
    """A label with `{n}` where the decile number goes."""

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        need("{n}" in x, path, "must contain {n}, where the decile number goes")


class Bool:
    def check(self, path: str, x: Any, doc: dict) -> None:
        need(isinstance(x, bool), path, f"must be true or false, not {x!r}")


class OneOf:
    """One of `values`: fixed, or read from the document (`values(doc)`, e.g. the wealth_tier
    bands of this standard; nothing is checked when the document lists none). `says` words the
    refusal, with `{x!r}` and `{allowed}`."""

    def __init__(
        self, values: Sequence[str] | Callable[[dict], Sequence[str]], says: str = "{x!r} is not one of {allowed}"
    ) -> None:
        self.values, self.says = values, says

    def check(self, path: str, x: Any, doc: dict) -> None:
        allowed = list(self.values(doc) if callable(self.values) else self.values)
        need(not allowed or x in allowed, path, self.says.format(x=x, allowed=", ".join(map(str, allowed))))


class ListOf:
    def __init__(self, item, min_len: int = 0, unique: bool = False) -> None:
        self.item, self.min_len, self.unique = item, min_len, unique

    def check(self, path: str, x: Any, doc: dict) -> None:
        need(isinstance(x, list), path, "must be a list")
        need(len(x) >= self.min_len, path, f"needs at least {self.min_len} entries")
        for i, v in enumerate(x):
            self.item.check(f"{path}[{i}]", v, doc)
        if self.unique:
            need(len(set(map(str, x))) == len(x), path, "entries must be distinct")


class DictOf:
    """A mapping with free keys (from `keys` when given) and values of one kind."""

    def __init__(self, value, keys: tuple[str, ...] | None = None, min_len: int = 0) -> None:
        self.value, self.keys, self.min_len = value, keys, min_len

    def check(self, path: str, x: Any, doc: dict) -> None:
        need(isinstance(x, dict), path, "must be a mapping")
        need(len(x) >= self.min_len, path, f"needs at least {self.min_len} entries")
        for k, v in x.items():
            need(
                self.keys is None or k in self.keys, f"{path}.{k}", f"unknown key (known: {', '.join(self.keys or ())})"
            )
            self.value.check(f"{path}.{k}", v, doc)


class Map:
    """A mapping with declared fields; `?name` marks an optional one. Unknown keys are refused
    (`unknown` words it). An optional field absent from the file takes its value from `defaults`,
    and that value is checked too: a default may name something this document lacks (a band)."""

    def __init__(
        self, fields: dict, extra: bool = False, defaults: dict | None = None, unknown: str = "unknown key"
    ) -> None:
        self.fields = {k.lstrip("?"): (v, not k.startswith("?")) for k, v in fields.items()}
        self.extra, self.defaults, self.unknown = extra, defaults or {}, unknown
        assert set(self.defaults) <= {k for k, (_, required) in self.fields.items() if not required}, self.defaults

    def check(self, path: str, x: Any, doc: dict) -> None:
        need(isinstance(x, dict), path, "must be a mapping")
        for k, (spec, required) in self.fields.items():
            if k in x:
                spec.check(f"{path}.{k}", x[k], doc)
            elif k in self.defaults:
                spec.check(f"{path}.{k}", self.defaults[k], doc)
            else:
                need(not required, path, f"missing {k}")
        if not self.extra:
            for k in x:
                need(k in self.fields, f"{path}.{k}", f"{self.unknown} (known: {', '.join(self.fields)})")


class Toggle:
    """An entry that `false` switches off and an empty value leaves at its defaults; anything
    else is checked by `spec` (a `Map` whose defaults fill what the file omits)."""

    def __init__(self, spec: Map, says: str = "must be a mapping of settings, or false to switch it off") -> None:
        self.spec, self.says = spec, says

    def check(self, path: str, x: Any, doc: dict) -> None:
        if x is False:
            return
        need(x is None or isinstance(x, dict), path, self.says)
        self.spec.check(path, x or {}, doc)


class Maybe:
    """`spec`, or empty (null): the file states the key but leaves it to the defaults."""

    def __init__(self, spec) -> None:
        self.spec = spec

    def check(self, path: str, x: Any, doc: dict) -> None:
        if x is not None:
            self.spec.check(path, x, doc)


def Label(**more) -> Map:
    # lengths of the tags table's columns (graph/record/models.py Tag)
    return Map({"value": Str(max_len=40), "label_zh": Str(max_len=40), "label_en": Str(max_len=60), **more})


class Labelled(ListOf):
    """A list of labelled entries with distinct values."""

    def __init__(self, min_len: int = 1, exact: tuple[str, ...] | None = None, **more) -> None:
        super().__init__(Label(**more), min_len)
        self.exact = exact

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        values = [e["value"] for e in x]
        for i, v in enumerate(values):
            need(v not in values[:i], f"{path}[{i}]", f"value {v!r} appears twice")
        if self.exact is not None:
            need(
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

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        need(x[0]["min"] == 0, f"{path}[0]", "the first band must start at min 0 so every customer has one")
        for i in range(1, len(x)):
            need(
                x[i]["min"] > x[i - 1]["min"],
                f"{path}[{i}]",
                f"min {fmt(x[i]['min'])} overlaps the band before it (min {fmt(x[i - 1]['min'])}); bands must ascend",
            )


class Ascending:
    """A list of `n` numbers, strictly ascending (or descending)."""

    def __init__(self, n: int, descending: bool = False) -> None:
        self.n, self.descending = n, descending

    def check(self, path: str, x: Any, doc: dict) -> None:
        need(
            isinstance(x, list) and len(x) == self.n and all(is_num(v) for v in x),
            path,
            f"must be a list of {self.n} numbers",
        )
        for i in range(1, len(x)):
            ok = x[i] < x[i - 1] if self.descending else x[i] > x[i - 1]
            need(
                ok,
                f"{path}[{i}]",
                f"{fmt(x[i])} must be {'below' if self.descending else 'above'} "
                f"the threshold before it ({fmt(x[i - 1])})",
            )
