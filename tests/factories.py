"""Factories for the governance tests (a pytest plugin of tests/conftest.py): change a customer's data between runs, write a
standard, find a customer by tier; take a database back to an earlier migration."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from clientstrata.jobs.governance.standards import standard_text
from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES


@pytest.fixture
def set_aum(loaded) -> Callable[..., None]:
    """set_aum(customer_id, amount, every_month=False): the customer's month-average AUM in the
    latest month (or every month) becomes `amount` CNY."""
    engine, _ = loaded

    def set_(customer_id: str, amount: float, every_month: bool = False) -> None:
        fams = ", ".join(f"'{f}'" for f in ASSET_FAMILIES)
        with engine.begin() as conn:
            latest = conn.execute(sa.text("SELECT max(month) FROM balances_monthly")).scalar()
            accts = (
                conn.execute(
                    sa.text(f"""
                SELECT DISTINCT a.account_id FROM accounts a JOIN products p ON p.product_id = a.product_id
                JOIN balances_monthly b ON b.account_id = a.account_id
                WHERE a.owner_type = 'individual' AND a.owner_id = :c AND p.family IN ({fams}) AND a.currency = 'CNY'
                ORDER BY a.account_id"""),
                    {"c": customer_id},
                )
                .scalars()
                .all()
            )
            assert accts, f"{customer_id} has no CNY asset account with monthly balances"
            months = "" if every_month else "AND month = :m"
            for i, acct in enumerate(accts):
                conn.execute(
                    sa.text(f"UPDATE balances_monthly SET avg_daily_balance = :v WHERE account_id = :a {months}"),
                    {"v": amount if i == 0 else 0, "a": acct, "m": latest},
                )
            conn.execute(
                sa.text("""UPDATE accounts SET balance = 0 WHERE owner_id = :c AND owner_type = 'individual'
                AND account_id NOT IN (SELECT account_id FROM balances_monthly)"""),
                {"c": customer_id},
            )

    return set_


@pytest.fixture
def run_tags(loaded) -> Callable[[int], dict]:
    """run_tags(run_id): every tag of a run as (customer, dimension) -> its content (value,
    label, score, rule, inputs as text, standard version), to compare two runs tag by tag."""
    engine, _ = loaded

    def read(run_id: int) -> dict:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT customer_id, dimension, value, label_en, score, rule, CAST(inputs AS TEXT), "
                    "standard_version FROM tags WHERE run_id = :r"
                ),
                {"r": run_id},
            ).all()
        return {(r[0], r[1]): tuple(r[2:]) for r in rows}

    return read


@pytest.fixture
def customer_in(loaded) -> Callable[[str, str], list[str]]:
    """customer_in(dimension, value): customers with that value in the latest run who hold a CNY
    asset account with monthly balances (so `set_aum` can move them)."""
    engine, _ = loaded

    def find(dimension: str, value: str) -> list[str]:
        fams = ", ".join(f"'{f}'" for f in ASSET_FAMILIES)
        with engine.connect() as conn:
            return (
                conn.execute(
                    sa.text(f"""
                SELECT DISTINCT t.customer_id FROM tags t JOIN accounts a ON a.owner_id = t.customer_id
                JOIN products p ON p.product_id = a.product_id
                WHERE t.run_id = (SELECT max(run_id) FROM tags) AND t.dimension = :d AND t.value = :v
                  AND p.family IN ({fams}) AND a.currency = 'CNY'
                  AND EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
                ORDER BY t.customer_id"""),
                    {"d": dimension, "v": value},
                )
                .scalars()
                .all()
            )

    return find


def without_governance(text: str) -> str:
    """The standard without its top-level `governance:` block, for tests that bring their own."""
    return re.sub(r"^governance:\n(?:[ #].*\n|\n)*", "", text, flags=re.MULTILINE)


@pytest.fixture
def write_standard(tmp_path) -> Callable[..., Path]:
    """write_standard(extra="", replace={old: new}, name=…): the packaged standard with edits."""

    def write(extra: str = "", replace: dict[str, str] | None = None, name: str = "draft.yaml") -> Path:
        text = without_governance(standard_text(None)) if "governance:" in extra else standard_text(None)
        for old, new in (replace or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text + extra, encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli_env(loaded, monkeypatch):
    """Point the `clientstrata` command at the test's stores through the environment."""
    engine, graph = loaded
    monkeypatch.setenv("CLIENTSTRATA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CLIENTSTRATA_PROGRESS", "0")
    monkeypatch.delenv("CLIENTSTRATA_ACTOR", raising=False)
    if getattr(graph, "path", None) is not None:
        monkeypatch.delenv("CLIENTSTRATA_NEO4J_URI", raising=False)
        monkeypatch.setenv("CLIENTSTRATA_GRAPH_PATH", str(graph.path))
    else:
        monkeypatch.setenv("CLIENTSTRATA_NEO4J_URI", os.environ["CLIENTSTRATA_TEST_NEO4J_URI"])
    return engine, graph


# the child classifies and is killed by the kernel once its publish has written 300 tag rows
DIE_MID_PUBLISH = """
import os, signal, sys
from clientstrata.graph.record.db import engine_for
from clientstrata.jobs.runs.pipeline import TAGS_WRITTEN, classify
def die(stage, written):
    if stage == TAGS_WRITTEN and written >= 300:
        os.kill(os.getpid(), signal.SIGKILL)
classify(engine_for(sys.argv[1]), None, progress=False, requested_by="ops", on_stage=die)
"""


@pytest.fixture
def kill_midway(loaded) -> Callable[..., None]:
    """kill_midway(script=DIE_MID_PUBLISH, *args, lease=2.0): run `script` (Python; argv: the test's
    database URL, then `args`) in a child process on the test's stores with that run lease, and
    check the kernel killed it (SIGKILL: a process that dies, not an exception). By default the
    child is a run killed mid-publish: run 2 of the `loaded` bank, left `running`."""
    import signal
    import subprocess
    import sys

    engine, graph = loaded

    def kill(script: str = DIE_MID_PUBLISH, *args: str, lease: float = 2.0) -> None:
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()  # the child must be able to take SQLite's write lock
        env = {**os.environ, "CLIENTSTRATA_RUN_LEASE_SECONDS": str(lease), "CLIENTSTRATA_PROGRESS": "0"}
        if getattr(graph, "path", None) is not None:  # the child opens the test's graph, as `cli_env` does
            env.pop("CLIENTSTRATA_NEO4J_URI", None)
            env["CLIENTSTRATA_GRAPH_PATH"] = str(graph.path)
        else:
            env["CLIENTSTRATA_NEO4J_URI"] = os.environ["CLIENTSTRATA_TEST_NEO4J_URI"]
        done = subprocess.run(
            [sys.executable, "-c", script, url, *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == -signal.SIGKILL, done.stderr

    return kill


@pytest.fixture
def downgrade() -> Callable[[sa.Engine, str], None]:
    """downgrade(engine, revision): the database taken back to that migration (a test of one
    migration goes down past it and comes back up with `migrate`)."""
    from alembic import command
    from alembic.config import Config

    from clientstrata.graph.record.db import _MIGRATIONS

    def down(engine: sa.Engine, revision: str) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)

    return down


@pytest.fixture(scope="session")
def spark():
    """A real local Spark session (two cores, UTC, Arrow on) for the tests of the cluster path;
    skipped where PySpark is not installed, failed where Java is missing."""
    import shutil
    import sys

    pytest.importorskip("pyspark", reason="pip install 'clientstrata[spark]'")
    if not shutil.which("java"):
        pytest.fail("PySpark needs a Java runtime (java 17+) on PATH")
    from pyspark.sql import SparkSession

    # workers run this interpreter, where clientstrata is installed (on a cluster: PYSPARK_PYTHON)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("clientstrata-test")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")  # the definitions count whole days in seconds
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()
