"""Strategies (策略制定): what the bank does for each segment. Reserved for the strategy layer;
today it holds the product association rules that rank cross-sell products."""
