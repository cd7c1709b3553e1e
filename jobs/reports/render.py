"""A report frame as JSON (`report_to_dict`) or a printable table (`render_text`), for the CLI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def report_to_dict(df: pd.DataFrame) -> dict:
    rows = [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]
    meta = {k: _plain(v) for k, v in df.attrs.items()}
    return {**meta, "rows": rows}


def render_text(df: pd.DataFrame, max_rows: int = 60) -> str:
    a = df.attrs
    shown = df.head(max_rows)
    body = shown.to_string(index=False, float_format=lambda x: f"{x:,.4g}" if abs(x) < 1 else f"{x:,.2f}")
    lines = [a.get("title", ""), body]
    if len(df) > max_rows:
        lines.append(f"… {len(df) - max_rows:,} more rows (--json for all)")
    if a.get("summary"):
        lines.append(a["summary"])
    lines += [f"note: {n}" for n in a.get("notes", [])]
    return "\n".join(line for line in lines if line)
