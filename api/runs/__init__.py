"""Runs: classification runs (start, history, migration), what-if drafts and the change feed —
the transport for `jobs/runs/`."""
