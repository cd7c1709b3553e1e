"""Ingest: the bundle contract, source readers, validation and dedupe keys, the Berka adapter,
the synthetic bank, the load itself, rollups and the sync into the graph."""
