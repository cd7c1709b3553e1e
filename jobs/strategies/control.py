"""The control group (对照组): a stable, hashed holdout per action that gets no action.

A customer is in an action's control group when sha256(salt, action key, customer id), read as a
number in [0, 1), falls below the action's share: the same customer stays in (or out of) the
same action's holdout run after run, independent of the order or the partition they come in,
and the holdouts of two actions are independent of each other."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["holdout_draw", "in_control"]

_SCALE = float(2**64)


def holdout_draw(customer_ids, action_keys, salt: str) -> np.ndarray:
    """The uniform draw in [0, 1) of each (customer, action): the first 8 bytes of
    sha256(salt 0x1f action 0x1f customer), big-endian, over 2**64. The hash of each action's
    prefix is taken once and copied per customer (the same digest, less work per row)."""
    s = salt.encode()
    prefixes: dict = {}
    digests = []
    for c, a in zip(customer_ids, action_keys):
        prefix = prefixes.get(a)
        if prefix is None:
            prefix = prefixes[a] = hashlib.sha256(s + b"\x1f" + str(a).encode() + b"\x1f")
        h = prefix.copy()
        h.update(str(c).encode())
        digests.append(h.digest()[:8])
    return np.frombuffer(b"".join(digests), dtype=">u8").astype(float) / _SCALE


def in_control(rows: pd.DataFrame, share, salt: str) -> np.ndarray:
    """One bool per row (customer_id, action_key): held out. `share` is one number or one per row."""
    if rows.empty:
        return np.zeros(0, dtype=bool)
    return holdout_draw(rows["customer_id"].to_numpy(), rows["action_key"].to_numpy(), salt) < np.asarray(
        share, dtype=float
    )
