"""A request body size limit, enforced while the body streams in.

A declared Content-Length above the limit is refused before any byte of the body is read; a body
without one (chunked) is counted as it arrives and refused as soon as it passes the limit, so a
client cannot make the server buffer more than the limit whatever it sends.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .http import error_response

__all__ = ["BodySizeLimit"]


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        accept = headers.get("accept")
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return await error_response(accept, 400, "Content-Length is not a number.")(scope, receive, send)
            if int(declared) > self.max_bytes:
                return await self._refuse(accept, scope, receive, send)

        received = 0
        response_started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal response_started
            response_started |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if response_started:  # nothing left to say; the server drops the connection
                raise
            await self._refuse(accept, scope, receive, send)

    async def _refuse(self, accept: str | None, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            accept,
            413,
            f"The request body is larger than the limit of {self.max_bytes} bytes.",
            code="PAYLOAD_TOO_LARGE",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
