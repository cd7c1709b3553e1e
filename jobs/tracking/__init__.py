"""Tracking (客户跟踪): alerts raised for relationship managers, and customer feedback.

Alerts flow `settings` (the standard's `alerts:` block, with defaults) → `rules` (pure detectors,
DataFrame in, DataFrame out) → `detection` (what a run reads for them, bound per partition) →
`alerts` (the records: routed, written once, acknowledged, listed). `feedback` records surveys,
complaints and compliments."""
