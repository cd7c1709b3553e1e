"""ARCHITECTURE.md is the map a newcomer opens first: every path it names exists, and every
package and module of ours is on it, so a file added or moved without the map fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
LAYERS = ("api", "cli", "graph", "jobs", "sdk")
SPAN = re.compile(r"`([^`\n]+)`")


def _rows() -> dict[str, str]:
    """Each table row of 'Where each concept lives', keyed by the paths in its first columns."""
    rows = {}
    for line in TEXT.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1]:
            for path in SPAN.findall(cells[1]):
                rows[path.rstrip("/")] = cells[2]
    return rows


def test_every_path_named_exists():
    tops = (*LAYERS, "docs", "tests", "notebooks")
    named = [s for s in SPAN.findall(TEXT) if s.split("/")[0] in tops and "/" in s and not set(s) & set(" <*→")]
    assert named, "no paths found in ARCHITECTURE.md"
    assert [p for p in named if not (ROOT / p.rstrip("/")).exists()] == []


def test_every_package_and_module_is_on_the_map():
    rows = _rows()
    missing = []
    for layer in LAYERS:
        for init in sorted((ROOT / layer).rglob("__init__.py")):
            package = init.parent.relative_to(ROOT).as_posix()
            if "migrations" in package:
                continue  # alembic's folder, named as `migrations/` in graph/record's row
            parent = package.rsplit("/", 1)[0]
            listed = package in rows or any(
                f"`{init.parent.name}" in rows.get(p, "") for p in (parent, f"{parent}/<area>")
            )
            if not listed and package not in LAYERS:
                missing.append(package)
            # the modules of a jobs or graph package are each named in its row
            if package in rows and package.startswith(("jobs/", "graph/")):
                for module in sorted(init.parent.glob("*.py")):
                    if module.stem != "__init__" and not module.stem.startswith("_"):
                        if f"`{module.stem}" not in rows[package]:
                            missing.append(f"{package}/{module.name}")
    assert missing == []
