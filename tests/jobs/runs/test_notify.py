import pytest
import sqlalchemy as sa

from clientstrata.jobs.classification.standard import InvalidStandard, load_standard
from clientstrata.jobs.governance.standards import Governance, governance_of
from clientstrata.jobs.runs.notify import outbox
from clientstrata.jobs.runs.pipeline import BEFORE_COMMIT, TAGS_WRITTEN, classify

NOTIFY = "governance:\n  retag_every_months: 3\n  notify: {dimensions: [wealth_tier], channels: [letter, email]}\n"


def test_only_changed_customers_are_notified_on_the_configured_channels(loaded, set_aum, customer_in, write_standard):
    engine, graph = loaded
    std = write_standard(extra=NOTIFY)
    riser, faller = customer_in("wealth_tier", "mass")[0], customer_in("wealth_tier", "affluent")[0]
    set_aum(riser, 700_000)
    set_aum(faller, 1_000, every_month=True)
    report = classify(engine, graph, std, progress=False, adopt=True, requested_by="chair")
    with engine.connect() as conn:
        box = outbox(conn, run_id=report.run_id)
        first = outbox(conn, run_id=1)
    assert first.empty  # a first classification is not a change
    assert report.notifications == len(box) == 4
    assert set(box["customer_id"]) == {riser, faller}
    assert sorted(box[box["customer_id"] == riser]["channel"]) == ["email", "letter"]
    assert set(box["template"]) == {"wealth_tier_changed"} and set(box["status"]) == {"pending"}
    p = box[box["customer_id"] == riser]["payload"].iloc[0]
    assert (p["old_value"], p["new_value"]) == ("mass", "wealth")
    assert (p["old_label_zh"], p["new_label_zh"], p["new_label_en"]) == ("大众客户", "财富客户", "Wealth")
    assert "700,000" in p["explanation"] and p["run_id"] == report.run_id
    q = box[box["customer_id"] == faller]["payload"].iloc[0]
    assert (q["old_value"], q["new_value"]) == ("affluent", "mass")
    # a re-run with nothing changed notifies nobody
    again = classify(engine, graph, std, progress=False)
    assert again.notifications == 0 and again.changes == 0


@pytest.mark.parametrize("point", [(TAGS_WRITTEN, 300), (BEFORE_COMMIT, 0)])
def test_a_run_that_dies_leaves_outbox_feed_and_previous_run_untouched(
    loaded, set_aum, customer_in, write_standard, crash_run, point
):
    engine, graph = loaded
    std = write_standard(extra=NOTIFY)
    set_aum(customer_in("wealth_tier", "mass")[0], 700_000)

    def state():
        with engine.connect() as conn:
            return [
                conn.execute(sa.text(q)).all()
                for q in (
                    "SELECT run_id, status FROM classification_runs WHERE status = 'published'",
                    "SELECT run_id, count(*) FROM tags GROUP BY run_id",
                    "SELECT count(*), max(seq) FROM classification_changes",
                    "SELECT count(*) FROM notifications",
                )
            ]

    before = state()
    with pytest.raises(RuntimeError, match="simulated"):
        classify(engine, graph, std, progress=False, on_stage=crash_run(*point), adopt=True, requested_by="chair")
    assert state() == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM classification_runs WHERE run_id = 2")).scalar() == "failed"
    report = classify(engine, graph, std, progress=False)  # the next run publishes what the failed one did not
    with engine.connect() as conn:
        tier_changes = conn.execute(
            sa.text("SELECT count(*) FROM classification_changes WHERE run_id = 3 AND dimension = 'wealth_tier'")
        ).scalar_one()
    assert report.run_id == 3 and report.notifications == 2 and tier_changes == 1 <= report.changes


def test_governance_block_is_validated_with_clear_messages(write_standard):
    assert governance_of(load_standard()) == Governance()  # the packaged block states the defaults
    cases = {
        "governance: {retag_every_months: 0}\n": "retag_every_months: must be a whole number of months from 1 to 120",
        "governance: {notify: {channels: [fax]}}\n": "unknown channel 'fax'",
        "governance: {notify: {dimensions: [wealth_teir]}}\n": "'wealth_teir' is not a dimension of this standard",
        "governance: {retag_every: 3}\n": "governance.retag_every: unknown key",
    }
    for i, (extra, message) in enumerate(cases.items()):
        path = write_standard(extra=extra, name=f"s{i}.yaml")
        with pytest.raises(InvalidStandard, match=message):
            governance_of(load_standard(path))
    gov = governance_of(load_standard(write_standard(extra=NOTIFY, name="ok.yaml")))
    assert gov == Governance(3, ("wealth_tier",), ("letter", "email"))
