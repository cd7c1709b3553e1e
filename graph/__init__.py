"""The data layer: the relational record (SQLAlchemy) and the customer graph stores."""

from clientstrata.graph.record.db import get_engine, migrate

from .config import Settings, settings
from .errors import ClientStrataError, InvalidInput, NotFound, StoreUnavailable

__all__ = [
    "Settings",
    "settings",
    "get_engine",
    "migrate",
    "ClientStrataError",
    "InvalidInput",
    "NotFound",
    "StoreUnavailable",
]
