"""notebooks/quickstart.ipynb: checked in clean, SDK only, and executed on a real kernel against the
API live on loopback."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from clientstrata.sdk import Client

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"


def test_checked_in_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_uses_the_sdk_and_nothing_of_the_server():
    """An analyst installs the SDK (the base install) and matplotlib; nothing else is imported."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tree = ast.parse("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    third_party = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names}
    assert third_party == {"clientstrata.sdk", "matplotlib.pyplot"}
    base = {
        re.split(r"[\[<>=]", d)[0]
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    assert base == {"gql", "httpx", "pandas", "tqdm"}  # matplotlib and the kernel stay out of it


@pytest.mark.slow
def test_quickstart_runs_against_a_live_api(server_ro, make_token_ro, monkeypatch, tmp_path):
    token = make_token_ro("marketing_analyst")
    monkeypatch.setenv("CLIENTSTRATA_API_URL", server_ro)  # the kernel inherits the environment
    monkeypatch.setenv("CLIENTSTRATA_API_TOKEN", token)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)
    expected = Client(server_ro, token, progress=False).customers()
    assert f"{len(expected):,} customers" in text
    for tier, n in expected["wealth_tier"].value_counts().items():  # the notebook's table is the live distribution
        assert re.search(rf"^{tier}\s+{n}\s", text, re.MULTILINE), f"{tier} {n} missing from\n{text}"
    assert f"{(expected['wealth_tier'] == 'wealth').sum():,} wealth-tier customers" in text  # filtered on the server
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1  # the bar chart
    assert "'id': 'H0000001'" in text  # the household's .attrs
