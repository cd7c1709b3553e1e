"""The SDK's exceptions; transport and GraphQL errors are translated into these."""
from __future__ import annotations

__all__ = ["ClientStrataSDKError", "APIError", "TransportError"]


class ClientStrataSDKError(Exception):
    pass


class APIError(ClientStrataSDKError):
    """The server answered with GraphQL errors; `messages` holds each."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class TransportError(ClientStrataSDKError):
    """The server could not be reached or answered with an HTTP error."""
