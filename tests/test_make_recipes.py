"""`make demo` and `make serve` refuse a taken port before minutes of work, and `make serve`
needs the demo's data, not a rebuild (issue 14: the operator)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not (ROOT / ".venv/bin/clientstrata").exists(), reason="needs make env")


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def taken_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_taken_port_is_refused_naming_the_port_and_the_way_out(taken_port):
    done = make("port-free", f"PORT={taken_port}")
    assert done.returncode != 0
    assert f"port {taken_port} is in use" in done.stderr
    assert "PORT=8001" in done.stderr


def test_a_free_port_passes():
    assert make("port-free", f"PORT={free_port()}").returncode == 0


def test_demo_checks_the_port_before_it_generates_a_bank():
    plan = make("-n", "demo", f"PORT={free_port()}").stdout
    assert "connect_ex" in plan and "clientstrata generate" in plan
    assert plan.index("connect_ex") < plan.index("clientstrata generate")


def test_demo_with_a_taken_port_refuses_without_touching_the_demo_data(taken_port, tmp_path):
    demo = tmp_path / "demo"
    done = make("demo", f"PORT={taken_port}", f"DEMO={demo}")
    assert done.returncode != 0 and "in use" in done.stderr
    assert not demo.exists()


def test_serve_without_demo_data_says_to_run_make_demo(tmp_path):
    done = make("serve", f"PORT={free_port()}", f"DEMO={tmp_path / 'none'}")
    assert done.returncode != 0
    assert "run make demo first" in done.stdout + done.stderr


def test_demo_simulates_a_campaign_after_classifying_so_the_effect_has_outcomes():
    plan = make("-n", "demo", f"PORT={free_port()}").stdout
    assert "clientstrata strategy simulate" in plan
    assert (
        plan.index("clientstrata classify")
        < plan.index("clientstrata strategy simulate")
        < plan.index("clientstrata serve")
    )
