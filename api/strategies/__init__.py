"""GraphQL area for strategies: a customer's service package, plays, risk measures and prices;
the playbook; a segment's strategy."""
