"""Classification runs: orchestration, publish, the change feed, the notification outbox,
scheduling, what-ifs, the background worker and the history of runs."""
