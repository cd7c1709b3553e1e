"""Segments: the values of a dimension as customer groups, with counts and AUM."""
