"""Classification standards: versioned YAML files with thresholds, bands and labels."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from ..graph.errors import InvalidInput

__all__ = ["Standard", "InvalidStandard", "load_standard", "DEFAULT_STANDARD"]

DEFAULT_STANDARD = "default.yaml"
KNOWN_DIMENSIONS = ("wealth_tier", "cooperation_depth")


class InvalidStandard(InvalidInput):
    """The standard file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Standard:
    version: str
    name: str
    sha256: str
    fx_to_cny: dict[str, float]
    dimensions: dict[str, dict]
    source: str

    def __repr__(self) -> str:
        return f"Standard(version={self.version!r}, dimensions={sorted(self.dimensions)}, source={self.source!r})"


def _need(cond: bool, where: str, problem: str) -> None:
    if not cond:
        raise InvalidStandard(f"{where}: {problem}")


def _check_labels(items: list, where: str) -> None:
    for i, item in enumerate(items):
        _need(isinstance(item, dict), f"{where}[{i}]", "must be a mapping")
        for key in ("value", "label_zh", "label_en"):
            _need(bool(item.get(key)), f"{where}[{i}]", f"missing {key}")


def _validate(doc: dict, src: str) -> None:
    _need(isinstance(doc, dict), src, "must be a YAML mapping")
    for key in ("version", "dimensions", "fx_to_cny"):
        _need(key in doc, src, f"missing top-level key {key!r}")
    dims = doc["dimensions"]
    _need(isinstance(dims, dict), f"{src}: dimensions", "must be a mapping")
    for name in dims:
        _need(name in KNOWN_DIMENSIONS, f"{src}: dimensions.{name}",
              f"unknown dimension (known: {', '.join(KNOWN_DIMENSIONS)})")
    if "wealth_tier" in dims:
        bands = dims["wealth_tier"].get("bands") or []
        where = f"{src}: dimensions.wealth_tier.bands"
        _need(len(bands) >= 2, where, "needs at least two bands")
        _check_labels(bands, where)
        mins = [b.get("min") for b in bands]
        _need(all(isinstance(m, (int, float)) for m in mins), where, "every band needs a numeric min")
        _need(mins[0] == 0, where, "the first band must start at 0 so every customer has a tier")
        for i in range(1, len(mins)):
            _need(mins[i] > mins[i - 1], f"{where}[{i}]",
                  f"min {mins[i]:,} overlaps the band before it (min {mins[i - 1]:,}); bands must ascend")
        for i, b in enumerate(bands):
            m = b.get("downgrade_after_months", 3)
            _need(isinstance(m, int) and m >= 1, f"{where}[{i}]", "downgrade_after_months must be a whole number ≥ 1")
    if "cooperation_depth" in dims:
        cd = dims["cooperation_depth"]
        classes = cd.get("classes") or []
        _need(len(classes) == 3, f"{src}: dimensions.cooperation_depth.classes", "needs exactly three classes")
        _check_labels(classes, f"{src}: dimensions.cooperation_depth.classes")


def load_standard(path: str | Path | None = None) -> Standard:
    """The packaged default standard, or a committee's file."""
    if path is None:
        text = resources.files("clientstrata.jobs").joinpath("standards", DEFAULT_STANDARD).read_text("utf-8")
        src = f"(default) {DEFAULT_STANDARD}"
    else:
        p = Path(path)
        if not p.is_file():
            raise InvalidStandard(f"{p}: no such standard file")
        text, src = p.read_text("utf-8"), str(p)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{src}, line {mark.line + 1}" if mark else src
        raise InvalidStandard(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    _validate(doc, src)
    return Standard(version=str(doc["version"]), name=str(doc.get("name", "")),
                    sha256=hashlib.sha256(text.encode()).hexdigest(),
                    fx_to_cny={k: float(v) for k, v in doc["fx_to_cny"].items()},
                    dimensions=doc["dimensions"], source=src)
