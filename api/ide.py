"""GraphiQL for browsers, served entirely by this server: a bank's intranet reaches no CDN.

The page at GET /graphql (a browser asking for HTML, with no `query`) loads React and GraphiQL from
`/graphql/static/`, vendored in `api/static/vendor/` (see `api/ide_vendor.sh` for why and how), and
holds no data: its requests carry the user's bearer token, typed into GraphiQL's headers editor and
never persisted in the browser's storage. A Content-Security-Policy limits the page to this origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "is_ide_request", "page", "static_files"]

STATIC_DIR = Path(__file__).parent / "static"

# Relative URLs: the page is the endpoint itself, so they hold behind a reverse proxy's path prefix.
_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>ClientStrata · GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="graphql/static/vendor/graphiql/graphiql.min.css">
  <link rel="stylesheet" href="graphql/static/ide.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="graphql/static/vendor/react/react.production.min.js"></script>
  <script src="graphql/static/vendor/react-dom/react-dom.production.min.js"></script>
  <script src="graphql/static/vendor/graphiql/graphiql.min.js"></script>
  <script src="graphql/static/ide.js"></script>
</body>
</html>
"""

_HEADERS = {
    # GraphiQL and CodeMirror set inline styles; fonts and icons are data: URLs inside the CSS.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_ide_request(method: str, query_params: Mapping, headers: Mapping[str, str]) -> bool:
    """A browser asking for the GraphiQL page, with no operation to run."""
    return method == "GET" and "query" not in query_params and "text/html" in headers.get("accept", "")


def page() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers=_HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
