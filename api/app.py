"""The ASGI application: GraphQL (with GraphiQL for browsers) on Starlette."""
from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from ..graph.db import get_engine
from ..graph.store import GraphStore, open_graph
from .context import Context
from .schema import schema

__all__ = ["create_app"]


class _GraphQL(GraphQL):
    def __init__(self, engine, graph: GraphStore) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.engine, self.graph = engine, graph

    async def get_context(self, request, response=None) -> Context:
        return Context(engine=self.engine, graph=self.graph, request=request)


def create_app(engine=None, graph: GraphStore | None = None) -> Starlette:
    engine = engine or get_engine()
    graph = graph or open_graph()
    gql = _GraphQL(engine, graph)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        graph.close()

    return Starlette(routes=[Route("/graphql", gql), Route("/healthz", healthz)], lifespan=lifespan)
