"""Every change on the feed says why, in both languages: a run by the reason it gave for the new
value (never the words of an override decided later), an override by who decided what."""

import datetime as dt

import sqlalchemy as sa

from clientstrata.graph.record.queries import tags_by_customer
from clientstrata.jobs.governance.overrides import (
    approve_override,
    expire_overrides,
    propose_override,
    revoke_override,
)
from clientstrata.jobs.runs.change_reasons import change_reasons
from clientstrata.jobs.runs.changes import changes_after
from clientstrata.jobs.runs.explain import computed_words, with_standards
from clientstrata.jobs.runs.pipeline import classify


def _feed(engine, after=0):
    with engine.connect() as conn:
        rows = changes_after(conn, after, 9999)
        return rows, change_reasons(conn, rows)


def _run_words(engine, run_id, customer_id, dimension):
    with engine.connect() as conn:
        tag = next(t for t in tags_by_customer(conn, [customer_id], run_id)[customer_id] if t["dimension"] == dimension)
        with_standards(conn, [tag])
    return computed_words(tag, "en"), computed_words(tag, "zh")


def test_each_change_says_why_in_both_languages(loaded, set_aum, customer_in):
    engine, graph = loaded
    first, reasons = _feed(engine)
    assert first and set(reasons) == {r["seq"] for r in first}  # every change has its reason
    for r in first[:: max(1, len(first) // 40)]:
        assert reasons[r["seq"]] == _run_words(engine, 1, r["customer_id"], r["dimension"]), r
    assert all(en and zh and en != zh for en, zh in reasons.values())
    cursor = first[-1]["seq"]

    riser, pinned, ended = customer_in("wealth_tier", "mass")[:3]
    set_aum(riser, 2_000_000)
    run = classify(engine, graph, progress=False).run_id
    with engine.begin() as conn:
        pin = propose_override(conn, "mei", pinned, "wealth_tier", "affluent", "assets pledged")
        approve_override(conn, "li", pin.override_id)
        # an override approved after the run: the run's change keeps the run's own reason
        late = propose_override(conn, "mei", riser, "wealth_tier", "affluent", "pending review")
        approve_override(conn, "li", late.override_id)
        revoke_override(conn, "zhou", pin.override_id, "mandate withdrawn")
        lapse = propose_override(
            conn, "mei", ended, "wealth_tier", "affluent", "trial", expires_on=dt.date.today() + dt.timedelta(days=1)
        )
        approve_override(conn, "li", lapse.override_id)
        assert expire_overrides(conn, today=dt.date.today() + dt.timedelta(days=1)) == [lapse.override_id]

    rows, reasons = _feed(engine, cursor)
    by = {(r["source"], r["customer_id"], r["new_value"], r["override_id"]): reasons[r["seq"]] for r in rows}
    rise = by[("run", riser, "wealth", None)]
    assert rise == _run_words(engine, run, riser, "wealth_tier")
    assert "override" not in rise[0] and "人工调整" not in rise[1]
    assert by[("override", pinned, "affluent", pin.override_id)] == (
        f"manual override #{pin.override_id} (proposed by mei, approved by li): assets pledged",
        f"人工调整 #{pin.override_id}（mei 提出，li 批准）：assets pledged",
    )
    revoked = by[("override", pinned, "mass", pin.override_id)]  # the run's value again
    assert revoked == (
        f"manual override #{pin.override_id} revoked by zhou; the run's value applies again",
        f"人工调整 #{pin.override_id} 已由 zhou 撤销，恢复系统计算值",
    )
    day = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert by[("override", ended, "mass", lapse.override_id)] == (
        f"manual override #{lapse.override_id} expired on {day}; the run's value applies again",
        f"人工调整 #{lapse.override_id} 已于 {day} 到期，恢复系统计算值",
    )
    assert by[("override", riser, "affluent", late.override_id)][0].startswith(f"manual override #{late.override_id} ")


def test_a_tag_a_run_no_longer_gives_says_so(loaded):
    engine, _ = loaded
    with engine.begin() as conn:
        cid = conn.execute(sa.text("SELECT customer_id FROM tags WHERE run_id = 1 LIMIT 1")).scalar_one()
        row = {
            "seq": -1,
            "source": "run",
            "run_id": 1,
            "override_id": None,
            "customer_id": cid,
            "dimension": "no_such_dimension",
            "new_value": None,
        }
        assert change_reasons(conn, [row]) == {
            -1: ("run #1 no longer gives this classification", "第 1 次分类运行不再给出此分类")
        }
