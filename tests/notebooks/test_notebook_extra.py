"""The `notebook` extra holds what docs/sdk.md#notebook promises: JupyterLab to open the notebooks,
ipywidgets so the SDK's tqdm bars draw as widgets, matplotlib for the charts."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_notebook_extra_has_jupyterlab_ipywidgets_and_matplotlib():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["optional-dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in extras["notebook"]}
    assert names == {"jupyterlab", "ipywidgets", "matplotlib"}
    assert ".[notebook]" in (ROOT / "docs" / "sdk.md").read_text("utf-8")
