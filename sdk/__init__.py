"""ClientStrata SDK: the GraphQL API as pandas DataFrames. Depends only on gql, httpx, pandas."""

from ._client import Client
from ._errors import APIError, AuthenticationError, ClientStrataSDKError, TransportError
from ._governance import WhatIfReport

__all__ = ["Client", "WhatIfReport", "APIError", "AuthenticationError", "ClientStrataSDKError", "TransportError"]
