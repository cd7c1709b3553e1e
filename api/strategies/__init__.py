"""GraphQL area for strategies: a customer's service package, plays, risk measures, prices and
points; the playbook; a segment's strategy; next-best actions, work lists, outcomes and their effect."""
