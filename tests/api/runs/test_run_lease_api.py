"""Pollers over the API see a run whose process was killed as failed once its lease lapses,
instead of `running` for ever (jobs/runs/lease.py)."""

import time

from clientstrata.jobs.runs.lease import WORKER_DIED

RUN = "query($id: Int!) { run(id: $id) { status error } }"
RUNS = "{ runs(first: 5) { edges { node { id status } } } }"


def test_a_killed_run_is_seen_failed_by_its_pollers(app, loaded, make_token, gql, kill_midway):
    analyst = make_token("marketing_analyst")
    kill_midway(lease=1.0)  # run 2 dies mid-publish, left `running`
    deadline = time.monotonic() + 30
    while (run := gql(app, analyst, RUN, id=2)["data"]["run"])["status"] == "running":
        assert time.monotonic() < deadline, "a poller waited for a dead run"
        time.sleep(0.3)
    assert run == {"status": "failed", "error": WORKER_DIED}
    edges = gql(app, analyst, RUNS)["data"]["runs"]["edges"]
    assert [(e["node"]["id"], e["node"]["status"]) for e in edges] == [(2, "failed"), (1, "published")]
