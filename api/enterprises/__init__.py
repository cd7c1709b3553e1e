"""Enterprises (对公客户): industry, size, tags, linked individuals and supply chain."""
