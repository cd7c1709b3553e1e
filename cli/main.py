"""The `clientstrata` command. Every command accepts --json and then prints one JSON object
as its last line; failures exit non-zero with a one-line reason, never a stack trace."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from clientstrata.jobs.classification.blocks import ALERT_TYPES
from clientstrata.jobs.ingest.bundle import TABLES

__all__ = ["main"]


def _emit(args, payload: dict, human: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        print(human)


def cmd_generate(args) -> None:
    from clientstrata.jobs.ingest.generate import generate

    counts = generate(
        args.out, customers=args.customers, seed=args.seed, fmt=args.format, progress=False if args.json else None
    )
    human = "\n".join(f"  {t:<22} {n:>10,}" for t, n in counts.items())
    _emit(
        args,
        {"out": str(args.out), "customers": args.customers, "seed": args.seed, "rows": counts},
        f"wrote a bank of {args.customers:,} customers to {args.out}\n{human}",
    )


# Exit codes of `ingest` for a scheduler (docs/cli.md): 0 every row loaded, 3 loaded but some
# rows quarantined, 4 refused over --max-quarantined (nothing loaded); 1 a failure, 2 usage.
EXIT_QUARANTINED = 3
EXIT_REFUSED = 4


def _share(text: str) -> float:
    """A share of rows: 0.05 or 5%."""
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share: write 0.05 or 5%") from None
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1 (0%–100%)")
    return share


def _ingest_lines(report, args) -> list[str]:
    from clientstrata.jobs.ingest.accounting import change_lines

    d = report.to_dict()
    lines = [
        f"ingest #{report.ingest_id} of {args.source} ({args.format}): read {report.read:,}, "
        f"loaded {report.loaded:,} (inserted {d['inserted']:,}, updated {d['updated']:,}, "
        f"unchanged {d['unchanged']:,}), quarantined {report.quarantined:,}"
    ]
    if report.refused:
        lines.append(f"REFUSED, nothing loaded: {report.refused}")
    for t in [*d["tables"].values(), *d["derived"].values()]:
        tag = " (derived)" if t["derived"] else ""
        lines.append(
            f"  {t['table']:<22} read {t['read']:>9,}  inserted {t['inserted']:>9,}  updated {t['updated']:>9,}  "
            f"unchanged {t['unchanged']:>9,}  quarantined {t['quarantined']:>7,}{tag}"
        )
        lines += [f"      {line}" for line in change_lines(t)]
        for r in t["top_reasons"]:
            lines.append(f"      {r['rows']:>7,} × {r['reason']}")
    lines += [f"  warning: {w}" for w in d["warnings"]]
    if report.quarantined:
        lines.append(f"  quarantined rows: clientstrata quarantine list --ingest {report.ingest_id}")
    return lines


def cmd_ingest(args) -> int:
    from clientstrata.jobs.ingest.load import ingest
    from clientstrata.jobs.ingest.quarantine import IngestRefused

    try:
        report = ingest(
            args.source,
            format=args.format,
            progress=False if args.json else None,
            max_quarantined=args.max_quarantined,
            as_of=args.as_of,
        )
    except IngestRefused as exc:
        _emit(args, exc.report.to_dict(), "\n".join(_ingest_lines(exc.report, args)))
        print(f"clientstrata ingest: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    _emit(args, report.to_dict(), "\n".join(_ingest_lines(report, args)))
    return EXIT_QUARANTINED if report.quarantined else 0


def cmd_quarantine(args) -> None:
    import csv

    from clientstrata.jobs.ingest.quarantine import audit_pii_reads, quarantined

    actor = _actor(args) if args.show_pii else None  # who reads PII, for the audit log

    def read(conn):
        rows, more = quarantined(conn, args.ingest, args.table, args.limit, args.after, pii=args.show_pii)
        if actor:
            audit_pii_reads(conn, actor, rows, via="cli")
        return rows, more

    rows, more = _with_conn(read, write=args.show_pii)
    cursor = rows[-1]["id"] if rows else args.after
    if args.csv:
        raw_columns = list(dict.fromkeys(c for r in rows for c in r["raw"]))
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["quarantine_id", "ingest_id", "table", "source_file", "row_number", "reason", *raw_columns])
        for r in rows:
            meta = [r["id"], r["ingest_id"], r["table"], r["source_file"], r["row_number"], r["reason"]]
            out.writerow(meta + ["" if r["raw"].get(c) is None else r["raw"][c] for c in raw_columns])
        return
    lines = []
    for r in rows:
        lines.append(
            f"#{r['id']:<7} ingest {r['ingest_id']:<4} {r['source_file']} row {r['row_number']:,}: {r['reason']}"
        )
        lines.append("          " + ", ".join(f"{c}={v}" for c, v in r["raw"].items() if v not in (None, "")))
    lines = lines or ["no quarantined rows"]
    if more:
        lines.append(f"more rows follow: --after {cursor}")
    if rows and not args.show_pii:
        lines.append("PII masked; --show-pii --actor NAME shows it (audited)")
    _emit(args, {"rows": rows, "cursor": cursor, "more": more, "masked": not args.show_pii}, "\n".join(lines))


def cmd_sync(args) -> None:
    from clientstrata.jobs.ingest.sync import sync

    report = sync(progress=False if args.json else None)
    human = "graph synced:\n" + "\n".join(f"  {k:<20} {v:>10,}" for k, v in report.counts.items())
    human += f"\nsent {report.sent:,} items (new or changed, and deleted) in {report.seconds:.1f} s"
    payload = {
        "counts": report.counts,
        "written": report.written,
        "deleted": report.deleted,
        "first_load": report.first_load,
        "seconds": round(report.seconds, 3),
    }
    _emit(args, payload, human)


def _actor(args, required: bool = True) -> str | None:
    import os

    from clientstrata.jobs.errors import ActorRequired

    actor = (getattr(args, "actor", None) or os.environ.get("CLIENTSTRATA_ACTOR") or "").strip()
    if required and not actor:
        raise ActorRequired("who is acting? pass --actor NAME or set CLIENTSTRATA_ACTOR")
    return actor or None


def _run_lines(report) -> list[str]:
    d = report.to_dict()
    lines = [
        f"run {report.run_id} published ({report.kind}): {report.customers:,} customers, {report.tags:,} tags "
        f"(standard {report.standard_version}); {report.changes:,} changes, "
        f"{report.notifications:,} notifications, {report.alerts:,} alerts"
    ]
    for dim, values in d["distribution"].items():
        lines.append(f"  {dim}: " + ", ".join(f"{v} {n:,}" for v, n in values.items()))
    if report.seconds:
        lines.append("  seconds: " + ", ".join(f"{k} {v:,.1f}" for k, v in report.seconds.items()))
    return lines


def cmd_classify(args) -> None:
    progress = False if args.json else None
    if args.adopt and not args.standard:
        from clientstrata.graph.errors import InvalidInput

        raise InvalidInput("--adopt adopts the standard given with --standard FILE")
    actor = _actor(args, args.adopt)  # adopting a standard is audited: it needs someone
    if args.if_due:
        from clientstrata.jobs.runs.schedule import classify_if_due

        due, expired, report = classify_if_due(
            standard=args.standard, requested_by=actor, progress=progress, adopt=args.adopt
        )
        lines = [f"{'due' if due.due else 'not due'}: {due.reason}"]
        if expired:
            lines.append(f"expired overrides: {', '.join(f'#{i}' for i in expired)}")
        lines += _run_lines(report) if report else ["no run started"]
        _emit(
            args,
            {**due.to_dict(), "expired_overrides": expired, "run": report.to_dict() if report else None},
            "\n".join(lines),
        )
        return
    from clientstrata.jobs.runs.pipeline import classify

    report = classify(
        standard=args.standard,
        progress=progress,
        requested_by=actor,
        refit_clusters=args.refit_clusters,
        adopt=args.adopt,
        tags_from=args.tags_from,
    )
    _emit(args, report.to_dict(), "\n".join(_run_lines(report)))


def cmd_extract(args) -> None:
    from clientstrata.jobs.governance.standards import live_standard
    from clientstrata.jobs.runs.external import extract

    manifest = _with_conn(lambda conn: extract(conn, args.folder, live_standard(conn)))
    _emit(
        args,
        {"folder": str(args.folder), **manifest},
        f"extracted the record (ingest {manifest['ingest_id']}, data as of {manifest['as_of']}, standard "
        f"{manifest['standard_version']}) to {args.folder}: run `clientstrata spark-run {args.folder}` on the cluster",
    )


def cmd_spark_run(args) -> None:
    import os
    import sys

    from clientstrata.jobs.runs.external import run_spark_job

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from clientstrata.graph.errors import InvalidInput

        raise InvalidInput("spark-run needs PySpark: pip install 'clientstrata[spark]'") from None

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors run this interpreter's clientstrata
    builder = SparkSession.builder.appName("clientstrata-run").config("spark.sql.session.timeZone", "UTC")
    spark = (builder.master(args.master) if args.master else builder).getOrCreate()
    try:
        run_spark_job(spark, args.folder)
    finally:
        spark.stop()
    _emit(
        args,
        {"folder": str(args.folder)},
        f"wrote features/ and tags/ in {args.folder}: publish with `clientstrata classify --tags-from {args.folder}`",
    )


def cmd_standard(args) -> None:
    from clientstrata.jobs.governance.adoption import adopt_standard, adoptions
    from clientstrata.jobs.governance.standards import live_sha256, live_standard

    if args.action == "adopt":
        from clientstrata.jobs.classification.standard import load_standard

        std, actor = load_standard(args.file), _actor(args)
        got = _with_conn(lambda conn: adopt_standard(conn, std, actor, note=args.note), write=True)
        if got["adoption_id"] is None:
            human = f"standard {std.version} ({std.sha256[:12]}) is already the live one; nothing adopted"
        else:
            human = (
                f"adopted standard {std.version} ({std.sha256[:12]}) as live, by {actor}, replacing "
                f"{got['previous_sha256'][:12]}; the next run uses it"
            )
        _emit(args, got, human)
        return

    def show(conn) -> tuple:
        return live_standard(conn), live_sha256(conn), adoptions(conn)

    std, sha, df = _with_conn(show)
    lines = [f"live standard {std.version} ({sha})"]
    lines += [
        f"  #{r.adoption_id:<4} {r.adopted_at:%Y-%m-%d %H:%M}  {r.version:<10} {r.sha256[:12]}  by {r.adopted_by}"
        + (f": {r.note}" if r.note else "")
        for r in df.itertuples(index=False)
    ] or ["  no adoptions: the standard of the latest published run, else the packaged one"]
    _emit(
        args,
        {"version": std.version, "sha256": sha, "adoptions": df.to_dict("records")},
        "\n".join(lines),
    )


def _with_conn(fn, write: bool = False):
    from clientstrata.graph.record.db import get_engine, migrate

    engine = get_engine()
    migrate(engine)
    with engine.begin() if write else engine.connect() as conn:
        return fn(conn)


def cmd_runs(args) -> None:
    import pandas as pd

    from clientstrata.jobs.runs.history import list_runs

    df = _with_conn(list_runs)
    lines = [f"{'run':>4}  {'status':<9} {'kind':<9} {'standard':<10} {'published':<19} {'customers':>9}  requested by"]
    for r in df.itertuples(index=False):
        pub = f"{r.published_at:%Y-%m-%d %H:%M:%S}" if pd.notna(r.published_at) else "-"
        n = f"{int(r.customer_count):,}" if pd.notna(r.customer_count) else "-"
        lines.append(
            f"{r.run_id:>4}  {r.status:<9} {r.kind:<9} {r.standard_version:<10} {pub:<19} {n:>9}  "
            f"{r.requested_by or '-'}"
        )
    if df.empty:
        lines = ["no classification runs yet: run `clientstrata classify`"]
    _emit(args, {"runs": df.drop(columns=["snapshot"]).to_dict("records")}, "\n".join(lines))


def cmd_migration(args) -> None:
    from clientstrata.jobs.runs.history import migration_matrix

    m = _with_conn(lambda conn: migration_matrix(conn, args.from_run, args.to_run, args.dimension))
    human = (
        f"{args.dimension}: run {m.from_run} → run {m.to_run}, {m.customers:,} customers, "
        f"{len(m.moves):,} moved\n{m.matrix.to_string()}"
    )
    _emit(args, m.to_dict(), human)


def cmd_whatif(args) -> None:
    from clientstrata.jobs.runs.whatif import whatif

    w = whatif(standard_path=args.standard)
    lines = [f"draft standard {w.standard_version} vs live run {w.base_run_id} (nothing published):"]
    for dim, d in w.to_dict()["dimensions"].items():
        lines.append(f"  {dim}: {d['moved']:,} of {d['customers']:,} customers move")
        lines += [f"      {x['from']} → {x['to']}: {x['customers']:,}" for x in d["from_to"]]
    _emit(args, w.to_dict(), "\n".join(lines))


def cmd_changes(args) -> None:
    from clientstrata.jobs.runs.changes import changes_after

    rows = _with_conn(lambda conn: changes_after(conn, args.after, args.limit))
    lines = [
        f"{r['seq']:>8}  {r['at']:%Y-%m-%d %H:%M:%S}  {r['source']:<8} {r['customer_id']:<12} "
        f"{r['dimension']:<20} {r['old_value'] or '-'} → {r['new_value'] or '-'}"
        for r in rows
    ]
    cursor = rows[-1]["seq"] if rows else args.after
    _emit(args, {"changes": rows, "cursor": cursor}, "\n".join(lines + [f"cursor: {cursor}"]))


def cmd_override(args) -> None:
    from clientstrata.jobs.governance import overrides as O

    if args.action == "list":
        df = _with_conn(
            lambda conn: O.list_overrides(conn, args.customer, args.status, args.dimension, args.proposed_by)
        )
        lines = [
            f"#{r.override_id:<5} {r.status:<9} {r.customer_id:<12} {r.dimension}={r.value}  "
            f"by {r.proposed_by}" + (f", decided by {r.decided_by}" if r.decided_by else "") + f": {r.reason}"
            for r in df.itertuples(index=False)
        ] or ["no overrides"]
        _emit(args, {"overrides": df.to_dict("records")}, "\n".join(lines))
        return
    if args.action == "expire":
        ids = _with_conn(lambda conn: O.expire_overrides(conn, actor=_actor(args, False) or "system"), write=True)
        _emit(args, {"expired": ids}, f"expired {len(ids)} override(s)" + (f": {ids}" if ids else ""))
        return
    actor = _actor(args)
    if args.action == "propose":
        import datetime as dt

        exp = dt.date.fromisoformat(args.expires_on) if args.expires_on else None
        fn = lambda conn: O.propose_override(
            conn,
            actor,
            args.customer,
            args.dimension,
            args.value,  # noqa: E731
            args.reason,
            expires_on=exp,
        )
    elif args.action == "approve":
        fn = lambda conn: O.approve_override(conn, actor, args.id, args.note)  # noqa: E731
    elif args.action == "reject":
        fn = lambda conn: O.reject_override(conn, actor, args.id, args.note)  # noqa: E731
    else:
        fn = lambda conn: O.revoke_override(conn, actor, args.id, args.reason)  # noqa: E731
    ov = _with_conn(fn, write=True)
    _emit(args, ov.to_dict(), f"override #{ov.override_id} {ov.status}: {ov.customer_id} {ov.dimension}={ov.value}")


def cmd_strategy(args) -> None:
    from clientstrata.jobs.strategies import strategy as S

    if args.action == "effect":
        return _strategy_effect(args)
    if args.action == "simulate":
        return _strategy_simulate(args)
    if args.action == "explain":
        st = _with_conn(lambda conn: S.customer_strategy(conn, args.customer))
        if st is None:
            raise SystemExit(
                f"error: no tags for {args.customer!r}: run `clientstrata classify` first, or check the id"
            )
        p = st.package
        lines = [
            f"{args.customer}: {p.label_en} ({p.label_zh}) — {st.explanation_en}",
            f"  {st.explanation_zh}",
            "  entitlements: " + "; ".join(e.label_en for e in p.entitlements),
            f"  care: {p.care.visits_per_quarter} visits a quarter, holiday greetings "
            f"{'yes' if p.care.holiday_greetings else 'no'}, birthday care {'yes' if p.care.birthday_care else 'no'}",
            "  plays: " + ("; ".join(x.label_en for x in st.marketing_plays) or "none"),
            *[f"  {r.why_en}: CNY {r.price:g}" for r in st.prices().itertuples()],
        ]
        data = {
            "customer_id": args.customer,
            "package": p.value,
            "selector": st.selector,
            "explanation_en": st.explanation_en,
            "explanation_zh": st.explanation_zh,
            "marketing_plays": [x.value for x in st.marketing_plays],
            "prices": st.prices().to_dict("records"),
        }
        _emit(args, data, "\n".join(lines))
        return
    if args.action == "points":
        _strategy_points(args)
        return
    if args.action == "whatif":
        from clientstrata.jobs.classification.standard import load_standard
        from clientstrata.jobs.strategies.playbook_whatif import playbook_whatif

        w = _with_conn(lambda conn: playbook_whatif(conn, load_standard(args.draft)))
        _emit(args, w.to_dict(), w.headline())
        return
    pb, counts = _with_conn(lambda conn: (S.live_playbook(conn), S.bank_packages(conn)["package"].value_counts()))
    lines = [f"playbook {pb.version}: packages in precedence order"]
    for i, p in enumerate(pb.packages):
        sel = " or ".join(str(dict(s)) for s in p.selectors) or "everyone else (catch-all)"
        lines.append(f"  {i + 1}. {p.value:<16} {int(counts.get(p.value, 0)):>8,} customers  when {sel}")
    lines.append("fees: " + "; ".join(f"{f.value} CNY {f.price:g} {f.unit}" for f in pb.fee_schedule))
    data = {
        "version": pb.version,
        "packages": [{"package": p.value, "customers": int(counts.get(p.value, 0))} for p in pb.packages],
        "fee_schedule": [{"fee_item": f.value, "price": f.price, "unit": f.unit} for f in pb.fee_schedule],
    }
    _emit(args, data, "\n".join(lines))


def _strategy_points(args) -> None:
    import sqlalchemy as sa

    from clientstrata.jobs.strategies import points as PT

    def read(conn):
        if not conn.execute(sa.text("SELECT 1 FROM individuals WHERE customer_id = :c"), {"c": args.customer}).first():
            raise SystemExit(f"error: no customer {args.customer!r}")
        return PT.balances(conn, [args.customer])[args.customer], PT.postings(conn, args.customer, args.first)

    balance, posted = _with_conn(read)
    lines = [f"{args.customer}: {balance:,} points (积分); the {len(posted)} newest postings:"]
    for r in posted.itertuples():
        until = f", expires {r.expires_on}" if r.expires_on else ""
        lines.append(f"  {r.occurred_at:%Y-%m-%d} {r.kind:<6} {r.points:>+10,}  {r.rule or ''} ({r.source}){until}")
    records = posted.astype(object).where(posted.notna(), None).to_dict("records")
    data = {"customer_id": args.customer, "balance": balance, "postings": records}
    _emit(args, data, "\n".join(lines))


def cmd_alerts(args) -> None:
    from clientstrata.jobs.tracking import alerts as AL

    if args.action == "list":
        df = _with_conn(
            lambda conn: AL.list_alerts(
                conn, rm_id=args.rm, status=args.status, alert_type=args.type, limit=args.limit, after=args.after
            )
        )
        lines = [
            f"#{r.alert_id:<6} {r.status:<12} {r.severity:<6} {r.alert_type:<19} {r.customer_id:<12} "
            f"{r.rm_id or 'branch ' + str((r.details or {}).get('branch_id'))}: {r.reason}"
            for r in df.itertuples(index=False)
        ] or ["no alerts"]
        _emit(
            args,
            {"alerts": df.to_dict("records"), "cursor": int(df["alert_id"].iloc[-1]) if len(df) else args.after},
            "\n".join(lines),
        )
        return
    actor = _actor(args)
    a = _with_conn(lambda conn: AL.acknowledge_alert(conn, actor, args.id, args.note), write=True)
    _emit(
        args, a, f"alert #{a['alert_id']} acknowledged by {a['acknowledged_by']}: {a['alert_type']} {a['customer_id']}"
    )


def _planted(text: str):
    """`ACTION=contact,respond,convert,baseline` (probabilities) → (action, Planted)."""
    from clientstrata.jobs.ingest.campaign import Planted

    key, _, probs = text.partition("=")
    try:
        values = [float(v) for v in probs.split(",")]
    except ValueError:
        values = []
    if not key.strip() or len(values) != 4 or not all(0 <= v <= 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give ACTION=CONTACT,RESPOND,CONVERT,BASELINE, four probabilities from 0 to 1"
        )
    return key.strip(), Planted(*values)


def _strategy_simulate(args) -> None:
    from clientstrata.graph.record.db import get_engine, migrate
    from clientstrata.jobs.ingest.campaign import Planted, simulate_campaign

    engine = get_engine()
    migrate(engine)
    run = args.run
    if run is None:
        with engine.connect() as conn:
            run = conn.exec_driver_sql("SELECT max(run_id) FROM next_best_actions").scalar()
        if run is None:
            raise SystemExit("error: no run has chosen actions yet: run `clientstrata classify` first")
    planted = dict(args.plant or [])
    n = simulate_campaign(engine, run, planted, seed=args.seed, actor=_actor(args))
    default = Planted()
    shown = {k: {**vars(p), "uplift": p.uplift} for k, p in {**planted, "(every other action)": default}.items()}
    lines = [f"run {run}: {n:,} simulated outcomes recorded (seed {args.seed}); planted conversion uplift:"]
    lines += [f"  {k:<34} {v['uplift']:+.1%}" for k, v in shown.items()]
    lines.append("measure it: clientstrata strategy effect")
    _emit(args, {"run_id": run, "outcomes": n, "seed": args.seed, "planted": shown}, "\n".join(lines))


def _strategy_effect(args) -> None:
    from clientstrata.jobs.governance.standards import live_standard
    from clientstrata.jobs.strategies.effect import strategy_effect

    df = _with_conn(lambda conn: strategy_effect(conn, live_standard(conn), args.run))
    if args.segment is not None:
        df = df[df["segment"] == args.segment]

    def pct(x) -> str:
        return "—" if x != x else f"{x:+.1%}" if abs(x) < 10 else f"{x:+,.0f}"

    lines = [
        f"{r.action_key:<34} {r.segment:<16} offered {r.offered:>6,} contacted {r.contacted:>6,} "
        f"converted {r.converted:>5,} control {r.control:>5,}  uplift {pct(r.uplift)} "
        f"[{pct(r.uplift_low)}, {pct(r.uplift_high)}]"
        for r in df.itertuples(index=False)
    ] or ["no actions chosen yet"]
    _emit(args, {"effect": df.astype(object).where(df.notna(), None).to_dict("records")}, "\n".join(lines))


def cmd_serve(args) -> None:
    from clientstrata.api.serve import serve
    from clientstrata.graph.record.db import get_engine, migrate

    migrate(get_engine())
    if args.json:
        print(json.dumps({"url": f"http://{args.host}:{args.port}/graphql"}), flush=True)
    serve(args.host, args.port, args.workers)


def cmd_token(args) -> None:
    from clientstrata.graph.record import access
    from clientstrata.graph.record.db import get_engine, migrate

    engine = get_engine()
    migrate(engine)
    with engine.begin() as conn:
        if args.action == "create":
            expires = access.expiry(args.expires)
            token_id, secret = access.issue_token(
                conn, args.role, args.name, args.rm_id, created_by=args.actor, person=args.person, expires_at=expires
            )
            row = next(r for r in access.list_tokens(conn) if r["token_id"] == token_id)
            _emit(
                args,
                {
                    "token_id": token_id,
                    "token": secret,
                    "role": args.role,
                    "rm_id": args.rm_id,
                    "person": row["person"],
                    "expires_at": row["expires_at"].isoformat(timespec="seconds"),
                },
                f"token {token_id} ({args.role}) for {args.name} ({row['person']}), expires "
                f"{row['expires_at']:%Y-%m-%d %H:%M}; shown once, store it now:\n{secret}",
            )
        elif args.action == "revoke":
            access.revoke_token(conn, args.token_id)
            _emit(args, {"token_id": args.token_id, "revoked": True}, f"token {args.token_id} revoked")
        else:
            rows = access.list_tokens(conn)
            human = (
                "\n".join(
                    f"  {r['token_id']:>5}  {r['role']:<21} {r['rm_id'] or '':<10} {r['name']:<30} "
                    f"{r['person'] or '':<20} "
                    + (
                        "revoked"
                        if r["revoked_at"]
                        else f"expires {r['expires_at']:%Y-%m-%d}"
                        if r["expires_at"]
                        else "expired"
                    )
                    for r in rows
                )
                or "  no tokens"
            )
            _emit(args, {"tokens": rows}, human)


def cmd_rollups(args) -> None:
    from clientstrata.jobs.ingest.rollups import rebuild_rollups

    report = _with_conn(rebuild_rollups, write=True)
    d = {"version": report.version, "customers": report.customers, "households": report.households}
    _emit(
        args,
        d,
        f"rollups rebuilt (version {report.version}): {report.customers:,} customers and "
        f"{report.households:,} households changed",
    )


def cmd_schema(args) -> None:
    from clientstrata.api.schema import schema

    sdl = schema.as_str()
    _emit(args, {"sdl": sdl}, sdl)


def cmd_report(args) -> None:
    from clientstrata.jobs.reports import render_text, report_to_dict, run_report

    df = run_report(
        args.name,
        run_id=args.run,
        months_back=args.months,
        dimension=args.dimension,
        ingest_id=args.ingest,
        fit=args.fit or None,
    )
    _emit(args, report_to_dict(df), render_text(df, max_rows=args.rows))


def _report_parser(command) -> None:
    from clientstrata.jobs.reports import REPORTS

    sp = command("report", cmd_report, "print a report on a published run: " + ", ".join(REPORTS))
    sp.add_argument("name", choices=list(REPORTS))
    sp.add_argument("--run", type=int, help="classification run (default: the latest published)")
    sp.add_argument("--months", type=int, help="branches: compare with this many months before (default 3)")
    sp.add_argument("--dimension", help="distribution, tiers, rm-book: the dimension to report")
    sp.add_argument("--ingest", type=int, help="data-quality: the ingest (default: the latest)")
    sp.add_argument("--fit", action="store_true", help="clusters: fit on current data if the run has none")
    sp.add_argument("--rows", type=int, default=60, help="rows to print (the JSON has all)")


_ENVIRONMENT = """environment:
  CLIENTSTRATA_DATABASE_URL  the record: sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB
                             (default sqlite:///./clientstrata.db); every command names it on stderr
  CLIENTSTRATA_NEO4J_URI     the customer graph on Neo4j (default: the embedded graph file)
  more in docs/configuration.md"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("clientstrata")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clientstrata",
        description="Customer classification for banks.",
        epilog=_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"clientstrata {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, fn, help: str, record: str | None = "read") -> argparse.ArgumentParser:
        """`record`: what the command needs of the database — "read" an existing record, "create"
        it if need be, "server" (an existing SQLite file, or a server database it may migrate), or
        None (no database at all)."""
        sp = sub.add_parser(name, help=help, description=help, epilog=_ENVIRONMENT if record else None)
        sp.formatter_class = argparse.RawDescriptionHelpFormatter
        sp.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        sp.set_defaults(fn=fn, record=record)
        return sp

    sp = command("generate", cmd_generate, "write a deterministic synthetic bank as an ingestion bundle", record=None)
    sp.add_argument("--customers", type=int, default=10_000)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("--format", choices=("csv", "parquet"), default="csv")

    sp = command(
        "ingest", cmd_ingest, "validate and load a bundle (or the PKDD'99 data), quarantining bad rows", record="create"
    )
    sp.add_argument("source", type=Path)
    sp.add_argument("--format", choices=("bundle", "berka"), default="bundle")
    sp.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        help="the date the data describes (YYYY-MM-DD): events after it are quarantined (default: today)",
    )
    sp.add_argument(
        "--max-quarantined",
        type=_share,
        metavar="SHARE",
        help="refuse the load (nothing loaded, exit 4) when more than this share of the rows read "
        "is quarantined: 0.05 or 5%%",
    )

    sp = command("quarantine", cmd_quarantine, "rows an ingest quarantined, with their reasons and raw values")
    qsub = sp.add_subparsers(dest="action", required=True)
    ap = qsub.add_parser("list", help="quarantined rows, oldest first (PII masked unless --show-pii)")
    ap.add_argument("--ingest", type=int, help="only this ingest's rows")
    ap.add_argument(
        "--table", choices=[t.name for t in TABLES], metavar="TABLE", help="only rows for this bundle table"
    )
    ap.add_argument("--csv", action="store_true", help="CSV on stdout: one column per raw field")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--after", type=int, default=0, metavar="ID", help="keyset cursor: the last quarantine id seen")
    ap.add_argument("--show-pii", action="store_true", help="PII unmasked; needs --actor, each row read is audited")
    ap.add_argument("--actor", help="who reads PII (default: $CLIENTSTRATA_ACTOR)")
    ap.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object as the last line"
    )

    command("sync-graph", cmd_sync, "project the relational record into the customer graph (idempotent)")
    command(
        "rebuild-rollups",
        cmd_rollups,
        "recompute every household and customer rollup (each ingest and "
        "publish keeps them current; for after an upgrade or a manual fix)",
    )

    sp = command("classify", cmd_classify, "classify every customer and publish a numbered run")
    sp.add_argument(
        "--standard",
        type=Path,
        help="standard YAML file; it must be the live one unless --adopt (default: the live standard)",
    )
    sp.add_argument(
        "--adopt",
        action="store_true",
        help="make --standard FILE the live standard first (audited: needs --actor)",
    )
    sp.add_argument(
        "--if-due",
        action="store_true",
        help="scheduled re-tagging: run only if the last scheduled run is older than the "
        "standard's governance.retag_every_months (say why); call it daily",
    )
    sp.add_argument("--actor", help="who requests the run (default: $CLIENTSTRATA_ACTOR)")
    sp.add_argument(
        "--refit-clusters",
        action="store_true",
        help="fit the behaviour clusters anew (default: keep the live run's, so values stay comparable)",
    )
    sp.add_argument(
        "--tags-from",
        type=Path,
        metavar="FOLDER",
        help="publish the features and tags a cluster made (`extract`, then `spark-run`) instead of computing them",
    )

    sp = command("extract", cmd_extract, "write the record's last year as Parquet for a run on a Spark cluster")
    sp.add_argument("folder", type=Path)

    sp = command("spark-run", cmd_spark_run, "on a Spark cluster: features and tags of an extract folder", record=None)
    sp.add_argument("folder", type=Path)
    sp.add_argument("--master", help="Spark master URL (default: spark-submit's, or local)")

    command("runs", cmd_runs, "list classification runs (number, status, kind, standard, publication)")

    sp = command("standard", cmd_standard, "the live standard, and adopting another (audited)")
    ssub = sp.add_subparsers(dest="action", required=True)
    ap = ssub.add_parser("adopt", help="make a standard file the live one: every later run uses it")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    ap.add_argument("file", type=Path)
    ap.add_argument("--actor", help="who adopts it (default: $CLIENTSTRATA_ACTOR)")
    ap.add_argument("--note", help="why, for the audit log")
    ap = ssub.add_parser("show", help="the live standard and every adoption")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")

    sp = command("migration", cmd_migration, "migration matrix of one dimension between two runs")
    sp.add_argument("--from", dest="from_run", type=int, required=True, metavar="RUN")
    sp.add_argument("--to", dest="to_run", type=int, required=True, metavar="RUN")
    sp.add_argument("--dimension", required=True)

    sp = command(
        "whatif",
        cmd_whatif,
        "classify current data with a draft standard and diff it against the live run, without publishing",
    )
    sp.add_argument("--standard", type=Path, required=True, help="the draft standard YAML file")

    sp = command("changes", cmd_changes, "classification changes after a cursor (seq), oldest first")
    sp.add_argument("--after", type=int, default=0, metavar="SEQ")
    sp.add_argument("--limit", type=int, default=1000)

    sp = command("override", cmd_override, "manual overrides (人工审核), maker–checker")
    osub = sp.add_subparsers(dest="action", required=True)

    def action(name: str, help: str) -> argparse.ArgumentParser:
        ap = osub.add_parser(name, help=help, description=help)
        ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        ap.add_argument("--actor", help="who is acting (default: $CLIENTSTRATA_ACTOR)")
        return ap

    ap = action("propose", "propose a value for a customer's tag, with a reason")
    ap.add_argument("--customer", required=True)
    ap.add_argument("--dimension", required=True)
    ap.add_argument("--value", required=True)
    ap.add_argument("--reason", required=True)
    ap.add_argument("--expires-on", help="YYYY-MM-DD: the override stops applying on this day")
    ap = action("approve", "approve a proposed override (not its proposer)")
    ap.add_argument("id", type=int)
    ap.add_argument("--note")
    ap = action("reject", "reject a proposed override (not its proposer), saying why")
    ap.add_argument("id", type=int)
    ap.add_argument("--note", required=True)
    ap = action("revoke", "stop an approved override, saying why")
    ap.add_argument("id", type=int)
    ap.add_argument("--reason", required=True)
    ap = action("list", "list overrides")
    ap.add_argument("--customer")
    ap.add_argument("--status", choices=("proposed", "approved", "rejected", "revoked", "expired"))
    ap.add_argument("--dimension")
    ap.add_argument("--proposed-by", help="a maker's queue of proposals")
    action("expire", "mark overrides whose expiry day has come as expired (the feed gets their change)")

    sp = command("alerts", cmd_alerts, "alerts routed to relationship managers (客户跟踪): list, acknowledge")
    asub = sp.add_subparsers(dest="action", required=True)
    ap = asub.add_parser("list", help="list alerts, oldest first")
    ap.add_argument("--rm", help="only this RM's alerts")
    ap.add_argument(
        "--type",
        choices=ALERT_TYPES,
    )
    ap.add_argument("--status", choices=("open", "acknowledged"))
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--after", type=int, default=0, metavar="ALERT_ID", help="keyset cursor: the last alert_id seen")
    ap = asub.add_parser("ack", help="acknowledge an open alert (audited)")
    ap.add_argument("id", type=int)
    ap.add_argument("--actor", help="who is acting (default: $CLIENTSTRATA_ACTOR)")
    ap.add_argument("--note")
    for ap in asub.choices.values():
        ap.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object as the last line"
        )

    sp = command(
        "strategy",
        cmd_strategy,
        "the playbook (策略): show it, explain one customer, their points, what-if a draft; next-best actions' effect",
    )
    ssub = sp.add_subparsers(dest="action", required=True)
    ssub.add_parser("show", help="the live playbook's packages with their customers, and the fee schedule")
    ap = ssub.add_parser("explain", help="one customer's package and why, entitlements, care, plays and prices")
    ap.add_argument("customer")
    ap = ssub.add_parser("points", help="one customer's points (积分): balance and newest postings")
    ap.add_argument("customer")
    ap.add_argument("--first", type=int, default=20, help="how many postings, newest first (default 20)")
    ap = ssub.add_parser("whatif", help="package moves and waiver cost delta of a draft standard's playbook")
    ap.add_argument("draft", help="the draft standard (YAML)")
    ap = ssub.add_parser("effect", help="each action's effect per segment against its control group")
    ap.add_argument("--run", type=int, help="the run whose actions to measure (default: the latest with actions)")
    ap.add_argument("--segment", help="one segment (wealth tier), or `all`")
    ap = ssub.add_parser(
        "simulate",
        help="record a simulated campaign on a run's actions with a planted effect per action (demo, notebooks)",
    )
    ap.add_argument("--run", type=int, help="the run whose actions to simulate (default: the latest with actions)")
    ap.add_argument("--seed", type=int, default=0, help="the random seed (default 0)")
    ap.add_argument(
        "--plant",
        type=_planted,
        action="append",
        metavar="ACTION=C,R,V,B",
        help="an action's (or `product_offer`'s) planted contact, response, conversion and baseline probabilities; "
        "repeatable; unnamed actions get 0.8,0.3,0.5,0.05",
    )
    ap.add_argument("--actor", default=os.environ.get("CLIENTSTRATA_ACTOR", "campaign-simulator"))
    for ap in ssub.choices.values():
        ap.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object as the last line"
        )

    sp = command("token", cmd_token, "issue, list or revoke API bearer tokens (stored only as hashes)")
    tok = sp.add_subparsers(dest="action", required=True)
    create = tok.add_parser("create", help="issue a token; it is printed once")
    create.set_defaults(record="create")  # an administrator issues tokens before the first load
    create.add_argument(
        "--role", required=True, help="admin, risk_officer, marketing_analyst, relationship_manager, service_agent"
    )
    create.add_argument("--rm-id", help="for relationship_manager: the RM whose book the token reads")
    create.add_argument("--name", required=True, help="who or what holds the token")
    create.add_argument(
        "--person", help="the person who holds it, e.g. a staff id (default: the RM id, else --name); maker–checker"
    )
    create.add_argument(
        "--expires",
        help="when it expires: a date (YYYY-MM-DD) or a number of days (default: $CLIENTSTRATA_TOKEN_LIFETIME_DAYS, 90)",
    )
    create.add_argument("--actor", default=os.environ.get("CLIENTSTRATA_ACTOR", "cli"))
    revoke = tok.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    tok.add_parser("list", help="list tokens (never their secrets)")
    for action in tok.choices.values():
        action.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object as the last line"
        )

    command(
        "schema", cmd_schema, "print the GraphQL schema (SDL); api/schema.graphql is its committed copy", record=None
    )

    sp = command("serve", cmd_serve, "serve the GraphQL API (GraphiQL in a browser at /graphql)", record="server")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--workers", type=int, default=1, help="worker processes (about one per core)")

    _report_parser(command)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from clientstrata.graph.errors import ClientStrataError

    try:
        _database(args)
        status = args.fn(args)
    except ClientStrataError as exc:
        return _fail(args, str(exc))
    except ImportError as exc:
        return _fail(args, f"{exc.name} is not installed: pip install 'clientstrata[server]'")
    except KeyboardInterrupt:
        return _fail(args, "interrupted")
    except Exception as exc:  # the last line of defence: one line, no stack trace
        return _fail(args, f"{type(exc).__name__}: {exc}")
    return status or 0


def _database(args) -> None:
    """Say which database the command uses, and refuse one that is not a record when the command
    only reads: connecting would create an empty SQLite file and answer from nothing."""
    if args.record is None:
        return
    from clientstrata.graph.config import masked_url, settings
    from clientstrata.graph.record.db import require_record

    url = settings().database_url
    print(f"clientstrata: database {masked_url(url)}", file=sys.stderr)
    if args.record != "create":
        require_record(url, schema=args.record == "read")


def _fail(args, reason: str) -> int:
    reason = reason.splitlines()[0] if reason else "failed"
    if getattr(args, "json", False):
        print(json.dumps({"error": reason}, ensure_ascii=False))
    print(f"clientstrata {args.command}: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
