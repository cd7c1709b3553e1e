"""An ingest accounts for what it changed: per table the rows inserted, updated and unchanged, the
rows each column changed in, a sample of before/after values with PII masked, and its id on
every row it inserted or changed (and on no other)."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from clientstrata.graph.record.models import Base, IngestRun
from clientstrata.graph.record.pii import mask_phone
from clientstrata.jobs.ingest.bundle import TABLE_BY_NAME
from clientstrata.jobs.ingest.load import ingest

COLUMNS = TABLE_BY_NAME["individuals"].column_names


def _base(bundle_dir, tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    for t in ("branches", "relationship_managers", "individuals"):
        shutil.copy(bundle_dir / f"{t}.csv", base / f"{t}.csv")
    return base


def _stamps(engine, table="individuals") -> dict[str, int | None]:
    t = Base.metadata.tables[table]
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(t.c[TABLE_BY_NAME[table].key[0]], t.c.ingest_id)).all())


def _table(report, name):
    return report.to_dict()["tables"][name]


def test_a_reingest_counts_every_row_unchanged_and_stamps_none(engine, bundle_dir, tmp_path):
    base = _base(bundle_dir, tmp_path)
    first = ingest(base, engine=engine, progress=False)
    t = _table(first, "individuals")
    assert (t["inserted"], t["updated"], t["unchanged"]) == (t["loaded"], 0, 0) == (300, 0, 0)
    again = ingest(base, engine=engine, progress=False)
    d = again.to_dict()
    assert (d["inserted"], d["updated"], d["unchanged"]) == (0, 0, d["loaded"])
    assert _table(again, "individuals")["changed_fields"] == {} and _table(again, "individuals")["new"] == 0
    assert set(_stamps(engine).values()) == {first.ingest_id}


def test_an_update_is_counted_with_its_fields_and_a_masked_sample(engine, bundle_dir, tmp_path):
    base = _base(bundle_dir, tmp_path)
    first = ingest(base, engine=engine, progress=False)
    header, *lines = (base / "individuals.csv").read_text(encoding="utf-8").splitlines()
    cells = [line.split(",") for line in lines[:4]]
    phone, occupation = COLUMNS.index("phone"), COLUMNS.index("occupation")
    old_phone = cells[0][phone]
    cells[0][phone] = "13912345678"
    cells[1][occupation] = "律师"
    delta = tmp_path / "delta"
    delta.mkdir()
    (delta / "individuals.csv").write_text("\n".join([header, *(",".join(c) for c in cells)]) + "\n", encoding="utf-8")

    report = ingest(delta, engine=engine, progress=False)
    t = _table(report, "individuals")
    assert (t["loaded"], t["inserted"], t["updated"], t["unchanged"]) == (4, 0, 2, 2)
    assert t["changed_fields"] == {"phone": 1, "occupation": 1}
    by_key = {s["key"]["customer_id"]: s["changes"] for s in t["changes_sample"]}
    assert by_key[cells[0][0]] == {"phone": [mask_phone(old_phone), "139****5678"]}
    assert "13912345678" not in str(report.to_dict())  # PII never in the report
    assert by_key[cells[1][0]]["occupation"][1] == "律师"
    stamps = _stamps(engine)
    assert {k for k, v in stamps.items() if v == report.ingest_id} == {cells[0][0], cells[1][0]}
    assert sum(v == first.ingest_id for v in stamps.values()) == 298
    with engine.connect() as conn:  # the report is kept with the ingest
        summary = conn.execute(sa.select(IngestRun.summary).where(IngestRun.ingest_id == report.ingest_id)).scalar()
    assert summary["tables"]["individuals"]["changed_fields"] == {"phone": 1, "occupation": 1}
    assert (summary["inserted"], summary["updated"]) == (0, 2)
