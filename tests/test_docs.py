"""The docs are checked against what they describe, so they cannot drift from it silently:
links resolve, benchmark figures are the ones in the results files they cite, the CLI reference
is the parser, and examples name real commands, options, fields, methods and variables."""

from __future__ import annotations

import argparse
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from clientstrata.cli.main import _parser
from clientstrata.jobs.classification.dimensions import ENTERPRISE, INDIVIDUAL
from clientstrata.sdk import Client

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted(DOCS.glob("*.md")), ROOT / "jobs/ingest/bundle.md"]

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """The text outside fenced code blocks (links and code spans there are not markdown)."""
    return FENCE.sub("", text)


def fenced(text: str, lang: str | None = None) -> list[str]:
    return [body for found, body in FENCE.findall(text) if lang is None or found == lang]


def code_texts(text: str) -> list[str]:
    """Every fenced block line and every inline code span."""
    lines = [line for body in fenced(text) for line in body.splitlines()]
    return lines + CODE_SPAN.findall(prose(text))


def tables(text: str) -> list[list[list[str]]]:
    """Markdown tables as rows of cells (header first, separator dropped); `\\|` stays in a cell."""
    found, rows = [], []
    for line in [*prose(text).splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows:
            found, rows = [*found, rows], []
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(read(page)), re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


# --- (a) links ---------------------------------------------------------------------------------


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(read(page))):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not ours to check
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert broken_links(page) == []


def test_a_broken_link_or_anchor_is_caught(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#a-heading) [gone](missing.md) [bad anchor](there.md#no-such)\n"
        "```\n[in code](not-a-link.md)\n```\n[web](https://example.com)\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["missing.md: no such file", "there.md#no-such: no heading #no-such in there.md"]


def test_slugs_follow_github():
    assert slug("The `clientstrata` command") == "the-clientstrata-command"
    assert slug("Alerts (客户跟踪)") == "alerts-客户跟踪"
    assert slug("Routing, atomicity, deduplication") == "routing-atomicity-deduplication"


# --- (b) benchmark figures ---------------------------------------------------------------------

FIGURE = re.compile(r"(-?[\d,]*\d(?:\.(\d+))?)([kM]?)")
SCALE = {"": Decimal(1), "k": Decimal(1000), "M": Decimal(1_000_000)}


def json_at(doc, path: str):
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        doc = doc[int(index)] if index else doc[key]
    return doc


def figure_matches(shown: str, actual) -> bool:
    """`shown` is `actual` rounded half-up to the decimals shown, after its k / M scale."""
    m = FIGURE.fullmatch(shown)
    assert m, f"{shown!r} is not a figure (digits, optional decimals, optional k or M)"
    exact = Decimal(str(actual)) / SCALE[m[3]]
    rounded = exact.quantize(Decimal(1).scaleb(-len(m[2] or "")), rounding=ROUND_HALF_UP)
    return rounded == Decimal(m[1].replace(",", ""))


def checked_figures(page: Path) -> list[tuple[str, str, str, object]]:
    """(results file, JSON path, figure as shown, value in the file) for every figure cell."""
    out = []
    for table in tables(read(page)):
        header, *rows = table
        assert "results file" in header and "JSON path" in header, f"a table without its sources: {header}"
        src, at = header.index("results file"), header.index("JSON path")
        keys = {
            i: (None if h == "figure" else h.strip("`"))
            for i, h in enumerate(header)
            if h == "figure" or re.fullmatch(r"`[^`]+`", h)
        }
        assert keys, f"a table without figure columns: {header}"
        for row in rows:
            (link,) = LINK.findall(row[src])
            (path,) = CODE_SPAN.findall(row[at])
            results = (page.parent / link).resolve()
            doc = json.loads(results.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)
            for i, key in keys.items():
                full = path if key is None else f"{path}.{key}"
                out.append((results.name, full, row[i], json_at(doc, full)))
    return out


def test_benchmark_figures_are_the_results_files():
    figures = checked_figures(DOCS / "benchmarks.md")
    assert len(figures) >= 40  # every table is checked; none was skipped
    wrong = [
        f"{name} {path}: shown {shown}, file {actual}"
        for name, path, shown, actual in figures
        if not figure_matches(shown, actual)
    ]
    assert wrong == []


def test_a_figure_that_disagrees_with_its_file_is_caught():
    assert figure_matches("2,709", Decimal("2709.47")) and not figure_matches("2,710", Decimal("2709.47"))
    assert figure_matches("6,957", Decimal("6956.5"))  # half-up, not to even
    assert figure_matches("26.3k", Decimal("26264.9")) and not figure_matches("26.2k", Decimal("26264.9"))
    assert figure_matches("71.2M", Decimal("71164089")) and not figure_matches("71.2", Decimal("71164089"))
    assert figure_matches("8.0", Decimal("8")) and not figure_matches("8", Decimal("8.6"))


# --- (c) the CLI reference is the parser ---------------------------------------------------------


def cli_tree() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command and sub-command path of `clientstrata`, with its parser."""
    tree, todo = {}, [((), _parser())]
    while todo:
        path, parser = todo.pop()
        tree[path] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo += [((*path, name), sub) for name, sub in action.choices.items()]
    return tree


TREE = cli_tree()
LEAVES = {p for p, parser in TREE.items() if p and not parser._subparsers}


def options(path: tuple[str, ...]) -> set[str]:
    return {o for a in TREE[path]._actions for o in a.option_strings if o.startswith("--")} - {"--help"}


def command_path(text: str) -> tuple[str, ...]:
    """The longest command path that `clientstrata …` in `text` names."""
    path: tuple[str, ...] = ()
    for word in text.split()[1:]:
        if (*path, word) not in TREE:
            break
        path = (*path, word)
    return path


def cli_mentions(text: str) -> list[str]:
    """Each `clientstrata <command> …` invocation in the code of a page, up to a pipe or comment."""
    found = []
    for code in code_texts(text):
        for segment in re.split(r"\s#|[|;]|&&|>", code.replace("\\|", "/")):
            found += [m.group(0) for m in re.finditer(r"(?<![\w.\-/\[])clientstrata\s+[a-z].*", segment)]
    return found


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_commands_and_options_in_the_docs_exist(page):
    for mention in cli_mentions(read(page)):
        path = command_path(mention)
        assert path, f"{page.name}: `{mention}` names no clientstrata command"
        invented = set(re.findall(r"--[a-z][\w-]*", mention)) - options(path)
        assert not invented, f"{page.name}: `{mention}`: {' '.join(path)} has no {sorted(invented)}"


def test_cli_reference_has_every_command_and_option():
    rows: dict[tuple[str, ...], str] = {}
    for table in tables(read(DOCS / "cli.md")):
        for row in table[1:]:
            command = CODE_SPAN.findall(row[0])[0]
            path = command_path(command)
            assert path in LEAVES, f"`{command}` names no clientstrata command"
            text = " ".join(row)
            invented = set(re.findall(r"--[a-z][\w-]*", text)) - options(path)
            assert not invented, f"`{command}`: {' '.join(path)} has no {sorted(invented)}"
            rows[path] = rows.get(path, "") + text
    assert set(rows) == LEAVES, f"undocumented: {sorted(LEAVES - set(rows))}"
    for path, text in rows.items():
        missing = {o for o in options(path) - {"--json"} if o not in re.findall(r"--[a-z][\w-]*", text)}
        assert not missing, f"{' '.join(path)}: {sorted(missing)} undocumented"
        for action in TREE[path]._actions:
            if not action.option_strings and action.choices:
                assert all(f"`{c}`" in text for c in action.choices), f"{' '.join(path)}: a {action.dest} is missing"


# --- (d) tables that are the code -------------------------------------------------------------------


def names_in_row(page: Path, label: str) -> list[str]:
    """The names in code in the second cell of the table row whose first cell starts with `label`."""
    (row,) = [row for table in tables(read(page)) for row in table[1:] if row[0].startswith(label)]
    return CODE_SPAN.findall(row[1])


def test_dimension_table_is_the_registry():
    page = DOCS / "classification.md"
    assert names_in_row(page, "individual") == list(INDIVIDUAL)
    assert names_in_row(page, "enterprise") == list(ENTERPRISE)


def test_alert_table_lists_every_alert_type():
    (alerts_list,) = [a for a in TREE[("alerts", "list")]._actions if a.dest == "type"]
    documented = [CODE_SPAN.findall(row[0])[0] for table in tables(read(DOCS / "alerts.md")) for row in table[1:]]
    assert documented == list(alerts_list.choices)


# --- examples --------------------------------------------------------------------------------------

SCHEMA = build_schema((ROOT / "api" / "schema.graphql").read_text(encoding="utf-8"))


def graphql_examples(text: str) -> list[str]:
    """```graphql blocks, and the queries of curl's `-d '{"query": …}'` in shell blocks."""
    curl = [
        json.loads(body)["query"] for block in fenced(text, "bash") for body in re.findall(r"-d '(\{.*?\})'", block)
    ]
    return fenced(text, "graphql") + curl


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_graphql_examples_validate_against_the_schema(page):
    for example in graphql_examples(read(page)):
        assert validate(SCHEMA, parse(example)) == [], example


def test_readme_shows_a_query():
    assert len(graphql_examples(read(ROOT / "README.md"))) == 2


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_sdk_calls_in_the_docs_exist(page):
    for method in re.findall(r"\bclient\.(\w+)\(", read(page)):
        assert not method.startswith("_") and callable(getattr(Client, method, None)), f"{page.name}: client.{method}"


VARIABLE = re.compile(r"CLIENTSTRATA_[A-Z0-9_]*[A-Z0-9]")


def test_configuration_lists_every_variable_read():
    sources = [
        *[p for layer in ("graph", "api", "jobs", "cli", "sdk") for p in (ROOT / layer).rglob("*.py")],
        *(ROOT / "notebooks").glob("*.ipynb"),
        *(ROOT / "tests" / "servers").glob("*.sh"),
        ROOT / "Makefile",
        ROOT / "tests" / "conftest.py",
        ROOT / "docker-compose.yml",
    ]
    read_somewhere = {v for p in sources for v in VARIABLE.findall(read(p))}
    documented = set(VARIABLE.findall(read(DOCS / "configuration.md")))
    assert read_somewhere - documented == set(), "undocumented"
    assert documented - read_somewhere == set(), "documented but read nowhere"


def test_readme_stays_a_newcomers_page():
    assert len(read(ROOT / "README.md")) < 6000
