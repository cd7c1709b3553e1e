"""Reports for the classification committee and analysts, as DataFrames (and plots)."""
