"""The ASGI application: GraphQL (with GraphiQL for browsers) on Starlette, behind bearer-token
authentication; `/healthz` (the process is up) and `/readyz` (the stores answer) stay open."""
from __future__ import annotations

import asyncio
import contextlib

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from ..graph.access import Principal, Unauthenticated, authenticate
from ..graph.db import get_engine
from ..graph.errors import ClientStrataError
from ..graph.store import GraphStore, open_graph
from .context import Context
from .schema import schema

__all__ = ["create_app"]


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _is_ide_page(request: Request) -> bool:
    """A browser asking for the GraphiQL page, with no operation to run."""
    return (request.method == "GET" and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", ""))


class _GraphQL(GraphQL):
    def __init__(self, engine, graph: GraphStore) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.engine, self.graph = engine, graph

    async def get_context(self, request, response=None) -> Context | None:
        principal = getattr(request.state, "principal", None)
        if principal is None:  # only the GraphiQL page gets here unauthenticated; it executes nothing
            return None
        return Context(engine=self.engine, graph=self.graph, principal=principal, request=request)


class _Authenticated:
    """Resolves the bearer token to a Principal before GraphQL sees the request; a request
    without a valid token gets 401. The GraphiQL page itself (a browser GET for HTML) is
    served to anyone: it holds no data, and its queries carry the token like any other."""

    def __init__(self, app, engine) -> None:
        self.app, self.engine = app, engine

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        if _is_ide_page(request):
            return await self.app(scope, receive, send)
        try:
            principal = await asyncio.to_thread(self._authenticate, _bearer(request))
        except Unauthenticated as exc:
            error = {"message": str(exc), "extensions": {"code": exc.code}}
            response = JSONResponse({"errors": [error]}, status_code=401,
                                    headers={"WWW-Authenticate": 'Bearer realm="clientstrata"'})
            return await response(scope, receive, send)
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    def _authenticate(self, token: str | None) -> Principal:
        with self.engine.connect() as conn:
            return authenticate(conn, token)


def create_app(engine=None, graph: GraphStore | None = None) -> Starlette:
    engine = engine or get_engine()
    graph = graph or open_graph()
    gql = _Authenticated(_GraphQL(engine, graph), engine)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        def check() -> dict[str, str]:
            status = {}
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                status["database"] = "ok"
            except Exception as exc:  # readiness reports, it does not raise
                status["database"] = f"unavailable: {type(exc).__name__}"
            try:
                graph.ping()
                status["graph"] = "ok"
            except ClientStrataError as exc:
                status["graph"] = f"unavailable: {exc}"
            return status
        status = await asyncio.to_thread(check)
        ready = all(v == "ok" for v in status.values())
        return JSONResponse({"status": "ready" if ready else "not ready", **status}, status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        graph.close()

    return Starlette(routes=[Route("/graphql", gql, methods=["GET", "POST"]), Route("/healthz", healthz),
                             Route("/readyz", readyz)], lifespan=lifespan)
