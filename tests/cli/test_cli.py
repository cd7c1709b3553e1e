"""The `clientstrata` command end to end, as a user runs it: --json puts one JSON object on the
last line; a failure exits 1 with a one-line reason and no stack trace."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def run(tmp_path, *args, ok=True):
    env = {**os.environ, "CLIENTSTRATA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CLIENTSTRATA_PROGRESS": "0"}
    env.pop("CLIENTSTRATA_NEO4J_URI", None)
    p = subprocess.run(
        [sys.executable, "-m", "clientstrata.cli.main", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert (p.returncode == 0) is ok, p.stderr
    assert "Traceback" not in p.stderr
    return p


def reason(p) -> list[str]:
    """stderr without the line that names the database: what went wrong, one line."""
    return [line for line in p.stderr.strip().splitlines() if not line.startswith("clientstrata: database ")]


def last_json(p) -> dict:
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_pipeline_with_json(tmp_path):
    out = tmp_path / "bundle"
    gen = last_json(run(tmp_path, "generate", "--customers", "200", "--seed", "3", "--out", str(out), "--json"))
    assert gen["rows"]["individuals"] == 200
    ing = last_json(run(tmp_path, "ingest", str(out), "--json"))
    assert ing["read"] == sum(gen["rows"].values()) == ing["loaded"] + ing["quarantined"]
    assert ing["quarantined"] == 0
    sync = last_json(run(tmp_path, "sync-graph", "--json"))
    assert sync["counts"]["Individual"] == 200
    first = last_json(run(tmp_path, "classify", "--json"))
    second = last_json(run(tmp_path, "classify", "--json"))
    assert second["run_id"] == first["run_id"] + 1
    assert sum(first["distribution"]["wealth_tier"].values()) == 200
    # points: the second run posted nothing the first had (one posting per source)
    import sqlalchemy as sa

    with sa.create_engine(f"sqlite:///{tmp_path / 'cli.db'}").connect() as conn:
        cid, balance = conn.execute(
            sa.text("SELECT customer_id, balance FROM points_accounts ORDER BY balance DESC")
        ).first()
    points = last_json(run(tmp_path, "strategy", "points", cid, "--first", "500", "--json"))
    assert points["balance"] == balance == sum(p["points"] for p in points["postings"]) > 0
    assert len({p["source"] for p in points["postings"]}) == len(points["postings"])
    assert "points (积分)" in run(tmp_path, "strategy", "points", cid).stdout
    again = last_json(run(tmp_path, "ingest", str(out), "--json"))
    assert again["read"] == ing["read"] and all(t["new"] == 0 for t in again["tables"].values())


def test_failures_are_one_line_with_exit_1(tmp_path):
    p = run(tmp_path, "ingest", str(tmp_path / "missing"), "--json", ok=False)
    assert "error" in last_json(p)
    assert len(reason(p)) == 1 and reason(p)[0].startswith("clientstrata ingest:")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndimensions: [\n")
    p = run(tmp_path, "classify", "--standard", str(bad), ok=False)
    assert "line" in p.stderr and len(reason(p)) == 1


def test_tokens_are_shown_once(tmp_path):
    made = last_json(run(tmp_path, "token", "create", "--role", "marketing_analyst", "--name", "bi", "--json"))
    listed = last_json(run(tmp_path, "token", "list", "--json"))
    assert made["token"] not in json.dumps(listed)
    assert [t["role"] for t in listed["tokens"]] == ["marketing_analyst"]
    assert last_json(run(tmp_path, "token", "revoke", str(made["token_id"]), "--json"))["revoked"]
    p = run(tmp_path, "token", "create", "--role", "relationship_manager", "--name", "li", ok=False)
    assert "--rm-id" in p.stderr


def test_serve_with_worker_processes(tmp_path):
    import signal
    import socket
    import time

    import httpx

    token = last_json(run(tmp_path, "token", "create", "--role", "service_agent", "--name", "w", "--json"))["token"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CLIENTSTRATA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    env.pop("CLIENTSTRATA_NEO4J_URI", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "clientstrata.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline and server.poll() is None, "serve --workers 2 did not become ready"
            time.sleep(0.3)
        r = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ customers { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.json()["data"] == {"customers": {"totalCount": 0}}

        def workers() -> set[str]:
            found = subprocess.run(["pgrep", "-P", str(server.pid), "-f", "spawn_main"], capture_output=True, text=True)
            return set(found.stdout.split())

        first = workers()
        assert len(first) == 2
        # a worker that dies is replaced, and the port keeps answering
        os.kill(int(min(first)), signal.SIGKILL)
        deadline = time.time() + 60
        while len(workers()) != 2 or workers() == first:
            assert time.time() < deadline, "the dead worker was not replaced"
            time.sleep(0.3)
        for _ in range(4):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(30)


def test_ingest_as_of_quarantines_later_events(tmp_path):
    """--as-of is the date the data describes: a branch file loads, an RM hired after it does not."""
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "branches.csv").write_text("branch_id,name\nB1,东城支行\n", encoding="utf-8")
    (out / "relationship_managers.csv").write_text(
        "rm_id,name,branch_id,hired_on\nRM1,王经理,B1,2020-01-01\nRM2,李经理,B1,2026-11-01\n", encoding="utf-8"
    )
    p = run(tmp_path, "ingest", str(out), "--as-of", "2026-10-31", "--json", ok=False)
    assert p.returncode == 3  # loaded, with rows quarantined
    rms = last_json(p)["tables"]["relationship_managers"]
    assert (rms["loaded"], rms["quarantined"]) == (1, 1)
    assert rms["top_reasons"][0]["reason"].startswith("hired_on: after the as-of date")
