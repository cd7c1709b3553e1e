"""Governance: the standards register and what a standard allows, and maker–checker overrides."""
