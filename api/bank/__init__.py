"""The bank's own organisation: branches and relationship managers."""
