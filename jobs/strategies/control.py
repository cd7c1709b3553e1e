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
    """The uniform draw in [0, 1) of each (customer, action)."""
    s = salt.encode()
    return np.fromiter(
        (
            int.from_bytes(
                hashlib.sha256(s + b"\x1f" + str(a).encode() + b"\x1f" + str(c).encode()).digest()[:8], "big"
            )
            / _SCALE
            for c, a in zip(customer_ids, action_keys)
        ),
        dtype=float,
        count=len(customer_ids),
    )


def in_control(rows: pd.DataFrame, share, salt: str) -> np.ndarray:
    """One bool per row (customer_id, action_key): held out. `share` is one number or one per row."""
    if rows.empty:
        return np.zeros(0, dtype=bool)
    return holdout_draw(rows["customer_id"].to_numpy(), rows["action_key"].to_numpy(), salt) < np.asarray(
        share, dtype=float
    )
