"""Plots of report frames for analysts (matplotlib, imported only when a plot is asked for)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pyplot():
    # A bare Figure needs no GUI backend and no pyplot state; Jupyter's inline backend shows it.
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'clientstrata[plot]'", name="matplotlib") from exc
    return Figure


_CJK_FAMILIES = (
    "Noto Sans CJK",
    "Noto Sans SC",
    "Source Han Sans",
    "WenQuanYi",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Heiti",
    "Sarasa",
)


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in sorted(names) if any(n.startswith(c) for c in _CJK_FAMILIES)), None)


def plot_tier_distribution(df: pd.DataFrame):
    """Bars: share of customers and share of AUM per tier (from `tier_distribution`)."""
    Figure = _pyplot()
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    x = np.arange(len(df))
    ax.bar(x - 0.2, df["share"], width=0.4, label="customers")
    ax.bar(x + 0.2, df["aum_share"], width=0.4, label="AUM")
    cjk = _cjk_font()
    if cjk:
        ax.set_xticks(x, [f"{e}\n{z}" for e, z in zip(df["label_en"], df["label_zh"])], fontfamily=cjk)
    else:  # no font with Chinese glyphs installed: English labels only, rather than empty boxes
        ax.set_xticks(x, list(df["label_en"]))
    ax.set_ylabel("share")
    ax.set_title(df.attrs.get("title", "tier distribution"))
    ax.legend()
    fig.tight_layout()
    return fig


def plot_pareto(df: pd.DataFrame):
    """Cumulative contribution share against customer share, largest contributors first
    (from `contribution_concentration`), with the target point marked."""
    Figure = _pyplot()
    curve = np.asarray(df.attrs["curve"])
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    ax.plot(curve[:, 0], curve[:, 1], label=df.attrs.get("basis", "contribution"))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="equal shares")
    xs, ys = df.attrs["customer_share_for_target"], df.attrs["share_reached"]
    ax.scatter([xs], [ys], color="red", zorder=3)
    ax.annotate(df.attrs["summary"].split(";")[0], (xs, ys), textcoords="offset points", xytext=(10, -15))
    ax.set_xlabel("share of customers (largest first)")
    ax.set_ylabel(f"cumulative share of {df.attrs.get('basis', 'contribution')}")
    ax.set_title(df.attrs.get("title", "concentration"))
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
