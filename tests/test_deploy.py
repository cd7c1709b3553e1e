"""docker-compose.yml and the Dockerfile, checked against the code they deploy.

There is no Docker engine in CI, so these read the files: the compose services the spec names,
settings the API really reads, credentials that agree between services, secrets only from the
environment, loopback-only ports, and commands the `clientstrata` CLI accepts."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from clientstrata.cli.main import _parser
from clientstrata.graph import config

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SECRETS = {"CLIENTSTRATA_NEO4J_PASSWORD": "neo-s3cret-from-env", "CLIENTSTRATA_PG_PASSWORD": "pg-s3cret-from-env"}

_VAR = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)")


def interpolate(value, env: dict[str, str]):
    """Compose's variable substitution: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ for a literal $."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group("name") or m.group("bare"), m.group("op"), m.group("arg")
        got = env.get(name)
        missing = got is None or (got == "" and op and op.startswith(":"))
        if missing and op and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        if missing and op and op.endswith("-"):
            return arg
        return got or ""

    return _VAR.sub(sub, value)


def names_read_by_config() -> set[str]:
    """The CLIENTSTRATA_* variables Settings.from_env looks up, observed, not listed by hand."""

    class Recording(dict):
        def __init__(self) -> None:
            super().__init__()
            self.asked: set[str] = set()

        def get(self, key, default=None):
            self.asked.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            self.asked.add(key)
            return super().__getitem__(key)

    env = Recording()
    config.Settings.from_env(env)
    return {n for n in env.asked if n.startswith("CLIENTSTRATA_")}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def published_ports(service: dict) -> list[tuple[str | None, str, str]]:
    """(host ip, host port, container port) for every published port, short or long syntax."""
    out = []
    for p in service.get("ports", []):
        if isinstance(p, dict):
            out.append((p.get("host_ip"), str(p.get("published")), str(p["target"])))
        else:
            parts = str(p).split(":")
            ip = parts[0] if len(parts) == 3 else None
            out.append((ip, parts[-2] if len(parts) > 1 else "", parts[-1].split("/")[0]))
    return out


def test_the_services_the_spec_names_are_there():
    assert {"neo4j", "postgres", "api", "pipeline"} <= set(SERVICES)
    assert SERVICES["neo4j"]["image"].startswith("neo4j:5.") and "community" in SERVICES["neo4j"]["image"]
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert SERVICES["api"]["build"] == "." and SERVICES["pipeline"]["profiles"] == ["pipeline"]
    # data survives `docker compose down`: named volumes at each server's data directory
    mounts = {s: [v.split(":") for v in SERVICES[s]["volumes"]] for s in ("neo4j", "postgres")}
    assert ["neo4j-data", "/data"] in mounts["neo4j"]
    assert ["postgres-data", "/var/lib/postgresql/data"] in mounts["postgres"]
    assert {"neo4j-data", "postgres-data"} <= set(COMPOSE["volumes"])


def test_api_environment_is_exactly_what_config_reads():
    read = names_read_by_config()
    for name in ("api", "pipeline"):
        env = set(SERVICES[name]["environment"])
        assert env <= read, f"{name} sets variables nothing reads: {env - read}"
        # the embedded graph's file is the one setting Neo4j makes moot
        assert read - env == {"CLIENTSTRATA_GRAPH_PATH"}, f"{name} leaves unset: {read - env}"


def test_api_settings_reach_the_compose_servers_with_their_credentials():
    env = {k: str(v) for k, v in interpolate(SERVICES["api"]["environment"], SECRETS).items()}
    cfg = config.Settings.from_env(env)
    pg_env = interpolate(SERVICES["postgres"]["environment"], SECRETS)
    db = make_url(cfg.database_url)
    assert db.drivername == "postgresql+psycopg" and db.host == "postgres" and db.port == 5432
    assert (db.username, db.password, db.database) == (
        pg_env["POSTGRES_USER"],
        pg_env["POSTGRES_PASSWORD"],
        pg_env["POSTGRES_DB"],
    )
    bolt = re.fullmatch(r"bolt://(\w+):(\d+)", cfg.neo4j_uri)
    assert bolt and bolt[1] == "neo4j" and bolt[2] in {c for _, _, c in published_ports(SERVICES["neo4j"])}
    assert (
        interpolate(SERVICES["neo4j"]["environment"], SECRETS)["NEO4J_AUTH"] == f"{cfg.neo4j_user}/{cfg.neo4j_password}"
    )
    assert cfg.neo4j_password == SECRETS["CLIENTSTRATA_NEO4J_PASSWORD"]
    assert db.password == SECRETS["CLIENTSTRATA_PG_PASSWORD"]


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_stops_when_a_secret_is_unset(secret):
    without = {k: v for k, v in SECRETS.items() if k != secret}
    uses = [
        (name, key, value)
        for name, svc in SERVICES.items()
        for key, value in svc.get("environment", {}).items()
        if secret in str(value)
    ]
    assert uses
    for name, key, value in uses:  # every use, so no single one falls back to a default password
        with pytest.raises(KeyError, match=secret):
            interpolate(value, without)
            pytest.fail(f"{name}.{key} resolves without {secret}")


def test_no_password_is_written_in_the_file():
    assert config.DEFAULT_NEO4J_PASSWORD not in (ROOT / "docker-compose.yml").read_text()
    resolved = interpolate(COMPOSE, SECRETS)
    for name, svc in resolved["services"].items():
        for key, value in svc.get("environment", {}).items():
            if "PASSWORD" in key or "AUTH" in key:
                assert str(value).endswith(tuple(SECRETS.values())), f"{name}.{key} is not from the environment"
            if "://" in str(value) and make_url(str(value)).password is not None:
                assert make_url(str(value)).password in SECRETS.values(), f"{name}.{key} holds a password"


def test_every_published_port_is_on_loopback():
    ports = [(s, *p) for s, svc in SERVICES.items() for p in published_ports(svc)]
    assert ("neo4j", "127.0.0.1", "7687", "7687") in ports
    assert all(ip == "127.0.0.1" for _, ip, _, _ in ports), ports


def test_servers_wait_for_healthy_stores():
    for name in ("api", "pipeline"):
        deps = SERVICES[name]["depends_on"]
        assert set(deps) == {"neo4j", "postgres"}
        for dep, cond in deps.items():
            assert cond["condition"] == "service_healthy" and SERVICES[dep]["healthcheck"]["test"]
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])


def test_dockerfile_serves_with_the_console_script():
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert any(op == "RUN" and re.search(r"pip install [\"']?\.\[server\]", arg) for op, arg in steps)
    (cmd,) = [json.loads(arg) for op, arg in steps if op in ("CMD", "ENTRYPOINT")]
    assert cmd[0] in PYPROJECT["project"]["scripts"]
    args = _parser().parse_args(cmd[1:])
    assert (args.command, args.host) == ("serve", "0.0.0.0")
    assert ("127.0.0.1", "8000", str(args.port)) in published_ports(SERVICES["api"])
    assert f"localhost:{args.port}/healthz" in " ".join(SERVICES["api"]["healthcheck"]["test"])


def test_image_gets_every_package_and_no_local_state():
    copied = {arg.split()[0].rstrip("/") for op, arg in dockerfile_instructions() if op == "COPY"}
    package_dirs = set(PYPROJECT["tool"]["setuptools"]["package-dir"].values())
    assert package_dirs <= copied
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}
    assert {".git", ".venv", ".env", "*.db", "demo-data"} <= ignored
    assert not (package_dirs | {"pyproject.toml", "README.md"}) & ignored


def test_pipeline_runs_commands_the_cli_accepts():
    shell, flag, script = SERVICES["pipeline"]["command"]
    assert (shell, flag) == ("sh", "-c")
    steps = [shlex.split(step) for step in script.split("&&")]
    assert all(step[0] in PYPROJECT["project"]["scripts"] for step in steps)
    commands = [_parser().parse_args(step[1:]).command for step in steps]
    assert commands == ["generate", "ingest", "sync-graph", "classify"]
