"""The SDK's exceptions; transport and GraphQL errors are translated into these."""

from __future__ import annotations

__all__ = ["ClientStrataSDKError", "APIError", "AuthenticationError", "TransportError"]


class ClientStrataSDKError(Exception):
    pass


class APIError(ClientStrataSDKError):
    """The server answered with GraphQL errors; `messages` holds each, `codes` their
    machine-readable codes where the server gave one."""

    def __init__(self, messages: list[str], codes: list[str | None] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.codes = codes or [None] * len(messages)


class AuthenticationError(APIError):
    """The server refused the token: missing, invalid or revoked. Ask an admin for one
    (`clientstrata token create --role …`) and pass it as `Client(url, token=…)`."""


class TransportError(ClientStrataSDKError):
    """The server could not be reached or answered with an HTTP error."""
