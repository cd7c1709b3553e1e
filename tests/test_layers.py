"""The layer rule (ARCHITECTURE.md): `cli → api → jobs → graph`, each importing only downward;
`sdk` imports nothing of ours and notebooks import only the SDK. Read from the source, so an
import added anywhere, at module level or inside a function, cannot erode the rule."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# each layer and the layers of ours it may import (itself always)
MAY_IMPORT = {
    "cli": {"api", "jobs", "graph"},
    "api": {"jobs", "graph"},
    "jobs": {"graph"},
    "graph": set(),
    "sdk": set(),
}


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in `source`, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "clientstrata" and len(parts) > 1 else None


def violations(layer: str, files: list[Path], root: Path = ROOT) -> list[str]:
    wrong = []
    for path in files:
        rel = path.relative_to(root)
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(["clientstrata", *(parts[:-1] if is_package else parts)])
        for line, name in sorted(imported_modules(path.read_text(encoding="utf-8"), module, is_package)):
            target = layer_of(name)
            if target and target != layer and target not in MAY_IMPORT[layer]:
                wrong.append(f"{rel}:{line} imports {name} ({layer} may not import {target})")
    return wrong


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_layer_imports_only_downward(layer):
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, f"no modules found under {layer}/"
    assert violations(layer, files) == []


def test_notebooks_import_only_the_sdk():
    wrong = []
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!")))
        for line, name in imported_modules(code, "notebook", False):
            if layer_of(name) not in (None, "sdk") or name == "clientstrata":
                wrong.append(f"{nb.name}:{line} imports {name}")
    assert wrong == []


def test_the_checker_sees_a_wrong_import(tmp_path):
    """The rule is only as good as its reading: upward imports, absolute or relative, at module
    level or inside a function, are all reported; a downward one is not."""
    probe = tmp_path / "graph" / "record" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "from clientstrata.graph.errors import NotFound\n"
        "def f():\n    from clientstrata.jobs.runs import pipeline\n"
        "from ...api import schema\n"
    )
    assert violations("graph", [probe], root=tmp_path) == [
        "graph/record/probe.py:3 imports clientstrata.jobs.runs (graph may not import jobs)",
        "graph/record/probe.py:4 imports clientstrata.api (graph may not import api)",
    ]
