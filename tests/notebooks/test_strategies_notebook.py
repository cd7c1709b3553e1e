"""notebooks/strategies.ipynb: checked in clean, SDK only, and executed on a real kernel against
the API live on loopback over a bank of the test's own, whose record the simulate step writes."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from clientstrata.sdk import Client

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "strategies.ipynb"


def test_checked_in_without_outputs_and_imports_only_the_sdk():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    tree = ast.parse("\n".join(c.source for c in code))
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names} == {"clientstrata.sdk"}


@pytest.mark.slow
def test_the_campaign_plan_and_its_measured_effect_against_a_live_api(
    server, loaded, make_token, monkeypatch, tmp_path
):
    engine, _ = loaded
    token = make_token("marketing_analyst")
    client = Client(server, token, progress=False)
    assert client.strategy_effect()["contacted"].sum() == 0  # no campaign yet: the notebook simulates one
    for name, value in {
        "CLIENTSTRATA_API_URL": server,
        "CLIENTSTRATA_API_TOKEN": token,
        "CLIENTSTRATA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CLIENTSTRATA_PROGRESS": "0",
    }.items():
        monkeypatch.setenv(name, value)  # the kernel, and the simulate step it starts, inherit them
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)
    planned = client.actions(tier="wealth")
    assert len(planned) > 0
    assert f"{len(planned):,} actions for the wealth segment, {planned['customer_id'].nunique():,} customers" in text
    value = (planned["propensity"] * planned["value"]).sum()
    assert f"expected value of the campaign: CNY {value:,.0f}" in text
    effect = client.strategy_effect()  # what the notebook read after its simulated campaign
    arms = effect[(effect["segment"] == "wealth") & (effect["control"] > 0)]
    assert f"control group: {arms['control'].sum():,} customer-actions held out" in text
    visits = effect[(effect["segment"] == "all") & (effect["action_key"] == "care_visit")].iloc[0]
    assert visits["contacted"] > 0 and visits["uplift"] > 0.1  # the planted effect (+25%) is what it measured
    line = re.search(r"^care_visit: converted (\S+) of (\S+) treated", text, re.MULTILINE)
    assert line and (line[1], line[2]) == (f"{visits['converted']:,}", f"{visits['offered']:,}")
