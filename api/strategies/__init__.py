"""Strategies over GraphQL: next-best actions, work lists, outcomes and their effect."""
