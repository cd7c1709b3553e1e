"""Progress bars count whole units: an operator reads "3/7 steps", not "3.00/7.00"."""

from hypothesis import given
from hypothesis import strategies as st

from clientstrata.jobs.progress import bar


@given(total=st.integers(1, 10**8), unit=st.sampled_from(["rows", "steps", "tables", "customers"]), data=st.data())
def test_counts_are_whole(total, unit, data):
    done = data.draw(st.integers(0, total))
    with bar(total, unit=unit, progress=True) as b:
        b.update(done)
        shown = str(b)
    assert f"{done}/{total}" in shown and "." not in shown.split("|")[-1].split("[")[0]
