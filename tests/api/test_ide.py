"""GraphiQL from this server's own assets: the page, its files, and a real Chromium that loads it
from a live server, runs a query with a bearer token and talks to no other host."""

import hashlib
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.api.ide import STATIC_DIR
from clientstrata.graph.record.models import Individual

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def anonymous(loaded_ro):
    engine, graph = loaded_ro
    with TestClient(create_app(engine, graph)) as c:
        yield c


def test_the_page_loads_only_local_assets_under_a_strict_policy(anonymous):
    r = anonymous.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "connect-src 'self'" in csp
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert len(assets) == 7 and not [a for a in assets if "//" in a]  # no CDN, nothing absolute
    for asset in assets:
        if asset.startswith("data:"):
            continue
        got = anonymous.get("/" + asset)  # the page is /graphql: its relative URLs start there
        assert got.status_code == 200 and len(got.content) > 30, asset
        assert got.headers["content-type"].split(";")[0] in ("text/css", "text/javascript", "application/javascript")


def test_vendored_files_are_the_published_packages_with_their_licences():
    vendor = STATIC_DIR / "vendor"
    lines = (vendor / "VERSIONS").read_text().splitlines()
    assert lines[1] == "graphiql@4.1.2 react@18.3.1 react-dom@18.3.1"
    for line in lines[2:]:
        digest, name = line.split()
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, f"{name} was edited"
        assert (vendor / name).parent.joinpath("LICENSE").read_text().startswith("MIT License")
    for text in (
        (vendor / "graphiql" / "graphiql.min.js").read_text(),
        (vendor / "graphiql" / "graphiql.min.css").read_text(),
    ):
        assert "unpkg.com" not in text and "sourceMappingURL" not in text


def test_the_page_is_only_for_browsers_asking_for_html(anonymous):
    assert anonymous.get("/graphql", headers={"accept": "application/json"}).status_code == 401
    r = anonymous.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": "text/html"})
    assert r.status_code == 401  # an operation is never a page view


@pytest.mark.slow
def test_graphiql_runs_a_query_in_chromium_with_no_other_host(loaded_ro, make_token_ro, serve, tmp_path):
    """It opens without an error (no introspection before a token is entered), loads the schema as
    soon as the Authorization header holds one, and runs a query."""
    from playwright.sync_api import sync_playwright  # a dev dependency; drives Debian's chromium

    assert Path(CHROMIUM).exists(), "run `make test-env` (tests/servers/chromium.sh installs Debian's chromium)"
    engine, graph = loaded_ro
    with engine.connect() as conn:
        customers = conn.execute(sa.select(sa.func.count()).select_from(Individual)).scalar_one()
    token = make_token_ro("marketing_analyst")
    base = serve(create_app(engine, graph))
    requests, problems, answers = [], [], []
    with sync_playwright() as p, tempfile.TemporaryDirectory(dir=tmp_path) as profile:
        browser = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        browser.on("request", lambda r: requests.append(r.url))
        page = browser.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "response",
            lambda r: answers.append((r.request.post_data or "", r.status)) if r.request.method == "POST" else None,
        )
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(base + "/graphql", wait_until="networkidle")
        page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror", timeout=30_000)

        headers = page.locator(".graphiql-editor-tool .CodeMirror").last  # the Headers tab is open
        assert "Bearer <paste your token here>" in headers.inner_text()  # the placeholder is pre-filled
        page.wait_for_load_state("networkidle")
        assert answers == []  # nothing asked (and refused) before there is a token
        headers.click()
        page.keyboard.press("Control+A")
        with page.expect_response(lambda r: "IntrospectionQuery" in (r.request.post_data or "")) as schema_call:
            page.keyboard.type(f'{{"Authorization": "Bearer {token}"}}')
        assert schema_call.value.status == 200
        page.locator('[aria-label="Show Documentation Explorer"]').click()
        page.locator(".graphiql-doc-explorer").get_by_text("Query", exact=True).first.wait_for(timeout=30_000)
        page.locator(".graphiql-query-editor .CodeMirror").first.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("{ customers(first: 3) { totalCount } }")
        page.keyboard.press("Escape")  # closes an autocompletion popup, if one is open
        page.locator(".graphiql-execute-button").click()

        result = page.locator(".result-window")
        result.get_by_text(f'"totalCount": {customers}').wait_for(timeout=30_000)
        shot = tmp_path / "graphiql.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        text = result.inner_text()
        browser.close()
    assert '"customers"' in text and f'"totalCount": {customers}' in text and "errors" not in text
    assert shot.stat().st_size > 10_000
    foreign = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))} - {"127.0.0.1"}
    assert not foreign, f"the page reached out to {foreign}"
    assert any(u.endswith("/graphql/static/vendor/graphiql/graphiql.min.js") for u in requests)
    assert problems == []
    assert [status for _, status in answers if status != 200] == []  # no failed request at any point
    assert sum("IntrospectionQuery" in body for body, _ in answers) == 1  # once, for the one token typed
