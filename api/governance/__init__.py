"""Governance: manual overrides (maker–checker) and the audit log — the transport for
`jobs/governance/` and the record's audit trail."""
