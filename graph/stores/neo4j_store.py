"""The production graph: Neo4j over Bolt with the official driver.

Values always travel as parameters. Labels and relationship types cannot be parameters in
Cypher, so each query is built once from the closed sets in `store.py` (never from input)
and looked up by name; an unknown label is refused before any text is formed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from functools import lru_cache

import neo4j
import pandas as pd
from neo4j.exceptions import (
    AuthError,
    ConnectionPoolError,
    DatabaseUnavailable,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from clientstrata.graph.errors import ClientStrataError, GraphUnavailable, NotFound, StoreUnavailable

from .base import (
    DIGEST,
    ECOSYSTEM_FEATURES,
    ECOSYSTEM_RELS,
    ENTITY_LABELS,
    LABELS,
    NEIGHBOUR_COLUMNS,
    RELATIONSHIPS,
    GraphStore,
    HouseholdView,
    RelKey,
    Totals,
)
from .breaker import CircuitBreaker, Open

# The driver logs each dead connection and retry at WARNING. With no handler configured anywhere,
# Python prints those on stderr (logging.lastResort), a stack of driver text around the one line a
# command says when Neo4j is gone; an application that configures logging still receives them.
logging.getLogger("neo4j").addHandler(logging.NullHandler())

__all__ = ["Neo4jGraph"]

BATCH = 5_000
_WRITER = "neo4j-write"
# a sync's write batch: small transactions, each sent while the writer thread waits on the one
# before; on the test server 1–2k rows a batch wrote faster than 5k, 20k or 50k (the server's
# commit of a large transaction holds the writer while nothing else is sent)
WRITE_BATCH = 2_000
_ECO = "|".join(ECOSYSTEM_RELS)

_MERGE_NODE = {label: f"UNWIND $rows AS row MERGE (n:{label} {{id: row.id}}) SET n += row.props" for label in LABELS}
# One read per step of a walk, whatever labels the frontier holds. The bound is applied in the
# database, per source node and on distinct neighbours; the degree is the store's own count.
_ENTITY_MATCH = "|".join(ENTITY_LABELS)
_NEIGHBOURHOOD = (
    "CALL () { "
    + " UNION ALL ".join(f"MATCH (n:{label}) WHERE n.id IN $frontier.{label} RETURN n" for label in LABELS)
    + " } "
    "CALL (n) { "
    f"MATCH (n)-[r:{_ECO}]-(m:{_ENTITY_MATCH}) "
    "WITH m, collect(type(r)) AS rels ORDER BY labels(m)[0], m.id LIMIT $limit "
    "UNWIND rels AS rel RETURN rel, m "
    "UNION ALL "
    f"MATCH (n)-[r:{_ECO}]-(m) WHERE NOT m:{_ENTITY_MATCH} RETURN type(r) AS rel, m }} "
    "RETURN n.id AS src_id, rel, labels(m)[0] AS label, m.id AS id, m.name AS name, "
    f"COUNT {{ (m)-[:{_ECO}]-() }} AS degree"
)
_NO_LIMIT = 2**62
# the walk's "no bound": list slices in Cypher take 32-bit integers
_UNBOUNDED = 2**30


def _hop_query(depth: int, last: bool) -> str:
    """One step of the walk inside the statement: `_walk`'s step, with `seen`, `frontier` and
    `rows` carried from the step before. Each source gives its first `limit` entities by (label,
    id), every relationship to them, and (except at the last step, where accounts are neither
    shown nor walked from) all its accounts. A degree is counted where the hub rule needs it
    (every step but the last) and at the last step only when it is asked for; rows reached at
    the last step are counted after the cut to `first`, so a request pays for what it shows."""
    accounts = (
        "" if last else f" UNION ALL MATCH (n)-[r:{_ECO}]-(m) WHERE NOT m:{_ENTITY_MATCH} RETURN m, [type(r)] AS rels"
    )
    degree = "null" if last else f"COUNT {{ (m)-[:{_ECO}]-() }}"
    frontier = "[]" if last else "[f IN found WHERE f[2] <= $hub | f[0]]"
    return (
        "CALL (frontier, seen, rows) { "
        "UNWIND frontier AS n "
        "WITH n, $first - size(rows) + size(seen) AS limit "
        "CALL (n, limit) { "
        f"MATCH (n)-[r:{_ECO}]-(m:{_ENTITY_MATCH}) "
        "WITH m, collect(type(r)) AS rels ORDER BY labels(m)[0], m.id "
        "WITH limit, collect([m, rels]) AS near "
        f"UNWIND near[..limit] AS k RETURN k[0] AS m, k[1] AS rels{accounts} }} "
        "WITH m, rels WHERE NOT m IN seen "
        "UNWIND rels AS rel WITH m, collect(DISTINCT rel) AS rels "
        f"WITH m, rels, {degree} AS degree ORDER BY labels(m)[0], m.id "
        "RETURN collect([m, rels, degree]) AS found } "
        "WITH seen + [f IN found | f[0]] AS seen, "
        f"rows + [f IN found WHERE labels(f[0])[0] IN $entities | [f[0], {depth}, f[1], f[2]]] AS rows, found "
        f"WITH seen, rows, CASE WHEN size(rows) >= $first THEN [] ELSE {frontier} END AS frontier "
    )


def _walk_query(label: str, hops: int, degrees: bool) -> str:
    """The whole walk as one statement, built from the closed label set: no start node, no row;
    otherwise one row holding the walk's rows (node, hops, relationship types, degree), cut to
    `first`, each with its degree counted now if it was asked for and not counted on the way."""
    count = f"coalesce(r[3], COUNT {{ (m)-[:{_ECO}]-() }})" if degrees else "r[3]"
    return (
        f"MATCH (start:{label} {{id: $id}}) "
        "WITH [start] AS seen, [start] AS frontier, [] AS rows "
        + "".join(_hop_query(depth, depth == hops) for depth in range(1, hops + 1))
        + "CALL (rows) { UNWIND rows[..$first] AS r WITH r, r[0] AS m "
        f"RETURN collect([labels(m)[0], m.id, m.name, r[1], r[2], {count}]) AS walk }} "
        "RETURN walk"
    )


_WALK = {
    (label, hops, degrees): _walk_query(label, hops, degrees)
    for label in LABELS
    for hops in range(1, 5)
    for degrees in (False, True)
}
_EXISTS = {label: f"MATCH (n:{label} {{id: $id}}) RETURN count(n) AS n" for label in LABELS}


def _merge_rel_query(rel: str, start: str) -> str:
    _, end, key_prop = RELATIONSHIPS[rel]
    key = f" {{{key_prop}: row.{key_prop}}}" if key_prop else ""
    return (
        f"UNWIND $rows AS row MATCH (a:{start} {{id: row.start}}) MATCH (b:{end} {{id: row.end}}) "
        f"MERGE (a)-[r:{rel}{key}]->(b) SET r += row.props"
    )


_MERGE_REL = {
    (rel, start): _merge_rel_query(rel, start) for rel, (starts, _, _) in RELATIONSHIPS.items() for start in starts
}
_TARGETS = [(rel, start) for rel, (starts, _, _) in RELATIONSHIPS.items() for start in starts]

# What a sync writes. Rows travel as lists, one value per column (no key repeated in every row:
# less to pack and to read), and each becomes the item's whole property set (a null leaves the
# property out). Into an empty target a first load CREATEs: no lookup of an item that cannot be
# there, and the uniqueness constraints, made before, still hold. Property names come from the
# sync's own queries; they are checked as identifiers before any text is formed.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _props(columns: Sequence[str], first: int) -> str:
    """A map literal of `row[first:]`, one entry per column."""
    for c in columns:
        if not _NAME.fullmatch(c):
            raise ValueError(f"not a property name: {c!r}")
    return "{" + ", ".join(f"{c}: row[{first + i}]" for i, c in enumerate(columns)) + "}"


@lru_cache(maxsize=256)
def _write_node_query(label: str, columns: tuple[str, ...], new: bool) -> str:
    """Rows are [id, *columns]."""
    if label not in LABELS:
        raise ValueError(f"unknown label: {label!r}")
    props = _props(("id", *columns), 0)
    if new:
        return f"UNWIND $rows AS row CREATE (n:{label} {props})"
    return f"UNWIND $rows AS row MERGE (n:{label} {{id: row[0]}}) SET n = {props}"


@lru_cache(maxsize=256)
def _write_rel_query(rel: str, start: str, columns: tuple[str, ...], new: bool) -> str:
    """Rows are [start, end, *columns]."""
    if (rel, start) not in _TARGETS:
        raise ValueError(f"unknown relationship: {rel!r} from {start!r}")
    _, end, key_prop = RELATIONSHIPS[rel]
    props = _props(columns, 2)
    match = f"UNWIND $rows AS row MATCH (a:{start} {{id: row[0]}}) MATCH (b:{end} {{id: row[1]}}) "
    if new:
        return match + f"CREATE (a)-[r:{rel} {props}]->(b)"
    key = f" {{{key_prop}: row[{2 + columns.index(key_prop)}]}}" if key_prop else ""
    return match + f"MERGE (a)-[r:{rel}{key}]->(b) SET r = {props}"


def _columns(rows: Sequence[dict], skip: tuple[str, ...]) -> tuple[str, ...]:
    """Every key the rows hold, in first-seen order, but the ids."""
    return tuple(k for k in dict.fromkeys(k for r in rows for k in r) if k not in skip)


_NODE_DIGESTS = {label: f"MATCH (n:{label}) RETURN n.id, n.{DIGEST}" for label in LABELS}
_NODE_TOTALS = {
    label: f"MATCH (n:{label}) WITH n.{DIGEST} AS d "
    "RETURN count(*), coalesce(sum(d / 2147483648), 0), coalesce(sum(d % 2147483648), 0)"
    for label in LABELS
}
_DELETE_NODES = {label: f"UNWIND $ids AS i MATCH (n:{label} {{id: i}}) DETACH DELETE n" for label in LABELS}


def _rel_pattern(rel: str, start: str, a: str = "", b: str = "") -> str:
    return f"(a:{start}{a})-[r:{rel}]->(b:{RELATIONSHIPS[rel][1]}{b})"


def _key(rel: str) -> str:
    return f"r.{RELATIONSHIPS[rel][2]}" if RELATIONSHIPS[rel][2] else "null"


_REL_DIGESTS = {
    (rel, start): f"MATCH {_rel_pattern(rel, start)} RETURN a.id, b.id, {_key(rel)}, r.{DIGEST}"
    for rel, start in _TARGETS
}
_REL_TOTALS = {
    (rel, start): f"MATCH {_rel_pattern(rel, start)} WITH r.{DIGEST} AS d "
    "RETURN count(*), coalesce(sum(d / 2147483648), 0), coalesce(sum(d % 2147483648), 0)"
    for rel, start in _TARGETS
}
_DELETE_RELS = {
    (rel, start): f"UNWIND $keys AS k MATCH {_rel_pattern(rel, start, ' {id: k[0]}', ' {id: k[1]}')} "
    f"WHERE {_key(rel)} IS NULL OR {_key(rel)} = k[2] DELETE r"
    for rel, start in _TARGETS
}

_FEATURES = {
    "payroll_employer": "MATCH (i:Individual)-[e:EMPLOYED_BY]->(:Enterprise) WHERE e.payroll "
    "RETURN i.id AS customer_id, 1 AS n",
    "controls": "MATCH (i:Individual)-[:CONTROLS]->(e:Enterprise) RETURN i.id AS customer_id, count(DISTINCT e) AS n",
    "household_members": "MATCH (i:Individual)-[:MEMBER_OF]->(:Household)<-[:MEMBER_OF]-(o:Individual) "
    "WHERE o <> i RETURN i.id AS customer_id, count(o) AS n",
    "co_holders": "MATCH (i:Individual)-[:OWNS|CO_HOLDS]->(:Account)<-[:OWNS|CO_HOLDS]-(o:Individual) "
    "WHERE o <> i RETURN i.id AS customer_id, count(DISTINCT o) AS n",
    "supply_chain": "MATCH (i:Individual)-[:CONTROLS]->(:Enterprise)-[:SUPPLIES]-(x:Enterprise) "
    "RETURN i.id AS customer_id, count(DISTINCT x) AS n",
}


# The server is not there, or not answering: what the breaker counts. A query it rejects is not.
_DOWN = (ServiceUnavailable, SessionExpired, ConnectionPoolError, DatabaseUnavailable, OSError)


def _values(result: neo4j.Result) -> list[list]:
    """Records as plain lists: a request's walk needs no frame, and building one costs more than it."""
    return result.values()


def _consumed(result: neo4j.Result) -> None:
    """A write's result, read to its end and dropped: no frame built for an empty answer."""
    result.consume()


def _timed_out(exc: Neo4jError) -> bool:
    return "TransactionTimedOut" in (exc.code or "")


def _quoted(name: str) -> str:
    """A schema name the server listed, as a Cypher identifier (names cannot be parameters)."""
    return "`" + name.replace("`", "``") + "`"


@contextmanager
def _translated(uri: str):
    """Driver errors become the data layer's own, with no server internals in the text."""
    try:
        yield
    except _DOWN as exc:
        raise GraphUnavailable(f"Neo4j at {uri} is unreachable ({type(exc).__name__})") from None
    except AuthError:
        raise StoreUnavailable("Neo4j refused the credentials (CLIENTSTRATA_NEO4J_USER/_PASSWORD)") from None
    except Neo4jError as exc:
        raise ClientStrataError(f"Neo4j query failed: {exc.code}") from None


class Neo4jGraph(GraphStore):
    """Calls that find the server down fail after `connect_timeout`, and a read that serves a
    request after `query_timeout`; once `breaker` has seen the server fail it fails them at once."""

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str],
        database: str = "neo4j",
        *,
        connect_timeout: float = 3.0,
        query_timeout: float = 10.0,
        breaker: CircuitBreaker | None = None,
        writers: int = 1,
    ) -> None:
        self.uri, self.database = uri, database
        # a sync's writes go to `writers` threads, so the next batch is read and packed while
        # the server writes the one before; any other call waits for them first (`_drain`)
        self.writers = writers
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()
        self._pending_target: object = None
        self.connect_timeout, self.query_timeout = connect_timeout, query_timeout
        self.breaker = breaker or CircuitBreaker()
        self.driver = neo4j.GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=connect_timeout,
            connection_acquisition_timeout=2 * connect_timeout,
            # managed calls retry a lost server until this budget is spent: the driver's 30 s
            # default is what made each graph field of a request wait half a minute
            max_transaction_retry_time=connect_timeout,
        )

    @property
    def call_timeout(self) -> float:
        """The longest a read that serves a request can take: connecting, then the query."""
        return self.connect_timeout + self.query_timeout + 1.0

    def __repr__(self) -> str:
        return f"Neo4jGraph(uri={self.uri!r}, database={self.database!r}, breaker={self.breaker.state!r})"

    def _run(
        self,
        query: str,
        routing=neo4j.RoutingControl.WRITE,
        timeout: float | None = None,
        _as: Callable = neo4j.Result.to_df,
        **params,
    ):
        if self._pending and not threading.current_thread().name.startswith(_WRITER):
            self._drain()  # a read sees every write before it; a write lands after them
        return self._send(query, routing, timeout, _as, **params)

    def _submit(self, target: object, query: str, **params) -> None:
        """A write handed to the writer threads. Writes of one target (a label, a relationship
        type) may overlap; another target's first write waits for them (relationships MATCH the
        nodes written before). At most two batches a writer are held, so memory stays bounded."""
        if target != self._pending_target:
            self._drain()
            self._pending_target = target
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.writers, thread_name_prefix=_WRITER)
        self._pending.append(self._pool.submit(self._send, query, _as=_consumed, **params))
        while len(self._pending) > 2 * self.writers:
            self._pending.popleft().result()

    def _drain(self) -> None:
        """Wait for every write handed off; the first that failed is raised once all are done."""
        failed = None
        while self._pending:
            try:
                self._pending.popleft().result()
            except BaseException as exc:  # the others still finish before it is raised
                failed = failed or exc
        self._pending_target = None
        if failed is not None:
            raise failed

    def _send(
        self,
        query: str,
        routing=neo4j.RoutingControl.WRITE,
        timeout: float | None = None,
        _as: Callable = neo4j.Result.to_df,
        **params,
    ):
        with _translated(self.uri):
            try:
                # a query the server stopped at its timeout is an answer: the server is up, and one
                # costly walk must not open the breaker for everyone else's requests
                with self.breaker.guard(_DOWN):
                    return self.driver.execute_query(
                        neo4j.Query(query, timeout=timeout),
                        params,
                        database_=self.database,
                        routing_=routing,
                        result_transformer_=_as,
                    )
            except Open:
                raise GraphUnavailable(f"Neo4j at {self.uri} failed just now; the next try is due shortly") from None
            except Neo4jError as exc:
                if _timed_out(exc):
                    raise GraphUnavailable(f"Neo4j at {self.uri} did not answer within {timeout:g} s") from None
                raise

    def _read(self, query: str, _as: Callable = neo4j.Result.to_df, **params):
        """A read that serves a request: the server stops it at the query timeout, and a server
        that does not answer at all (frozen, or cut off mid-reply) is given up on after
        `call_timeout`; its thread is left to the driver, which never times out a reply."""
        if self.breaker.state == "open":
            raise GraphUnavailable(f"Neo4j at {self.uri} failed just now; the next try is due shortly")
        answer: Future = Future()

        def read() -> None:
            try:
                answer.set_result(self._run(query, neo4j.RoutingControl.READ, self.query_timeout, _as, **params))
            except BaseException as exc:  # handed to the caller, who re-raises it
                answer.set_exception(exc)

        # a daemon thread: one stuck on a frozen server must not hold the process open at exit. The
        # breaker bounds how many there are: it opens after a few, and then admits one probe at a time
        threading.Thread(target=read, name="neo4j-read", daemon=True).start()
        try:
            return answer.result(timeout=self.call_timeout)
        except FutureTimeout:
            self.breaker.failed()
            raise GraphUnavailable(f"Neo4j at {self.uri} did not answer within {self.call_timeout:g} s") from None

    def _scan(self, query: str, **params) -> pd.DataFrame:
        """A read over the whole graph for a job (features, counts): it grows with the bank."""
        return self._run(query, neo4j.RoutingControl.READ, **params)

    def flush(self) -> None:
        self._drain()

    def close(self) -> None:
        try:
            self._drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            self.driver.close()

    def ping(self) -> None:
        self._read("RETURN 1 AS ok")

    def ensure_schema(self) -> None:
        """One uniqueness constraint on `id` per label (MERGE on an indexed key stays fast), from
        whatever state an interrupted sync or a server crash left: IF NOT EXISTS covers the
        constraints already made, but not an index no constraint owns that holds the
        constraint's name or its key (`IndexWithNameAlreadyExists`, `IndexAlreadyExists`).
        Such an index is dropped first: the constraint brings its own."""
        constraints = self._run("SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties")
        done = {
            (labels[0], tuple(props))
            for kind, labels, props in zip(
                constraints["type"], constraints["labelsOrTypes"], constraints["properties"], strict=True
            )
            if "UNIQUENESS" in kind and labels and props is not None
        }
        indexes = self._run("SHOW INDEXES YIELD name, labelsOrTypes, properties, owningConstraint")
        for label in LABELS:
            if (label, ("id",)) in done:
                continue
            name = f"{label.lower()}_id"
            for index, labels, props, owner in zip(
                indexes["name"],
                indexes["labelsOrTypes"],
                indexes["properties"],
                indexes["owningConstraint"],
                strict=True,
            ):
                on_key = list(labels or ()) == [label] and list(props or ()) == ["id"]
                if pd.isna(owner) and (index == name or on_key):
                    self._run("DROP INDEX " + _quoted(index) + " IF EXISTS")
            self._run(f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE")

    def merge_nodes(self, label: str, rows: Sequence[dict]) -> None:
        query = _MERGE_NODE[label]
        for i in range(0, len(rows), BATCH):
            batch = [{"id": r["id"], "props": {k: v for k, v in r.items() if k != "id"}} for r in rows[i : i + BATCH]]
            self._run(query, rows=batch)

    def merge_relationships(self, rel_type: str, start_label: str, rows: Sequence[dict]) -> None:
        query = _MERGE_REL[(rel_type, start_label)]
        key_prop = RELATIONSHIPS[rel_type][2]
        for i in range(0, len(rows), BATCH):
            batch = [
                {
                    "start": r["start"],
                    "end": r["end"],
                    **({key_prop: r[key_prop]} if key_prop else {}),
                    "props": {k: v for k, v in r.items() if k not in ("start", "end", key_prop)},
                }
                for r in rows[i : i + BATCH]
            ]
            self._run(query, rows=batch)

    def write_nodes(self, label: str, rows: Sequence[dict], *, new: bool = False) -> None:
        columns = _columns(rows, ("id",))
        query = _write_node_query(label, columns, new)
        for i in range(0, len(rows), WRITE_BATCH):
            batch = [[r["id"], *[r.get(c) for c in columns]] for r in rows[i : i + WRITE_BATCH]]
            self._submit(label, query, rows=batch)

    def write_relationships(self, rel_type: str, start_label: str, rows: Sequence[dict], *, new: bool = False) -> None:
        columns = _columns(rows, ("start", "end"))
        query = _write_rel_query(rel_type, start_label, columns, new)
        for i in range(0, len(rows), WRITE_BATCH):
            batch = [[r["start"], r["end"], *[r.get(c) for c in columns]] for r in rows[i : i + WRITE_BATCH]]
            self._submit((rel_type, start_label), query, rows=batch)

    def delete_nodes(self, label: str, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), BATCH):
            self._run(_DELETE_NODES[label], _as=_consumed, ids=list(ids[i : i + BATCH]))

    def delete_relationships(self, rel_type: str, start_label: str, keys: Sequence[RelKey]) -> None:
        for i in range(0, len(keys), BATCH):
            self._run(_DELETE_RELS[(rel_type, start_label)], _as=_consumed, keys=[list(k) for k in keys[i : i + BATCH]])

    def node_digests(self, label: str) -> dict[str, int | None]:
        return dict(self._run(_NODE_DIGESTS[label], neo4j.RoutingControl.READ, _as=_values))

    def relationship_digests(self, rel_type: str, start_label: str) -> dict[RelKey, int | None]:
        found = self._run(_REL_DIGESTS[(rel_type, start_label)], neo4j.RoutingControl.READ, _as=_values)
        return {(s, e, k): d for s, e, k, d in found}

    def node_totals(self, label: str) -> Totals:
        return tuple(self._run(_NODE_TOTALS[label], neo4j.RoutingControl.READ, _as=_values)[0])

    def relationship_totals(self, rel_type: str, start_label: str) -> Totals:
        return tuple(self._run(_REL_TOTALS[(rel_type, start_label)], neo4j.RoutingControl.READ, _as=_values)[0])

    def clear(self) -> None:
        """Relationships first, then nodes, a bounded number a transaction: ten thousand nodes
        detached at once can hold a product's every relationship, past the server's memory pool."""
        for query in (
            "MATCH ()-[r]->() WITH r LIMIT 20000 DELETE r RETURN count(*) AS n",
            "MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n",
        ):
            while self._run(query)["n"].iloc[0]:
                pass

    def _exists(self, label: str, node_id: str) -> bool:
        return bool(self._read(_EXISTS[label], id=node_id)["n"].iloc[0])

    def neighbourhood(self, frontier: Mapping[str, Sequence[str]], limit: int | None = None) -> pd.DataFrame:
        unknown = set(frontier) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels: {sorted(unknown)}")
        df = self._read(
            _NEIGHBOURHOOD,
            frontier={label: list(frontier.get(label, ())) for label in LABELS},
            limit=_NO_LIMIT if limit is None else int(limit),
        )
        return df if len(df) else pd.DataFrame(columns=NEIGHBOUR_COLUMNS)

    def _walk(self, customer_id, hops, label, first, hub_degree, degrees):
        """The walk in one statement and one round trip, its rows as plain tuples."""
        records = self._read(
            _WALK[(label, hops, degrees)],
            id=customer_id,
            first=_UNBOUNDED if first is None else min(int(first), _UNBOUNDED),
            hub=_UNBOUNDED if hub_degree is None else int(hub_degree),
            entities=list(ENTITY_LABELS),
            _as=_values,
        )
        if not records:
            raise NotFound(label.lower(), customer_id)
        return [
            (l, i, name, depth, ",".join(sorted(rels)), degree) for l, i, name, depth, rels, degree in records[0][0]
        ]

    def household(self, household_id: str) -> HouseholdView:
        found = self.households([household_id])
        if household_id not in found:
            raise NotFound("household", household_id)
        return found[household_id]

    def households(self, household_ids: Sequence[str]) -> dict[str, HouseholdView]:
        df = self._read(
            "MATCH (h:Household) WHERE h.id IN $ids OPTIONAL MATCH (i:Individual)-[r:MEMBER_OF]->(h) "
            "RETURN h.id AS hid, h.name AS hname, h.status AS status, i.id AS customer_id, "
            "i.name AS name, r.role AS role, coalesce(i.aum, 0.0) AS aum",
            ids=list(household_ids),
        )
        out = {}
        for hid, part in df.groupby("hid", sort=False):
            members = part.dropna(subset=["customer_id"])[["customer_id", "name", "role", "aum"]]
            members = members.astype({"aum": float}).sort_values("customer_id").reset_index(drop=True)
            out[hid] = HouseholdView(
                hid,
                part["hname"].iloc[0],
                part["status"].iloc[0] or "confirmed",
                round(float(members["aum"].sum()), 2),
                members,
            )
        return out

    def ecosystem_features(self) -> pd.DataFrame:
        parts = []
        for name in ECOSYSTEM_FEATURES:
            part = self._scan(_FEATURES[name])
            if len(part):
                parts.append(part.set_index("customer_id")["n"].rename(name))
        if not parts:
            return pd.DataFrame(columns=["customer_id", *ECOSYSTEM_FEATURES])
        df = pd.concat(parts, axis=1).reindex(columns=list(ECOSYSTEM_FEATURES)).fillna(0).astype("int64")
        df = df[df.sum(axis=1) > 0].rename_axis("customer_id").reset_index()
        return df.sort_values("customer_id").reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        nodes = self._scan("MATCH (n) RETURN labels(n)[0] AS k, count(*) AS n")
        rels = self._scan("MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS n")
        both = pd.concat([nodes, rels])
        return dict(sorted((k, int(n)) for k, n in zip(both["k"], both["n"])))
