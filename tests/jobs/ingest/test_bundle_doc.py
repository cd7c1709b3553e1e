from pathlib import Path

from clientstrata.graph.record.models import Base
from clientstrata.jobs.ingest.bundle import TABLES

DOC = (Path(__file__).resolve().parents[3] / "jobs" / "ingest" / "bundle.md").read_text(encoding="utf-8")


def test_every_file_and_column_is_documented():
    for t in TABLES:
        assert f"## {t.name}\n" in DOC
        for c in t.columns:
            assert f"| {c.name} | {c.kind} |" in DOC, f"{t.name}.{c.name} missing from bundle.md"


def test_contract_and_relational_model_name_the_same_columns():
    for t in TABLES:
        # `ingest_id` (the ingest that last inserted or changed a row) is the record's, not the bank's
        assert set(Base.metadata.tables[t.name].columns.keys()) - {"ingest_id"} == set(t.column_names), t.name


def test_the_columns_kept_when_empty_are_the_contracts():
    for t in TABLES:
        section = DOC.split(f"## {t.name}\n", 1)[1].split("\n## ", 1)[0]
        marked = {line.split(" | ")[0].strip("| ") for line in section.splitlines() if "kept when empty" in line}
        assert marked == set(t.kept), t.name


def test_the_events_bounded_by_the_as_of_date_are_the_contracts():
    for t in TABLES:
        section = DOC.split(f"## {t.name}\n", 1)[1].split("\n## ", 1)[0]
        marked = {line.split(" | ")[0].strip("| ") for line in section.splitlines() if "not after the as-of" in line}
        assert marked == {c.name for c in t.columns if c.past}, t.name
