"""The `governance:` and `alerts:` blocks (jobs/classification/blocks.py) are part of the
standard's one schema: a bad block is refused when the standard is loaded or parsed, with its
file and line, before any run, what-if or schedule touches a database."""

from __future__ import annotations

import copy
import math
import re
from importlib import resources

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.jobs.classification.standard import InvalidStandard, load_standard, parse_standard
from clientstrata.jobs.runs.pipeline import classify
from clientstrata.jobs.runs.schedule import classify_if_due
from clientstrata.jobs.runs.whatif import whatif
from clientstrata.jobs.runs.whatif_requests import queue_whatif

TEXT = resources.files("clientstrata.jobs.classification").joinpath("standards", "default.yaml").read_text("utf-8")
FULL = yaml.safe_load(TEXT)
# A partial standard with the section the blocks refer to (wealth_tier's bands; risk levels and
# AML ratings fall back to the built-in ones), so hundreds of hostile variants parse in seconds.
BASE = {**FULL, "dimensions": {"wealth_tier": FULL["dimensions"]["wealth_tier"]}}


class Untouchable:
    """An engine, graph or connection that fails the test if anything uses it."""

    def __getattr__(self, name: str):
        raise AssertionError(f"something ran: .{name} was used before the standard was refused")


NOBODY = Untouchable()


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _block_lines(text: str, block: str) -> range:
    """The lines of a top-level block, from its key to the line before the next top-level key."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines, 1) if line.startswith(f"{block}:"))
    end = next((i - 1 for i, line in enumerate(lines, 1) if i > start and line[:1].strip()), len(lines))
    return range(start, end + 1)


@pytest.mark.parametrize(
    "old, new, key, problem",
    [
        (
            "dormant: {severity: medium}",
            "dormant: {severity: urgent}",
            "alerts.dormant.severity",
            "'urgent' is not one of low, medium, high",
        ),
        (
            "retag_every_months: 3 ",
            "retag_every_months: 0 ",
            "governance.retag_every_months",
            "must be a whole number of months from 1 to 120 (got 0)",
        ),
        (
            "channels: [sms, email]",
            "channels: [sms, fax]",
            "governance.notify.channels[1]",
            "unknown channel 'fax' (channels: letter, sms, email)",
        ),
    ],
)
def test_a_bad_block_is_refused_on_load_with_file_and_line(tmp_path, old, new, key, problem):
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidStandard) as err:
        load_standard(path)
    line = _line(text, new)
    assert str(err.value) == f"{path}, line {line}: {key}: {problem}"
    assert (err.value.line, err.value.key) == (line, key)
    # … and so before anything runs, whichever door the standard comes in by
    for attempt in (
        lambda: classify(NOBODY, NOBODY, path, progress=False),
        lambda: whatif(NOBODY, NOBODY, path),
        lambda: classify_if_due(NOBODY, NOBODY, path),
        lambda: queue_whatif(NOBODY, "ana", text),
    ):
        with pytest.raises(InvalidStandard, match=re.escape(f"line {line}: {key}: ")):
            attempt()


def test_block_defaults_must_fit_the_standard_too():
    """An entry the file leaves out takes its default, which may name a band this standard lacks."""
    doc = copy.deepcopy(BASE)
    for band in doc["dimensions"]["wealth_tier"]["bands"]:
        band["value"] = band["value"].replace("affluent", "comfortable")
    del doc["alerts"], doc["playbook"]  # the playbook names the bands too (tests/jobs/strategies)
    with pytest.raises(InvalidStandard, match="alerts.valuable.min_tier: 'affluent' is not a wealth_tier band"):
        parse_standard(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    doc["alerts"] = {"valuable": {"min_tier": "comfortable"}, "birthday": {"tiers": ["wealth"]}}
    assert parse_standard(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)).alerts == doc["alerts"]


# --- hostile blocks ----------------------------------------------------------------------------

# The rules, restated independently of the declaration: (entry, key) → (lo, hi, whole number).
ALERT_NUMBERS = {
    ("valuable", "min_value_decile"): (1, 10, True),
    ("aum_outflow", "drop_pct"): (0.01, 100, False),
    ("aum_outflow", "months"): (1, 11, True),
    ("near_upgrade", "within_pct"): (0.01, 100, False),
    ("risk_appetite_drift", "min_product_risk"): (1, 5, True),
    ("product_maturity", "within_days"): (0, 366, True),
    ("birthday", "within_days"): (0, 60, True),
    ("demand_signal", "large_transfer_min"): (1, 1e12, False),
    ("demand_signal", "lookback_days"): (1, 366, True),
    ("demand_signal", "cross_border_min_count"): (1, 10_000, True),
}
ALERT_LISTS = [
    ("risk_appetite_drift", "conservative_levels"),
    ("product_maturity", "families"),
    ("birthday", "tiers"),
    ("aml_red_flag", "ratings"),
]
ALERT_ENTRIES = list(FULL["alerts"])

# values of the wrong kind; "x-…" names nothing a standard defines
unknown_name = st.text(min_size=1, max_size=12).map(lambda s: f"x-{s}")
scalars = st.one_of(unknown_name, st.integers(), st.floats(), st.booleans())
not_a_mapping = st.one_of(scalars, st.lists(scalars, max_size=3))
not_a_list = st.one_of(scalars, st.dictionaries(unknown_name, scalars, min_size=1, max_size=2))
unknown_key = st.one_of(unknown_name, st.integers())


def just_past(lo: float, hi: float, whole: bool) -> list[float]:
    """The values just outside a setting's range, where an off-by-one hides."""
    return [math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)] + ([lo - 1, hi + 1, lo + 0.5] if whole else [])


def bad_number(lo: float, hi: float, whole: bool):
    """Half the time just past a bound, else anything out of range or not a number."""
    edges = just_past(lo, hi, whole)
    beyond = [
        st.floats(max_value=lo, exclude_max=True),
        st.floats(min_value=hi, exclude_min=True),
        st.just(math.nan),
        unknown_name,
        st.booleans(),
        st.none(),
        st.lists(st.integers(min_value=int(lo) + 1, max_value=int(hi)), min_size=1, max_size=2),
    ]
    if whole:
        beyond.append(st.floats(min_value=lo, max_value=hi).filter(lambda x: not x.is_integer()))
    return st.one_of(st.sampled_from(edges), st.one_of(beyond))


bad_list = st.one_of(not_a_list, st.just([]), st.lists(unknown_name, min_size=1, max_size=3))


def edit(block: str, path, value) -> st.SearchStrategy:
    """(block, path below it, hostile value); `path` a tuple or a strategy of tuples."""
    paths = path if isinstance(path, st.SearchStrategy) else st.just(path)
    return st.tuples(st.just(block), paths, value)


# one branch per thing that can be wrong, so each is drawn about as often as the others
HOSTILE = st.one_of(
    edit("alerts", (), not_a_mapping),
    edit("alerts", unknown_name.map(lambda k: (k,)), st.dictionaries(unknown_name, scalars, max_size=2)),
    *(edit("alerts", (e,), not_a_mapping.filter(lambda v: v is not False)) for e in ALERT_ENTRIES),
    edit("alerts", st.tuples(st.sampled_from(ALERT_ENTRIES), unknown_key), scalars),
    *(edit("alerts", k, bad_number(*bounds)) for k, bounds in ALERT_NUMBERS.items()),
    *(edit("alerts", k, bad_list) for k in ALERT_LISTS),
    *(
        edit("alerts", (e, "severity"), st.one_of(unknown_name, st.integers(), st.booleans(), st.just(["high"])))
        for e in ALERT_ENTRIES
        if e != "valuable"
    ),
    edit("alerts", ("valuable", "min_tier"), st.one_of(unknown_name, st.integers(), st.none(), st.just([]))),
    edit("alerts", ("aml_red_flag", "on_rise"), st.one_of(unknown_name, st.integers(), st.none())),
    edit("governance", (), not_a_mapping),
    edit("governance", unknown_key.map(lambda k: (k,)), scalars),
    edit("governance", ("retag_every_months",), bad_number(1, 120, True)),
    edit("governance", ("notify",), not_a_mapping),
    edit("governance", st.tuples(st.just("notify"), unknown_key), scalars),
    edit("governance", ("notify", "dimensions"), st.one_of(not_a_list, st.lists(unknown_name, min_size=1))),
    edit("governance", ("notify", "channels"), bad_list),
)


def _apply(doc: dict, block: str, path: tuple, value) -> None:
    if not path:
        doc[block] = value
        return
    *parents, last = path
    if not isinstance(doc.get(block), dict):
        doc[block] = {}
    node = doc[block]
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[last] = value


def _refused(doc: dict) -> InvalidStandard:
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    with pytest.raises(InvalidStandard) as err:  # a what-if of it records nothing: the connection is never used
        queue_whatif(NOBODY, "ana", text)
    e = err.value
    assert e.line in _block_lines(text, e.key.split(".")[0]), (str(e), text)
    assert str(e).startswith(f"draft, line {e.line}: {e.key}: ")
    return e


@pytest.mark.parametrize(
    "block, path, value",
    [
        *(("alerts", k, v) for k, bounds in ALERT_NUMBERS.items() for v in just_past(*bounds)),
        *(("alerts", k, []) for k in ALERT_LISTS),
        *(("governance", ("retag_every_months",), v) for v in just_past(1, 120, True)),
        ("governance", ("notify", "channels"), []),
    ],
)
def test_every_setting_is_refused_just_past_its_bounds(block, path, value):
    doc = copy.deepcopy(BASE)
    _apply(doc, block, path, value)
    assert _refused(doc).key == ".".join((block, *path))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=1, max_size=2))
def test_every_hostile_block_is_refused_at_parse_with_its_line_and_nothing_runs(edits):
    doc = copy.deepcopy(BASE)
    for block, path, value in edits:
        _apply(doc, block, path, value)
    assert _refused(doc).key.split(".")[0] in {block for block, _, _ in edits}
