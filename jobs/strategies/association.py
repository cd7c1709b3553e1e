"""Product association rules for cross-sell (交叉销售): what customers hold together.

Baskets are the products (or product families) each customer holds now. Co-holding counts
come from sparse matrix products — items × items for pairs, frequent pairs × items for
triples — so a million baskets never pass through a Python loop. For an antecedent A and a
consequent c, over N baskets:

    support    = |A ∪ {c}| / N
    confidence = |A ∪ {c}| / |A|
    lift       = confidence / (|{c}| / N)

Thresholds are parameters (the standard will hold them).

Suitability (适当性) is a hard rule in every recommendation path: `recommend` has no default
for `allowed`, and drops every candidate it refuses before ranking, so a refused product
never takes a slot and is never returned. Pass the suitability check the dimensions expose;
`per_row` adapts a scalar `allowed(customer_id, product_id) -> bool`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from clientstrata.graph.errors import InvalidInput

__all__ = ["holdings", "association_rules", "recommend", "per_row", "rank_within", "Allowed", "RULE_COLUMNS"]

# Vectorised suitability check: candidates (customer_id, product_id) in, one bool per row out.
Allowed = Callable[[pd.DataFrame], "np.ndarray | pd.Series | list[bool]"]

RULE_COLUMNS = [
    "antecedent",
    "consequent",
    "antecedent_size",
    "support",
    "confidence",
    "lift",
    "n_antecedent",
    "n_consequent",
    "n_both",
    "n_baskets",
]


def holdings(conn, level: str = "product") -> pd.DataFrame:
    """customer_id, item: what each individual holds now — open accounts, running loans
    (status C/D) and cards — as product ids (`level="product"`) or families ("family")."""
    if level not in ("product", "family"):
        raise InvalidInput(f"level must be 'product' or 'family', not {level!r}")
    col = "p.product_id" if level == "product" else "p.family"
    sql = f"""
        SELECT a.owner_id AS customer_id, {col} AS item FROM accounts a
          JOIN products p ON p.product_id = a.product_id
          WHERE a.owner_type = 'individual' AND a.status <> 'closed'
        UNION SELECT a.owner_id, {col} FROM loans l JOIN accounts a ON a.account_id = l.account_id
          JOIN products p ON p.product_id = l.product_id
          WHERE a.owner_type = 'individual' AND l.status IN ('C', 'D')
        UNION SELECT c.holder_id, {col} FROM cards c JOIN products p ON p.product_id = c.product_id"""
    # the driver's own tuples, on the connection's transaction: building a Row per holding and
    # copying it into a tuple was most of this read
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall()
    finally:
        cur.close()
    return pd.DataFrame(rows, columns=["customer_id", "item"], dtype=object)  # Arrow text inferred cost more


def _basket_matrix(baskets: pd.DataFrame):
    from scipy import sparse

    b = baskets[["customer_id", "item"]].dropna()
    # customers numbered in the order found: every count is a sum over baskets, whatever their
    # order (sorting a million ids as text was most of the mining); items in the text's order,
    # which the rules are read in
    rows, customers = pd.factorize(b["customer_id"].to_numpy(dtype=object), sort=False)
    cols, items = pd.factorize(b["item"], sort=True)
    # duplicates dropped on the codes, not on the text (sorted, then each run's first: numpy's
    # own unique of integers cost thirty times this)
    pairs = np.sort(rows.astype(np.int64) * max(len(items), 1) + cols)
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    rows, cols = pairs // max(len(items), 1), pairs % max(len(items), 1)
    x = sparse.csr_matrix((np.ones(len(pairs), dtype=np.int64), (rows, cols)), shape=(len(customers), len(items)))
    return x, np.asarray(items, dtype=object)


def association_rules(
    baskets: pd.DataFrame,
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    min_lift: float = 1.0,
    max_len: int = 3,
    n_baskets: int | None = None,
) -> pd.DataFrame:
    """Rules A → c with |A| = 1 (and 2 when max_len ≥ 3) from a long frame customer_id, item.
    `n_baskets` is N; by default the number of customers in `baskets` (pass the number of all
    customers to count empty baskets too). Sorted by lift × confidence, best first."""
    if max_len not in (2, 3):
        raise InvalidInput("max_len must be 2 (pairs) or 3 (pairs and triples)")
    x, items = _basket_matrix(baskets)
    n = int(n_baskets if n_baskets is not None else x.shape[0])
    if n <= 0 or x.shape[1] == 0:
        return pd.DataFrame(columns=RULE_COLUMNS)
    if n < x.shape[0]:
        raise InvalidInput(f"n_baskets={n} is fewer than the {x.shape[0]} customers with holdings")
    count = np.asarray(x.sum(axis=0)).ravel()
    pair = (x.T @ x).toarray()  # items × items co-holding counts; diagonal = item counts
    min_count = min_support * n
    out = []

    a, c = np.nonzero(pair >= max(min_count, 1))
    keep = a != c
    a, c = a[keep], c[keep]
    out.append(
        pd.DataFrame(
            {
                "antecedent": [(items[i],) for i in a],
                "consequent": items[c],
                "antecedent_size": 1,
                "n_antecedent": count[a],
                "n_consequent": count[c],
                "n_both": pair[a, c],
            }
        )
    )

    if max_len == 3:
        ia, ib = np.nonzero(np.triu(pair >= max(min_count, 1), k=1))  # frequent pairs a < b
        if len(ia):
            both = x[:, ia].multiply(x[:, ib]).tocsc()  # baskets × frequent pairs
            triple = (both.T @ x).toarray()  # frequent pairs × items
            p, c3 = np.nonzero(triple >= max(min_count, 1))
            keep = (c3 != ia[p]) & (c3 != ib[p])
            p, c3 = p[keep], c3[keep]
            out.append(
                pd.DataFrame(
                    {
                        "antecedent": [(items[ia[j]], items[ib[j]]) for j in p],
                        "consequent": items[c3],
                        "antecedent_size": 2,
                        "n_antecedent": pair[ia[p], ib[p]],
                        "n_consequent": count[c3],
                        "n_both": triple[p, c3],
                    }
                )
            )

    rules = pd.concat(out, ignore_index=True)
    rules["n_baskets"] = n
    rules["support"] = rules["n_both"] / n
    rules["confidence"] = rules["n_both"] / rules["n_antecedent"]
    rules["lift"] = rules["confidence"] / (rules["n_consequent"] / n)
    rules = rules[(rules["confidence"] >= min_confidence) & (rules["lift"] >= min_lift)]
    for col in ("n_antecedent", "n_consequent", "n_both", "n_baskets"):
        rules[col] = rules[col].astype(np.int64)
    order = (rules["lift"] * rules["confidence"]).sort_values(ascending=False, kind="stable").index
    return rules.loc[order, RULE_COLUMNS].reset_index(drop=True)


def per_row(fn: Callable[[str, str], bool]) -> Allowed:
    """Adapt a scalar suitability check `fn(customer_id, product_id) -> bool` to `recommend`.
    One Python call per candidate: prefer a vectorised check for millions of customers."""

    def check(candidates: pd.DataFrame) -> np.ndarray:
        return np.fromiter(
            (bool(fn(c, p)) for c, p in zip(candidates["customer_id"], candidates["product_id"])),
            dtype=bool,
            count=len(candidates),
        )

    return check


def rank_within(groups: np.ndarray) -> np.ndarray:
    """1, 2, … within each run of equal values of a sorted array (a cumcount without a groupby)."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    start = np.r_[True, groups[1:] != groups[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(groups)), 0))
    return np.arange(len(groups)) - first + 1


def _in_text_order(ids: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """(codes, uniques) as `pd.factorize(ids, sort=True)`. A run's holdings come sorted by
    customer (`nba._by_customer`): then the order found is the text's, and the uniques need no
    sort (a partition's 50,000 ids compared as text)."""
    if len(ids) and pd.Index(ids, dtype=object).is_monotonic_increasing:
        codes, uniques = pd.factorize(ids, sort=False)
    else:
        codes, uniques = pd.factorize(ids, sort=True)
    return codes, pd.Index(uniques, dtype=object)


def recommend(
    customer_holdings: pd.DataFrame, rules: pd.DataFrame, top_n: int = 3, *, allowed: Allowed
) -> pd.DataFrame:
    """Up to `top_n` products per customer that they do not hold yet, ranked by the best
    lift × confidence of a rule whose antecedent they hold.

    `allowed` is mandatory: it receives the candidates as a frame (customer_id, product_id)
    and returns one bool per row; refused candidates are dropped before ranking. Columns:
    customer_id, rank, product_id, score, lift, confidence, because (the antecedent)."""
    cols = ["customer_id", "rank", "product_id", "score", "lift", "confidence", "because"]
    if allowed is None or not callable(allowed):
        raise InvalidInput(
            "recommend needs allowed=: the suitability check is a hard rule in every recommendation path"
        )
    h = customer_holdings[["customer_id", "item"]].dropna()
    if h.empty or rules.empty:
        return pd.DataFrame(columns=cols)
    # integer codes in the order of the text, so sorting the codes sorts the text: merges and
    # sorts on text keys were most of the cost at a million customers
    cust, customers = _in_text_order(h["customer_id"].to_numpy(dtype=object))
    ant = rules["antecedent"].to_numpy(dtype=object)
    names = pd.Index(
        pd.unique(
            np.concatenate([h["item"].to_numpy(dtype=object), rules["consequent"].to_numpy(dtype=object)])
        ).astype(object)
    ).sort_values()
    item = names.get_indexer(h["item"])
    n_items = len(names)
    # each (customer, item) once, where it first appears (drop_duplicates' rows), told apart by
    # its codes rather than by hashing the text pairs again
    _, first = np.unique(cust.astype(np.int64) * n_items + item, return_index=True)
    first = np.sort(first)
    cust, item = cust[first], item[first]
    r = pd.DataFrame(
        {
            "consequent": names.get_indexer(rules["consequent"]),
            "score": (rules["lift"] * rules["confidence"]).to_numpy(dtype=float),
            "lift": rules["lift"].to_numpy(dtype=float),
            "confidence": rules["confidence"].to_numpy(dtype=float),
            "rule": np.arange(len(rules)),
            "size": rules["antecedent_size"].to_numpy(),
        }
    )
    hc = pd.DataFrame({"customer": cust.astype(np.int64), "item": item.astype(np.int64)})
    single = r[r["size"] == 1].assign(item=[names.get_loc(a[0]) if a[0] in names else -1 for a in ant[r["size"] == 1]])
    cand = [hc.merge(single.drop(columns="size"), on="item")]
    double = r[r["size"] == 2]
    if len(double):
        pairs_ant = ant[r["size"] == 2]
        double = double.assign(
            a=[names.get_loc(t[0]) if t[0] in names else -1 for t in pairs_ant],
            b=[names.get_loc(t[1]) if t[1] in names else -1 for t in pairs_ant],
        )
        pairs = hc.merge(hc, on="customer", suffixes=("_a", "_b"))
        pairs = pairs[pairs["item_a"] < pairs["item_b"]].rename(columns={"item_a": "a", "item_b": "b"})
        cand.append(pairs.merge(double.drop(columns="size"), on=["a", "b"]))
    c = pd.concat(cand, ignore_index=True)
    cc, pc = c["customer"].to_numpy(np.int64), c["consequent"].to_numpy(np.int64)
    c = c[~np.isin(cc * n_items + pc, hc["customer"].to_numpy() * n_items + hc["item"].to_numpy())]  # not held
    # per (customer, product) the best score (first of equals in candidate order), as a stable sort would
    order = np.lexsort((-c["score"].to_numpy(), c["consequent"].to_numpy(), c["customer"].to_numpy()))
    c = c.iloc[order]
    key = c["customer"].to_numpy(np.int64) * n_items + c["consequent"].to_numpy(np.int64)
    c = c[np.r_[True, key[1:] != key[:-1]]] if len(c) else c
    if c.empty:
        return pd.DataFrame(columns=cols)
    c = c.assign(
        customer_id=customers.to_numpy(dtype=object)[c["customer"].to_numpy()],
        product_id=names.to_numpy(dtype=object)[c["consequent"].to_numpy()],
    )
    mask = np.asarray(allowed(c[["customer_id", "product_id"]].reset_index(drop=True)), dtype=bool)
    if mask.shape != (len(c),):
        raise InvalidInput(
            f"allowed returned {mask.shape[0] if mask.ndim else 'a scalar'} values "
            f"for {len(c)} candidates: it must return one bool per row"
        )
    c = c[mask]
    c = c.iloc[np.lexsort((c["consequent"].to_numpy(), -c["score"].to_numpy(), c["customer"].to_numpy()))]
    rank = rank_within(c["customer"].to_numpy())
    c = c.assign(rank=rank)[rank <= top_n]
    because = pd.Series([" + ".join(t) for t in ant], dtype=object)
    c = c.assign(because=because.to_numpy()[c["rule"].to_numpy()])
    return c[cols].reset_index(drop=True)
