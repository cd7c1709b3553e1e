"""tests/servers/neo4j.sh refuses what Neo4j would refuse, in one line, before any Java starts."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPT = Path(__file__).with_name("neo4j.sh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(password: str, home: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CLIENTSTRATA_NEO4J_PASSWORD": password,
        "CLIENTSTRATA_NEO4J_HOME": str(home),
        "CLIENTSTRATA_NEO4J_BOLT_PORT": str(_free_port()),
    }
    return subprocess.run(["bash", str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=120)


# Neo4j's minimum (dbms.security.auth_minimum_password_length) is 8; an empty value is the default's
@settings(max_examples=15, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii", exclude_characters="\x00"), min_size=1, max_size=7))
def test_a_short_password_is_refused_in_one_line_before_java(tmp_path_factory, password):
    home = tmp_path_factory.mktemp("neo4j-home")
    done = _up(password, home)
    assert done.returncode == 2, done
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "at least 8 characters" in lines[0] and "CLIENTSTRATA_NEO4J_PASSWORD" in lines[0]
    assert not (home / "neo4j.pid").exists() and not any(home.iterdir())  # nothing was started or written


@pytest.mark.parametrize("command", ["down", "status"])
def test_a_short_password_does_not_stop_down_or_status(tmp_path, command):
    env = {**os.environ, "CLIENTSTRATA_NEO4J_PASSWORD": "short", "CLIENTSTRATA_NEO4J_HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=60)
    assert "8 characters" not in done.stderr
    assert done.returncode in (0, 3)  # stopped / not running
