"""The next-best actions' rewritten parts against the functions they replaced, in one process. A
script:

    .venv/bin/python tests/benchmarks/bench_action_parts.py --db DIR/clientstrata.db --out results/FILE.json

On a classified bank: the first partition of 50,000 individuals as a run hands it over (its tag
grid, customer frame and holdings), then each part timed nine times with this code and with the
reference kept in baselines/strategy_rows.py, alternating, CPU seconds (min and median): suitability
on 30,000 rows, `recommend` on the partition, mining the bank's rules. A whole first run's stage
varies by more than these parts weigh on a shared machine (bench_strategy.py); here each part is
compared with itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "baselines"))

import bench_strategy  # noqa: E402
import strategy_rows as before  # noqa: E402

from clientstrata.graph.record.queries import latest_run_id  # noqa: E402
from clientstrata.jobs.governance.standards import live_standard  # noqa: E402
from clientstrata.jobs.strategies import arbitration, association, engagement, nba  # noqa: E402
from clientstrata.jobs.strategies.tag_grid import pivot_tags  # noqa: E402


def _times(fn, n: int = 9) -> list[float]:
    out = []
    for _ in range(n):
        c = time.process_time()
        fn()
        out.append(time.process_time() - c)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    engine = sa.create_engine(f"sqlite:///{args.db}")
    with engine.connect() as conn:
        std = live_standard(conn)
        tags, _ = bench_strategy._read(conn, latest_run_id(conn))
        people = set(conn.execute(sa.text("SELECT customer_id FROM individuals")).scalars().all())
        inputs = nba.action_inputs(conn, std)
        held = association.holdings(conn)
    tags = tags[tags["customer_id"].isin(people)].reset_index(drop=True)
    part = tags[tags["customer_id"].isin(tags["customer_id"].unique()[:50_000])]
    selectors = {d for spec in inputs.settings.services.values() for d in spec.get("segments") or {}}
    customers = arbitration._plain(engagement.customer_frame(pivot_tags(part), inputs.id_on_record, selectors))
    ids = customers["customer_id"].to_numpy(dtype=object)
    h = arbitration._plain(nba._of(inputs.holdings, ids))
    offers = inputs.catalogue[inputs.catalogue["action"] == "product_offer"]
    rules = inputs.rules[inputs.rules["consequent"].isin(offers["product_id"])]
    risk = offers.set_index("product_id")["product_risk"]

    def allowed(check):
        return lambda c: check(c.assign(product_risk=c["product_id"].map(risk)), customers)

    rows = pd.DataFrame(
        {
            "customer_id": ids[:30_000],
            "product_risk": np.resize(np.array(["R1", "R3", "R5", None], dtype=object), min(30_000, len(ids))),
        }
    )
    mining = {"min_support": 0.01, "min_confidence": 0.1, "min_lift": 1.0}
    n = len(people)
    parts = {
        "suitable_mask (30,000 rows)": (
            lambda: before.suitable_mask(rows, customers),
            lambda: engagement.suitable_mask(rows, customers),
        ),
        "recommend (a partition)": (
            lambda: before.recommend(h, rules, len(offers), allowed=allowed(before.suitable_mask)),
            lambda: association.recommend(h, rules, len(offers), allowed=allowed(engagement.suitable_mask)),
        ),
        "association_rules (the bank)": (
            lambda: before.association_rules(held, n_baskets=n, **mining),
            lambda: association.association_rules(held, n_baskets=n, **mining),
        ),
    }
    out = {"individuals": n, "load_avg_1m": [round(os.getloadavg()[0], 2)], "parts": {}}
    for name, (main_fn, new_fn) in parts.items():
        got = {"main": [], "new": []}
        for _ in range(2):  # alternating
            got["main"] += _times(main_fn)
            got["new"] += _times(new_fn)
        out["parts"][name] = {
            lab: {"min": round(min(t), 3), "median": round(statistics.median(t), 3), "runs": len(t)}
            for lab, t in got.items()
        }
        print(name, out["parts"][name])
    out["load_avg_1m"].append(round(os.getloadavg()[0], 2))
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
