"""docs/errors.md is the exception tree: every exception class defined in our packages (api, cli,
graph, jobs, sdk) has a row there with its module, parent and code as the code has them, and the
page lists no class that is gone. Read from the imported modules, so a class added anywhere
(public or private) without its row fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "errors.md"
LAYERS = ("api", "cli", "graph", "jobs", "sdk")
# | `Class` | `module.py` | `Parent` | `CODE` or — | raised when | translated where |
ROW = re.compile(
    r"^\|\s*`(?P<name>\w+)`\s*\|\s*`(?P<module>[\w/]+\.py)`\s*\|\s*`(?P<parent>\w+)`\s*\|\s*(?:`(?P<code>\w+)`|—)\s*\|",
    re.MULTILINE,
)


def defined_exceptions() -> dict[tuple[str, str], type]:
    """(module path, class name) → class, for every exception class our modules define."""
    found = {}
    for layer in LAYERS:
        package = importlib.import_module(f"clientstrata.{layer}")
        names = [package.__name__] + [m.name for m in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]
        for name in names:
            if name.endswith(".migrations.env"):  # Alembic's script: importing it connects to a database
                continue
            for cls in vars(importlib.import_module(name)).values():
                if isinstance(cls, type) and issubclass(cls, BaseException) and cls.__module__ == name:
                    path = Path(inspect.getfile(cls)).resolve().relative_to(ROOT).as_posix()
                    found[(path, cls.__name__)] = cls
    return found


def documented() -> dict[tuple[str, str], tuple[str, str | None]]:
    """(module path, class name) → (parent, code) for every row of the reference table."""
    return {(m["module"], m["name"]): (m["parent"], m["code"]) for m in ROW.finditer(DOC.read_text(encoding="utf-8"))}


def test_every_exception_class_is_in_docs_errors_md():
    defined, rows = defined_exceptions(), documented()
    assert ("graph/errors.py", "ClientStrataError") in defined and ("sdk/_errors.py", "APIError") in defined
    missing = sorted(f"{module}: {name}" for module, name in defined.keys() - rows.keys())
    assert missing == [], f"add these exception classes to docs/errors.md: {missing}"
    gone = sorted(f"{module}: {name}" for module, name in rows.keys() - defined.keys())
    assert gone == [], f"docs/errors.md lists classes that are not defined there: {gone}"


def test_docs_errors_md_gives_each_class_its_parent_and_code():
    defined = defined_exceptions()
    wrong = []
    for key, (parent, code) in documented().items():
        cls = defined.get(key)
        if cls is None:
            continue  # reported by the test above
        actual = (cls.__bases__[0].__name__, getattr(cls, "code", None))
        if (parent, code) != actual:
            wrong.append(f"{key[0]}: {key[1]} is documented as {(parent, code)}, is {actual}")
    assert wrong == []


def test_the_reader_sees_a_row():
    """The check is only as good as its reading of the table."""
    text = "| `Gone` | `jobs/x.py` | `InvalidInput` | `INVALID_INPUT` | when | where |\n| `B` | `sdk/y.py` | `A` | — | x | y |"
    assert {(m["module"], m["name"], m["parent"], m["code"]) for m in ROW.finditer(text)} == {
        ("jobs/x.py", "Gone", "InvalidInput", "INVALID_INPUT"),
        ("sdk/y.py", "B", "A", None),
    }
