"""Governance: classification runs (start, history, migration), what-if drafts, manual
overrides (maker–checker), the change feed and the audit log."""
