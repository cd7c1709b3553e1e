"""Customers: the connection, the customer view, tags and the bulk table."""
