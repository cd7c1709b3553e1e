"""ClientStrata SDK: the GraphQL API as pandas DataFrames. Depends only on gql, httpx, pandas."""
from ._client import Client
from ._errors import APIError, AuthenticationError, ClientStrataSDKError, TransportError

__all__ = ["Client", "APIError", "AuthenticationError", "ClientStrataSDKError", "TransportError"]
