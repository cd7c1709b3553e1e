"""The relational record (SQLAlchemy): models, engine and migrations, reads, the relationship-manager
book rule (`access`), the audit log and PII masking. Database errors leave it as `StoreUnavailable`
(`db_errors`)."""
