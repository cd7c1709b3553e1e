"""The cross-sell rules a run uses: mined again only when what they are mined from changed.

Mining the association rules reads every customer's holdings into a sparse matrix and multiplies
it; at a million customers that was a sizeable part of the strategy stage, though holdings only
change with an ingest. The rules are kept (`cross_sell_rules`) under a digest of exactly what
`association_rules` is given: every (customer, item) holding — an order-free sum of row hashes,
so the same holdings read in another order give the same key — the number of baskets and the
mining parameters. Any change to one of them mines again; nothing else can make the stored
rules stale. A run writes the rules it mined in its own transaction and says which it used
(`used`: key, mined or reused, how many rules); a reader (one customer's actions on request)
only reads them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record.models import CrossSellRuleSet

from .association import RULE_COLUMNS, association_rules

__all__ = ["rules_key", "mined_rules"]

_table = CrossSellRuleSet.__table__
_INTS = ("antecedent_size", "n_antecedent", "n_consequent", "n_both", "n_baskets")
_FLOATS = ("support", "confidence", "lift")


def rules_key(held: pd.DataFrame, n_baskets: int, params: dict) -> str:
    """The digest of what the rules are mined from (holdings: customer_id, item)."""
    rows = pd.util.hash_pandas_object(held[["customer_id", "item"]].astype(object), index=False).to_numpy()
    with np.errstate(over="ignore"):  # sums modulo 2**64: order-free
        total, squares = int(rows.sum(dtype=np.uint64)), int((rows * rows).sum(dtype=np.uint64))
    basis = json.dumps([len(rows), total, squares, int(n_baskets), sorted(params.items())], default=str)
    return hashlib.sha256(basis.encode()).hexdigest()


def _encode(rules: pd.DataFrame) -> str:
    frame = rules[RULE_COLUMNS].assign(antecedent=[list(a) for a in rules["antecedent"]])
    return json.dumps(frame.to_dict("split")["data"])


def _decode(text: str) -> pd.DataFrame:
    rules = pd.DataFrame(json.loads(text), columns=RULE_COLUMNS)
    if rules.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    rules["antecedent"] = [tuple(a) for a in rules["antecedent"]]
    return rules.astype({**dict.fromkeys(_INTS, np.int64), **dict.fromkeys(_FLOATS, float)})


def mined_rules(
    conn: Connection, held: pd.DataFrame, n_baskets: int, params: dict, store: bool, now: dt.datetime | None = None
) -> tuple[pd.DataFrame, dict]:
    """(rules, used): the stored rules when their key is this input's, else mined now (and
    stored, replacing the last ones, when `store`). `params`: `association_rules`' thresholds."""
    key = rules_key(held, n_baskets, params)
    found = conn.execute(sa.select(_table.c.rules).where(_table.c.key == key)).scalar()
    if found is not None:
        rules = _decode(found)
        return rules, {"key": key, "mined": False, "rules": len(rules)}
    rules = association_rules(held, n_baskets=n_baskets, **params)
    if store:
        conn.execute(sa.delete(_table))  # one rule set: the latest holdings' (a run rolled back restores it)
        conn.execute(
            sa.insert(_table).values(key=key, rules=_encode(rules), n_rules=len(rules), mined_at=now or utcnow())
        )
    return rules, {"key": key, "mined": True, "rules": len(rules)}
