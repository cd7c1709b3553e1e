"""The `clientstrata` command: the operator's and scheduler's entry to every job and to the API server."""
