"""Households: members with roles and the household's combined AUM."""
