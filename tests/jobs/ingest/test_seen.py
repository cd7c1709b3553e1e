import numpy as np
import pandas as pd

from clientstrata.jobs.ingest.seen import SeenKeys


def test_first_row_of_every_key_across_many_merged_runs():
    seen, rng = SeenKeys(), np.random.default_rng(1)
    keys = pd.Series([f"T{i:010d}" for i in rng.permutation(20_000)])
    for start in range(0, len(keys), 700):  # 29 chunks: runs merge as they grow
        part = keys.iloc[start : start + 700]
        assert seen.first_rows(part).isna().all()
        seen.add(part, pd.Series(np.arange(start, start + len(part)) + 1, index=part.index))
    assert len(seen) == 20_000 and len(seen._runs) <= 15
    probe = pd.Series(["T0000000007", "nope", keys.iloc[19_999], keys.iloc[0]], index=[5, 6, 7, 8])
    got = seen.first_rows(probe)
    assert got.index.tolist() == [5, 6, 7, 8]
    assert np.isnan(got.iloc[1]) and got.tolist()[2:] == [20_000.0, 1.0]
    assert got.iloc[0] == keys[keys == "T0000000007"].index[0] + 1
