"""Reports for the classification committee and analysts, as DataFrames.

Every report reads a published run (the latest by default) and works on the tags table
generically, so a dimension another job adds is reportable as soon as it is published; a
dimension with no tags in the run is a clear `MissingDimension` error, never an empty table.
Each frame carries `attrs`: report, title, run_id, summary (one sentence) and notes.
`report_to_dict` and `render_text` turn one into JSON or a printable table (the CLI's
`clientstrata report <name>`); `plot_tier_distribution` and `plot_pareto` draw them
(matplotlib, imported only when called).
"""

from .base import MissingDimension, resolve_run
from .books import branch_view, rm_book
from .catalogue import REPORTS, run_report
from .concentration import contribution_concentration
from .plots import plot_pareto, plot_tier_distribution
from .quality import data_quality
from .render import render_text, report_to_dict
from .segments import clusters, distribution, segment_summary, tier_distribution

__all__ = [
    "MissingDimension",
    "REPORTS",
    "run_report",
    "report_to_dict",
    "render_text",
    "resolve_run",
    "segment_summary",
    "distribution",
    "tier_distribution",
    "contribution_concentration",
    "branch_view",
    "rm_book",
    "data_quality",
    "clusters",
    "plot_tier_distribution",
    "plot_pareto",
]
