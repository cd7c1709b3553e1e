"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): media types and status codes.

A client that accepts `application/graphql-response+json` gets it, with status codes that say what
happened: 400 when the request never executed (unparsable JSON or document, failed validation or
limits, an operation over the cost budget, variables that do not coerce, a body that is not
UTF-8) and its body has no `data` entry; 504 when an operation ran past its deadline; 200 once
execution began, even with field errors. Legacy clients (`application/json`, `*/*`, no Accept) get `application/json`
and 200 for every well-formed GraphQL response, as the spec asks. Mutations over GET get 405.
Every error body, whatever its status, is a GraphQL response: `{"errors": [{"message": …}]}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from .context import Context
from .ide import is_ide_request, page
from .limits import QUERY_TOO_COSTLY, TIMEOUT

__all__ = ["GRAPHQL_RESPONSE_JSON", "JSON", "GraphQLView", "error_response", "negotiate"]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def _q(params: list[str]) -> float:
    for p in params:
        name, _, value = p.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str | None) -> str:
    """The response media type for an Accept header. `application/graphql-response+json` only
    when the client names it (a wildcard is a legacy client) and likes it at least as much as
    `application/json`; otherwise `application/json`, also when the client accepts neither (the
    spec lets a server disregard such an Accept header rather than answer 406)."""
    named: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = part.split(";")
        named[media.strip().lower()] = _q(params)
    preferred = named.get(GRAPHQL_RESPONSE_JSON, 0.0)
    legacy = named.get(JSON, max(named.get("application/*", 0.0), named.get("*/*", 0.0)))
    return GRAPHQL_RESPONSE_JSON if preferred > 0 and preferred >= legacy else JSON


def error_response(
    accept: str | None, status: int, message: str, code: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A request-level failure as a GraphQL response body in the negotiated media type."""
    error: dict = {"message": message}
    if code:
        error["extensions"] = {"code": code}
    return _response(json.dumps({"errors": [error]}), status, negotiate(accept), headers)


def _response(body: str | bytes, status: int, media_type: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=dict(headers or {}), media_type=f"{media_type}; charset=utf-8")


def _is_request_error(result: ExecutionResult) -> bool:
    """The operation never executed: parse, validation and variable-coercion errors have no `path`
    (field errors always do) and leave no data."""
    return bool(result.errors) and result.data is None and all(e.path is None for e in result.errors)


def _too_costly(result: ExecutionResult) -> bool:
    return any((e.extensions or {}).get("code") == QUERY_TOO_COSTLY for e in result.errors or ())


def _timed_out(result: ExecutionResult) -> bool:
    return any((e.extensions or {}).get("code") == TIMEOUT for e in result.errors or ())


class _BadRequest(HTTPException):
    code = "BAD_REQUEST"

    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


class _MethodNotAllowed(HTTPException):
    def __init__(self, reason: str, allow: str) -> None:
        super().__init__(405, reason)
        self.headers = {"Allow": allow}


class GraphQLView(GraphQL):
    """Strawberry's ASGI view with the spec's media types and status codes and JSON error bodies.
    The caller (a Principal) is resolved before the view runs; see `clientstrata.api.app`."""

    def __init__(self, schema, engine, graph, runs=None) -> None:
        super().__init__(schema, graphql_ide="graphiql", multipart_uploads_enabled=False)
        self.engine, self.graph, self.runs = engine, graph, runs

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # no subscriptions are served; the route is HTTP only
            raise RuntimeError(f"unexpected ASGI scope {scope['type']!r}")
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = error_response(
                request.headers.get("accept"),
                exc.status_code,
                exc.reason,
                getattr(exc, "code", None),
                headers=getattr(exc, "headers", None),
            )
        await response(scope, receive, send)

    async def get_context(self, request, response=None) -> Context | None:
        principal = getattr(request.state, "principal", None)
        if principal is None:  # only the GraphiQL page gets here unauthenticated; it executes nothing
            return None
        return Context(engine=self.engine, graph=self.graph, principal=principal, request=request, runs=self.runs)

    async def get_sub_response(self, request: Request) -> Response:
        sub = await super().get_sub_response(request)
        sub.media_type = negotiate(request.headers.get("accept"))
        request.state.sub_response = sub  # process_result sets the status on it
        return sub

    def should_render_graphql_ide(self, request) -> bool:
        return is_ide_request(request.method, request.query_params, request.headers)

    async def render_graphql_ide(self, request: Request) -> Response:
        return page()

    async def parse_http_body(self, request):
        data = await super().parse_http_body(request)
        if not isinstance(getattr(data, "operation_name", None), (str, type(None))):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null, if provided.")
        return data

    def parse_json(self, data: str | bytes):
        if isinstance(data, bytes):  # JSON on the wire is UTF-8 (RFC 8259), strictly: no lone surrogates
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise _BadRequest("The request body is not valid UTF-8.") from None
        parsed = super().parse_json(data)
        if not isinstance(parsed, (dict, list)):  # e.g. a bare string or number as the whole body
            raise HTTPException(400, "The request body, `variables` and `extensions` must be JSON objects.")
        return parsed

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        try:
            return await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as exc:
            if request_adapter.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                raise _MethodNotAllowed("Mutations are not allowed over GET; send them with POST.", "POST") from exc
            raise

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = process_result(result)
        sub = request.state.sub_response
        if sub.media_type == GRAPHQL_RESPONSE_JSON and _is_request_error(result):
            body.pop("data", None)
            # an operation cut off at its deadline did run: the gateway-style 504, not a bad request
            sub.status_code = 504 if _timed_out(result) else 400
        elif _too_costly(result):
            # the budget is the server's policy, not a malformed request the spec lets answer 200
            sub.status_code = 400
        return body

    def encode_json(self, data: object) -> bytes:
        """orjson: a bulk page is hundreds of thousands of cells, and the standard library's
        encoder was a third of such a request. UTF-8 as the media type says; non-finite floats
        become null (JSON has no NaN)."""
        return orjson.dumps(data)

    def create_response(self, response_data, sub_response: Response) -> Response:
        response = _response(self.encode_json(response_data), sub_response.status_code or 200, sub_response.media_type)
        response.headers.raw.extend(h for h in sub_response.headers.raw if h[0] != b"content-type")
        response.background = sub_response.background
        return response
