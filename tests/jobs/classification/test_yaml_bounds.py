"""A standard's YAML is bounded before anything walks it: its size, its aliases written out, an
alias inside itself and nesting deeper than the parser recurses are each refused at once, with
the line where one can be named; a real standard is untouched by the bounds."""

import time
from importlib import resources

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.classification.standard import InvalidStandard, parse_standard
from clientstrata.jobs.classification.yaml_bounds import MAX_NODES, MAX_STANDARD_BYTES, Unbounded, check_expansion

DEFAULT = resources.files("clientstrata.jobs.classification").joinpath("standards", "default.yaml").read_text("utf-8")


def laughs(width: int, depth: int) -> str:
    """Each level an anchored list of `width` aliases of the level before: width**depth leaves."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
    return "\n".join(lines) + f"\nversion: *l{depth - 1}\n"


def expanded(width: int, depth: int) -> int:
    """Nodes once written out: each level's list node and its items, keys and values of the mapping."""
    per = [1 + width]
    for _ in range(1, depth):
        per.append(1 + width * per[-1])
    return 1 + sum(1 + p for p in per) + 1 + per[-1]  # the mapping, each key and value, and `version`


def test_the_billion_laughs_is_refused_at_once_with_its_line():
    started = time.perf_counter()
    with pytest.raises(InvalidStandard) as err:
        parse_standard(laughs(10, 6), "draft.yaml")  # 9 s of CPU before the bound
    assert time.perf_counter() - started < 1.0
    assert f"its aliases expand to more than {MAX_NODES:,} nodes" in str(err.value)
    assert str(err.value).startswith("draft.yaml, line ") and err.value.line is not None


def test_an_alias_inside_itself_is_refused():
    with pytest.raises(InvalidStandard, match="line 1: an alias refers to the node that contains it"):
        parse_standard("a: &a [1, *a]\n", "draft.yaml")


def test_an_oversized_or_too_deep_draft_is_refused():
    big = "# " + "x" * MAX_STANDARD_BYTES + "\n" + DEFAULT
    with pytest.raises(InvalidStandard, match=f"over the limit of {MAX_STANDARD_BYTES:,}"):
        parse_standard(big, "draft.yaml")
    with pytest.raises(InvalidStandard, match="nested too deeply"):
        parse_standard("[" * 50_000 + "]" * 50_000, "draft.yaml")


def test_the_default_standard_and_its_aliased_copy_pass():
    assert parse_standard(DEFAULT).version
    aliased = DEFAULT.replace("dimensions:", "dimensions: &dims", 1) + "\n# a copy\nx_unused: 0\n"
    check_expansion(yaml.compose(aliased))  # within the bounds; the schema, not the bounds, refuses the key


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=9))
def test_the_expansion_is_counted_exactly_and_refused_past_the_limit(width, depth):
    text = laughs(width, depth)
    size = expanded(width, depth)
    limit = 5_000
    tree = yaml.compose(text)
    if size > limit:
        with pytest.raises(Unbounded, match="aliases expand"):
            check_expansion(tree, limit)
    else:
        check_expansion(tree, limit)
        check_expansion(tree, size)
        with pytest.raises(Unbounded):
            check_expansion(tree, size - 1)
