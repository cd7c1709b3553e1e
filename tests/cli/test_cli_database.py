"""The command says which database it uses and refuses one it cannot honour, instead of creating
an empty `./clientstrata.db` and answering from nothing (issue 14)."""

import json
import os
import subprocess
import sys

import pytest

from clientstrata.graph.config import InvalidDatabaseUrl, Settings, database_url, masked_url
from clientstrata.graph.errors import InvalidInput

pytestmark = pytest.mark.slow


def cli(cwd, *args, url: str | None = None):
    env = {**os.environ, "CLIENTSTRATA_PROGRESS": "0"}
    env.pop("CLIENTSTRATA_NEO4J_URI", None)
    env.pop("CLIENTSTRATA_DATABASE_URL", None)
    if url is not None:
        env["CLIENTSTRATA_DATABASE_URL"] = url
    p = subprocess.run(
        [sys.executable, "-m", "clientstrata.cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in p.stderr
    return p


@pytest.mark.parametrize("command", [["runs"], ["alerts", "list"], ["sync-graph"]])
def test_reading_commands_refuse_a_missing_database_and_create_nothing(tmp_path, command):
    p = cli(tmp_path, *command)
    assert p.returncode == 1
    assert "clientstrata: database sqlite:///./clientstrata.db" in p.stderr
    assert "no database at sqlite:///./clientstrata.db" in p.stderr and "CLIENTSTRATA_DATABASE_URL" in p.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_database_without_the_schema_is_refused_by_name(tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    p = cli(tmp_path, "runs", url=f"sqlite:///{tmp_path}/other.db")
    assert p.returncode == 1
    assert f"sqlite:///{tmp_path}/other.db holds no ClientStrata record" in p.stderr


def test_classify_refuses_a_record_without_customers(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.db"
    assert cli(tmp_path, "token", "create", "--role", "admin", "--name", "ops", url=url).returncode == 0
    p = cli(tmp_path, "classify", "--json", url=url)
    assert p.returncode == 1
    assert "has no customers" in json.loads(p.stdout.strip().splitlines()[-1])["error"]
    runs = cli(tmp_path, "runs", "--json", url=url)
    assert json.loads(runs.stdout.strip().splitlines()[-1])["runs"] == []


def test_urls_users_type_and_a_bad_one(tmp_path):
    p = cli(tmp_path, "runs", url="postgres://ops:s3cret@127.0.0.1:1/bank")
    assert p.returncode == 1
    assert "postgresql+psycopg://ops:***@127.0.0.1:1/bank" in p.stderr and "s3cret" not in p.stderr
    bad = cli(tmp_path, "runs", url="mysql://ops:s3cret@db/bank")
    assert bad.returncode == 1 and "s3cret" not in bad.stderr
    (line,) = [x for x in bad.stderr.splitlines() if x]
    assert "CLIENTSTRATA_DATABASE_URL" in line and "sqlite:///" in line


def test_help_names_the_variable_and_version_prints():
    assert "CLIENTSTRATA_DATABASE_URL" in cli(".", "--help").stdout
    assert "CLIENTSTRATA_DATABASE_URL" in cli(".", "runs", "--help").stdout
    version = cli(".", "--version")
    assert version.returncode == 0 and version.stdout.startswith("clientstrata ")


@pytest.mark.parametrize(
    ("typed", "used"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///./x.db", "sqlite:///./x.db"),
    ],
)
def test_database_urls_are_normalised(typed, used):
    assert database_url(typed) == used
    assert Settings.from_env({"CLIENTSTRATA_DATABASE_URL": typed}).database_url == used


@pytest.mark.parametrize("typed", ["clientstrata.db", "mysql://u@h/db", "http://h/db", "://"])
def test_other_urls_are_refused_in_one_line(typed):
    with pytest.raises(InvalidDatabaseUrl, match="CLIENTSTRATA_DATABASE_URL") as err:
        database_url(typed)
    assert "\n" not in str(err.value)


def test_masked_url_hides_the_password():
    assert masked_url("postgresql+psycopg://u:topsecret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_the_features_memory_bound_is_read_and_a_wrong_one_named():
    assert Settings.from_env({}).features_memory_mb == 2048
    assert Settings.from_env({"CLIENTSTRATA_FEATURES_MEMORY_MB": "6144"}).features_memory_mb == 6144
    for wrong in ("4GB", "128", "-1"):
        with pytest.raises(InvalidInput, match=r"CLIENTSTRATA_FEATURES_MEMORY_MB must be a whole number ≥ 256"):
            Settings.from_env({"CLIENTSTRATA_FEATURES_MEMORY_MB": wrong})
