"""The customer graph: one `GraphStore` contract (`base`) and two stores that must agree,
networkx in memory beside SQLite (the embedded default) and Neo4j (production)."""

from __future__ import annotations

from clientstrata.graph.config import Settings, settings
from clientstrata.graph.stores.base import GraphStore, HouseholdView

__all__ = ["GraphStore", "HouseholdView", "open_graph"]


def open_graph(cfg: Settings | None = None) -> GraphStore:
    """Neo4j when CLIENTSTRATA_NEO4J_URI is set, otherwise the embedded networkx graph."""
    cfg = cfg or settings()
    if cfg.neo4j_uri:
        from clientstrata.graph.stores.breaker import CircuitBreaker
        from clientstrata.graph.stores.neo4j_store import Neo4jGraph

        return Neo4jGraph(
            cfg.neo4j_uri,
            (cfg.neo4j_user, cfg.neo4j_password),
            cfg.neo4j_database,
            connect_timeout=cfg.neo4j_connect_timeout,
            query_timeout=cfg.neo4j_query_timeout,
            breaker=CircuitBreaker(cfg.neo4j_breaker_failures, cfg.neo4j_breaker_reset),
        )
    from clientstrata.graph.stores.networkx_store import NetworkxGraph

    return NetworkxGraph(cfg.embedded_graph_path)
