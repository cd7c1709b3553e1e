"""The operator's view of an ingest: inserted, updated and unchanged apart; an exit status that
tells a scheduler rows were quarantined (3) or the load was refused over --max-quarantined (4);
`quarantine list` with reasons and raw values, PII masked unless asked for by a named actor
(audited)."""

import csv
import io
import json

from clientstrata.cli.main import main
from clientstrata.graph.record.audit import audit_trail

PHONE = "12345678901"


def run(capsys, *argv, as_json=True):
    code = main([*argv, "--json"] if as_json else list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if as_json else out), err


def _delta(tmp_path, bundle_dir, phone_of_first: str):
    header, *data = (bundle_dir / "individuals.csv").read_text(encoding="utf-8").splitlines()
    phone = header.split(",").index("phone")
    first = data[0].split(",")
    first[phone] = phone_of_first
    second = data[1].split(",")
    second[header.split(",").index("occupation")] = "律师"
    folder = tmp_path / f"delta-{phone_of_first}"
    folder.mkdir()
    rows = [header, ",".join(first), ",".join(second), *data[2:4]]
    (folder / "individuals.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_ingest_reports_changes_and_exit_codes_and_lists_the_quarantine(cli_env, capsys, bundle_dir, tmp_path):
    engine, _ = cli_env
    folder = _delta(tmp_path, bundle_dir, PHONE)
    code, refused, err = run(capsys, "ingest", str(folder), "--max-quarantined", "10%")
    assert code == 4 and refused["refused"] and "nothing loaded" in err
    code, out, _ = run(capsys, "ingest", str(folder))
    assert code == 3  # loaded, with a row quarantined
    t = out["tables"]["individuals"]
    assert (t["inserted"], t["updated"], t["unchanged"], t["quarantined"]) == (0, 1, 2, 1)
    assert t["new"] == 0 and t["changed_fields"] == {"occupation": 1}
    code, text, _ = run(capsys, "ingest", str(folder), as_json=False)
    assert code == 3 and "inserted 0, updated 0, unchanged 3" in text
    assert f"quarantine list --ingest {out['ingest_id'] + 1}" in text

    # the refused ingest kept the evidence (the quarantine holds one copy of a row)
    code, listed, _ = run(capsys, "quarantine", "list", "--ingest", str(refused["ingest_id"]))
    assert code == 0 and listed["masked"] and len(listed["rows"]) == 1
    assert PHONE not in json.dumps(listed, ensure_ascii=False) and listed["rows"][0]["raw"]["phone"] == "123****8901"
    assert "not a phone number" in listed["rows"][0]["reason"]

    code, failed, _ = run(capsys, "quarantine", "list", "--show-pii")
    assert code == 1 and "--actor" in failed["error"]  # PII needs a name to audit
    code, csv_text, _ = run(
        capsys,
        "quarantine",
        "list",
        "--table",
        "individuals",
        "--csv",
        "--show-pii",
        "--actor",
        "steward",
        as_json=False,
    )
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert code == 0 and [r["phone"] for r in rows] == [PHONE] and rows[0]["row_number"] == "1"
    with engine.connect() as conn:
        trail = audit_trail(conn, entity_type="quarantine", action="pii.read")
    assert list(trail["actor"]) == ["steward"] and trail["details"][0]["via"] == "cli"

    clean = _delta(tmp_path, bundle_dir, "13900001111")
    code, out, _ = run(capsys, "ingest", str(clean), "--max-quarantined", "0")
    assert code == 0 and out["quarantined"] == 0 and out["updated"] == 1  # the phone
