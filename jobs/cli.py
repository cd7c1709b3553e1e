"""The `clientstrata` command. Every command accepts --json and then prints one JSON object
as its last line; failures exit non-zero with a one-line reason, never a stack trace."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _emit(args, payload: dict, human: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        print(human)


def cmd_generate(args) -> None:
    from .generate import generate
    counts = generate(args.out, customers=args.customers, seed=args.seed, fmt=args.format,
                      progress=False if args.json else None)
    human = "\n".join(f"  {t:<22} {n:>10,}" for t, n in counts.items())
    _emit(args, {"out": str(args.out), "customers": args.customers, "seed": args.seed, "rows": counts},
          f"wrote a bank of {args.customers:,} customers to {args.out}\n{human}")


def cmd_ingest(args) -> None:
    from .ingest import ingest
    report = ingest(args.source, format=args.format, progress=False if args.json else None)
    d = report.to_dict()
    lines = [f"ingest #{report.ingest_id} of {args.source} ({args.format}): read {report.read:,}, "
             f"loaded {report.loaded:,}, quarantined {report.quarantined:,}"]
    for t in [*d["tables"].values(), *d["derived"].values()]:
        tag = " (derived)" if t["derived"] else ""
        lines.append(f"  {t['table']:<22} read {t['read']:>9,}  loaded {t['loaded']:>9,}  "
                     f"quarantined {t['quarantined']:>7,}  new {t['new']:>9,}{tag}")
        for r in t["top_reasons"]:
            lines.append(f"      {r['rows']:>7,} × {r['reason']}")
    lines += [f"  warning: {w}" for w in d["warnings"]]
    _emit(args, d, "\n".join(lines))


def cmd_sync(args) -> None:
    from .sync import sync_graph
    counts = sync_graph(progress=False if args.json else None)
    human = "graph synced:\n" + "\n".join(f"  {k:<20} {v:>10,}" for k, v in counts.items())
    _emit(args, {"counts": counts}, human)


def cmd_classify(args) -> None:
    from .runs import classify
    report = classify(standard=args.standard, progress=False if args.json else None)
    d = report.to_dict()
    lines = [f"run {report.run_id} published: {report.customers:,} customers, {report.tags:,} tags "
             f"(standard {report.standard_version})"]
    for dim, values in d["distribution"].items():
        lines.append(f"  {dim}: " + ", ".join(f"{v} {n:,}" for v, n in values.items()))
    _emit(args, d, "\n".join(lines))


def cmd_serve(args) -> None:
    import uvicorn
    from ..api.app import create_app
    from ..graph.db import get_engine, migrate
    migrate(get_engine())
    if args.json:
        print(json.dumps({"url": f"http://{args.host}:{args.port}/graphql"}), flush=True)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")


def cmd_token(args) -> None:
    from ..graph import access
    from ..graph.db import get_engine, migrate
    engine = get_engine()
    migrate(engine)
    with engine.begin() as conn:
        if args.action == "create":
            token_id, secret = access.issue_token(conn, args.role, args.name, args.rm_id, created_by=args.actor)
            _emit(args, {"token_id": token_id, "token": secret, "role": args.role, "rm_id": args.rm_id},
                  f"token {token_id} ({args.role}) for {args.name}; shown once, store it now:\n{secret}")
        elif args.action == "revoke":
            access.revoke_token(conn, args.token_id)
            _emit(args, {"token_id": args.token_id, "revoked": True}, f"token {args.token_id} revoked")
        else:
            rows = access.list_tokens(conn)
            human = "\n".join(f"  {r['token_id']:>5}  {r['role']:<21} {r['rm_id'] or '':<10} {r['name']:<30} "
                              f"{'revoked' if r['revoked_at'] else 'active'}" for r in rows) or "  no tokens"
            _emit(args, {"tokens": rows}, human)


def cmd_schema(args) -> None:
    from ..api.schema import schema
    sdl = schema.as_str()
    _emit(args, {"sdl": sdl}, sdl)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clientstrata", description="Customer classification for banks.")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, fn, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        sp.set_defaults(fn=fn)
        return sp

    sp = command("generate", cmd_generate, "write a deterministic synthetic bank as an ingestion bundle")
    sp.add_argument("--customers", type=int, default=10_000)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("--format", choices=("csv", "parquet"), default="csv")

    sp = command("ingest", cmd_ingest, "validate and load a bundle (or the PKDD'99 data), quarantining bad rows")
    sp.add_argument("source", type=Path)
    sp.add_argument("--format", choices=("bundle", "berka"), default="bundle")

    command("sync-graph", cmd_sync, "project the relational record into the customer graph (idempotent)")

    sp = command("classify", cmd_classify, "classify every customer and publish a numbered run")
    sp.add_argument("--standard", type=Path, help="standard YAML file (default: the packaged one)")

    sp = command("token", cmd_token, "issue, list or revoke API bearer tokens (stored only as hashes)")
    tok = sp.add_subparsers(dest="action", required=True)
    create = tok.add_parser("create", help="issue a token; it is printed once")
    create.add_argument("--role", required=True, help="admin, risk_officer, marketing_analyst, "
                                                       "relationship_manager, service_agent")
    create.add_argument("--rm-id", help="for relationship_manager: the RM whose book the token reads")
    create.add_argument("--name", required=True, help="who or what holds the token")
    create.add_argument("--actor", default=os.environ.get("CLIENTSTRATA_ACTOR", "cli"))
    revoke = tok.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    tok.add_parser("list", help="list tokens (never their secrets)")
    for action in tok.choices.values():
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                       help="print one JSON object as the last line")

    command("schema", cmd_schema, "print the GraphQL schema (SDL); api/schema.graphql is its committed copy")

    sp = command("serve", cmd_serve, "serve the GraphQL API (GraphiQL in a browser at /graphql)")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ..graph.errors import ClientStrataError
    try:
        args.fn(args)
    except ClientStrataError as exc:
        return _fail(args, str(exc))
    except ImportError as exc:
        return _fail(args, f"{exc.name} is not installed: pip install 'clientstrata[server]'")
    except KeyboardInterrupt:
        return _fail(args, "interrupted")
    except Exception as exc:  # the last line of defence: one line, no stack trace
        return _fail(args, f"{type(exc).__name__}: {exc}")
    return 0


def _fail(args, reason: str) -> int:
    reason = reason.splitlines()[0] if reason else "failed"
    if getattr(args, "json", False):
        print(json.dumps({"error": reason}, ensure_ascii=False))
    print(f"clientstrata {args.command}: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
