"""Benchmark: import 1,000,000 leads and 10,000,000 events from CSV, then requalify them all.

Targets on a 2-core machine: SQLite import at least 50,000 events/s and 20,000 leads/s;
PostgreSQL import at least 100,000 events/s; requalify of 1,000,000 stored leads under 60 s.

Usage:
    .venv/bin/python benchmarks/import_scale.py                       # 1 M leads, both
    .venv/bin/python benchmarks/import_scale.py --leads 100000 --backend sqlite

Everything goes through the product path: ``import_file`` (accounts, leads, events) and
``requalify`` on an engine from ``make_engine`` + ``upgrade``. The CSVs are generated once
into ``benchmarks/.data/import/`` (``leadgate.synth``, seed 11). Each backend runs in its own
subprocess (so peak RSS is its own), on a fresh database: a temporary SQLite file, or a
throw-away PostgreSQL database that is dropped afterwards. Each step runs once, after a tiny
warm-up import.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DATA = HERE / ".data" / "import"
MODEL = HERE.parent / "src" / "leadgate" / "examples" / "b2b_saas.yaml"
LEADS_PER_ACCOUNT = 6.25
KINDS = ("accounts", "leads", "events")
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(leads: int) -> Path:
    """The CSVs for ``leads`` leads (generated once, then cached)."""
    folder = DATA if leads == 1_000_000 else DATA / f"leads_{leads}"
    if (folder / "done").exists():
        return folder
    from leadgate.synth import generate_dataset

    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = generate_dataset(
        accounts=max(1, round(leads / LEADS_PER_ACCOUNT)),
        leads_per_account=LEADS_PER_ACCOUNT,
        events_per_lead=10,
        seed=11,
    )
    for kind in KINDS:
        getattr(data, kind).write_csv(folder / f"{kind}.csv")
    (folder / "as_of").write_text(data.as_of.isoformat())
    (folder / "done").write_text("")
    print(
        f"generated {data.accounts.height:,} accounts, {data.leads.height:,} leads, "
        f"{data.events.height:,} events in {time.perf_counter() - start:.1f} s -> {folder}"
    )
    return folder


def _warm_up(folder: Path, now: datetime) -> None:
    """A tiny import on a scratch SQLite file (loads and warms up Polars and SQLAlchemy)."""
    import polars as pl

    from leadgate.services.importing import import_file
    from leadgate.storage import make_engine, upgrade

    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp)
        leads = pl.read_csv(folder / "leads.csv", n_rows=200)
        leads.write_csv(small / "leads.csv")
        pl.read_csv(folder / "accounts.csv").filter(
            pl.col("account_id").is_in(leads["account_id"].implode())
        ).write_csv(small / "accounts.csv")
        pl.read_csv(folder / "events.csv", n_rows=20_000).filter(
            pl.col("lead_id").is_in(leads["lead_id"].implode())
        ).write_csv(small / "events.csv")
        engine = make_engine(f"sqlite:///{small / 'warm.db'}")
        upgrade(engine)
        for kind in KINDS:
            import_file(engine, kind, small / f"{kind}.csv", now=now)
        engine.dispose()


def child(backend: str, url: str, folder: Path, batch_size: int) -> dict[str, Any]:
    """Runs inside a subprocess: warm up, import, requalify; returns the figures."""
    from leadgate.services.importing import import_file
    from leadgate.services.lifecycle import requalify
    from leadgate.storage import make_engine, upgrade

    as_of = datetime.fromisoformat((folder / "as_of").read_text())
    now = as_of
    _warm_up(folder, now)
    engine = make_engine(url)
    upgrade(engine)
    steps: list[dict[str, Any]] = []
    try:
        for kind in KINDS:
            start = time.perf_counter()
            summary = import_file(
                engine, kind, folder / f"{kind}.csv", now=now, batch_size=batch_size
            )
            seconds = time.perf_counter() - start
            rows = summary.inserted + summary.updated + summary.unchanged
            steps.append(
                {
                    "step": f"import {kind}",
                    "rows": rows,
                    "seconds": seconds,
                    "note": f"inserted {summary.inserted:,}, rejected {summary.rejected:,}",
                }
            )
            print(f"  [{backend}] import {kind}: {rows:,} rows in {seconds:.1f} s", flush=True)
        start = time.perf_counter()
        result = requalify(engine, MODEL, as_of=as_of, now=now)
        seconds = time.perf_counter() - start
        print(f"  [{backend}] requalify: {result.leads:,} leads in {seconds:.1f} s", flush=True)
        steps.append(
            {
                "step": "requalify",
                "rows": result.leads,
                "seconds": seconds,
                "note": f"{result.events:,} events, rescored {result.rescored:,}",
            }
        )
        for part in ("read", "score", "write"):
            steps.append(
                {
                    "step": f"  requalify {part}",
                    "rows": result.leads,
                    "seconds": result.seconds.get(part, float("nan")),
                    "note": "",
                }
            )
    finally:
        engine.dispose()
    return {"backend": backend, "steps": steps, "peak_rss_mib": _rss_mib()}


def _run_backend(backend: str, args: argparse.Namespace, folder: Path) -> dict[str, Any] | None:
    command = [sys.executable, __file__, "--child", backend, "--folder", str(folder)]
    command += ["--batch-size", str(args.batch_size)]
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(dir=DATA) as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            out = subprocess.run([*command, "--url", url], check=True, stdout=subprocess.PIPE)
    else:
        import sqlalchemy as sa

        name = f"leadgate_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(f"{args.pg}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as exc:
            print(f"PostgreSQL skipped: {exc.orig}")
            return None
        try:
            url = f"{args.pg}/{name}"
            out = subprocess.run([*command, "--url", url], check=True, stdout=subprocess.PIPE)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    lines = out.stdout.decode().splitlines()
    for line in lines[:-1]:
        print(line)
    return dict(json.loads(lines[-1]))


def _table(results: list[dict[str, Any]]) -> None:
    header = f"{'backend':<11}{'step':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}  note"
    print(header)
    print("-" * len(header))
    for result in results:
        for step in result["steps"]:
            rate = step["rows"] / step["seconds"] if step["seconds"] else float("nan")
            print(
                f"{result['backend']:<11}{step['step']:<22}{step['rows']:>12,}"
                f"{step['seconds']:>10.2f}{rate:>12,.0f}  {step['note']}"
            )
        print(f"{result['backend']:<11}{'peak RSS':<22}{result['peak_rss_mib']:>12,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--pg", default=PG, help="server URL without a database name")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.url, Path(args.folder), args.batch_size)
        print(json.dumps(result))
        return
    folder = generate(args.leads)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = [r for b in backends if (r := _run_backend(b, args, folder)) is not None]
    print(f"\n{args.leads:,} leads requested, batch size {args.batch_size:,}, data in {folder}")
    _table(results)


if __name__ == "__main__":
    main()
