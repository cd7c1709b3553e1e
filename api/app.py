"""The ASGI application: GraphQL (with GraphiQL for browsers) on Starlette, behind bearer-token
authentication; `/healthz` (the process is up) and `/readyz` (the stores answer) stay open.

Transport concerns each live in their own module: GraphQL over HTTP in `http`, the body size limit
in `body_limit`, the GraphiQL page and its local assets in `ide`, the limits and switches in
`settings` (read from the environment once, here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from clientstrata.graph.errors import ClientStrataError, StoreUnavailable
from clientstrata.graph.record.access import Principal, Unauthenticated, authenticate
from clientstrata.graph.record.db import get_engine, ping
from clientstrata.graph.stores import GraphStore, open_graph
from clientstrata.jobs.runs.worker import RunWorker

from .access_log import keep_query_strings_out
from .body_limit import BodySizeLimit
from .graph_calls import graph_status
from .http import GraphQLView, error_response
from .ide import is_ide_request, static_files
from .schema import build_schema
from .settings import ApiSettings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


class _Authenticated:
    """Resolves the bearer token to a Principal before GraphQL sees the request; a request
    without a valid token gets 401. The GraphiQL page itself (a browser GET for HTML) is
    served to anyone: it holds no data, and its queries carry the token like any other."""

    def __init__(self, app, engine) -> None:
        self.app, self.engine = app, engine

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        if is_ide_request(request.method, request.query_params, request.headers):
            return await self.app(scope, receive, send)
        accept = request.headers.get("accept")
        try:
            principal = await asyncio.to_thread(self._authenticate, _bearer(request))
        except Unauthenticated as exc:
            response = error_response(
                accept, 401, str(exc), exc.code, headers={"WWW-Authenticate": 'Bearer realm="clientstrata"'}
            )
            return await response(scope, receive, send)
        except StoreUnavailable:  # the database is down: say so, show nothing of why
            log.exception("cannot authenticate: the database failed")
            response = error_response(accept, 503, "The service is unavailable; try again later.", "UNAVAILABLE")
            return await response(scope, receive, send)
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    def _authenticate(self, token: str | None) -> Principal:
        with self.engine.connect() as conn:
            return authenticate(conn, token)


def create_app(engine=None, graph: GraphStore | None = None, settings: ApiSettings | None = None) -> Starlette:
    engine = engine or get_engine()
    graph = graph or open_graph()
    settings = settings or ApiSettings.from_env()
    keep_query_strings_out()
    runs = RunWorker(engine, graph)  # on-demand runs and what-ifs, one at a time, beside the requests
    gql = _Authenticated(GraphQLView(build_schema(settings), engine, graph, runs), engine)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        def database() -> str:
            # readiness reports, it does not raise; the reasons name hosts and files, so they go
            # to the log, not to whoever can reach this open endpoint
            try:
                ping(engine)
                return "ok"
            except Exception as exc:  # StoreUnavailable, or anything else that stops it answering
                log.warning("readiness: the database is unavailable: %s", exc)
                return "unavailable"

        status = {"database": await asyncio.to_thread(database), "graph": await graph_status(graph)}
        # without the graph only its fields fail: the instance still serves, degraded
        if status["database"] != "ok":
            return JSONResponse({"status": "not ready", **status}, status_code=503)
        return JSONResponse({"status": "ready" if status["graph"] == "ok" else "degraded", **status})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        try:  # runs and what-ifs a stopped server had queued are done now
            resumed = await asyncio.to_thread(runs.resume)
            if resumed:
                log.info("resuming queued classification runs %s", resumed)
            resumed = await asyncio.to_thread(runs.resume_whatifs)
            if resumed:
                log.info("resuming queued what-ifs %s", resumed)
        except ClientStrataError:
            log.warning("cannot look for queued runs: the database is unavailable", exc_info=True)
        yield
        await asyncio.to_thread(runs.close)  # the run in progress finishes; runs not begun stay queued
        graph.close()

    middleware = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    if settings.cors_origins:  # outermost, so that refusals (401, 413) carry CORS headers too
        # Bearer tokens travel in a header, never in cookies: no credentials mode is needed.
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            ),
        )
    routes = [
        Route("/graphql", gql, methods=["GET", "POST"]),
        Mount("/graphql/static", static_files()),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
