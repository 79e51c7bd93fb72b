"""Load the REST service: single events with rescoring at a target rate, then batches.

For each backend (SQLite, then PostgreSQL at 127.0.0.1:5432) this script prepares a store
(synthetic leads, events and the example roster, requalified), starts ``leadgate serve``
as a subprocess on 127.0.0.1, and drives it from a *separate* load process (asyncio +
httpx, open loop: requests start on schedule whether or not earlier ones answered, and
latency is measured from the scheduled start, so a stalled server cannot hide its queue):

1. ``--seconds`` (60) of single-event ``POST /v1/events`` at ``--rate`` (300/s), with
   duplicates (an acknowledged event sent again) and retries (the same new event sent
   twice at once, as a client does after a timeout) mixed in: p50/p99 latency and errors.
2. ``--batch-seconds`` (20) of ``POST /v1/events:batch`` with 1,000 events each, two in
   flight: events per second.
3. Exactly-once: every acknowledged event id is stored, once.

Usage::

    .venv/bin/python benchmarks/api_load.py [--seconds 60] [--rate 300]
        [--batch-seconds 20] [--backends sqlite,postgresql]

Figures are printed; nothing is asserted. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
MODEL = HERE.parent / "src" / "leadgate" / "examples" / "b2b_saas.yaml"
ROSTER = MODEL.parent / "teams.yaml"
PG_SERVER = os.environ.get("LEADGATE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PREFIX = "bench-"
SENDERS = 64
"""Requests in flight at most (the open-loop schedule keeps running behind them)."""


# --- the load process -----------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _singles(url: str, token: str, leads: list[str], seconds: float, rate: float) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    acked: dict[str, None] = {}  # in acknowledgement order
    duplicates_answered = 0
    errors: list[str] = []
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:

        async def send(body: dict, scheduled: float) -> None:
            nonlocal duplicates_answered
            try:
                response = await client.post("/v1/events", json=body)
            except Exception as error:  # counted as an error, never hidden
                errors.append(type(error).__name__)
                return
            latencies.append(time.perf_counter() - scheduled)
            key = str(response.status_code)
            statuses[key] = statuses.get(key, 0) + 1
            if response.status_code in (200, 201):
                acked[body["event_id"]] = None
                duplicates_answered += bool(response.json()["duplicate"])
            else:
                errors.append(f"{response.status_code} {response.text[:120]}")

        # The producer puts each request on a queue at its scheduled time (open loop); a
        # fixed set of senders takes them in order. A server that falls behind shows as
        # latency counted from the scheduled time, never as a client-side pile of waiters.
        queue: asyncio.Queue[tuple[dict, float] | None] = asyncio.Queue()

        async def sender() -> None:
            while (item := await queue.get()) is not None:
                await send(*item)

        senders = [asyncio.create_task(sender()) for _ in range(SENDERS)]
        recent: list[str] = []
        start = time.perf_counter()
        for i in range(int(seconds * rate)):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            await asyncio.sleep(max(delay, 0))  # yields to the senders even when behind
            roll = rng.random()
            if roll < 0.05 and recent:
                event_id = rng.choice(recent)  # a duplicate of an acknowledged event
            else:
                event_id = f"{PREFIX}{uuid.uuid4().hex}"
            body = {
                "event_id": event_id,
                "lead_id": leads[rng.randrange(len(leads))],
                "event_type": "page_view",
                "occurred_at": datetime.now(UTC).isoformat(),
                "properties": {"url": "/pricing" if roll < 0.5 else "/blog/post"},
            }
            queue.put_nowait((body, scheduled))
            if 0.05 <= roll < 0.08:  # a retry: the same new event again, right away
                queue.put_nowait((dict(body), scheduled))
            if acked and i % 50 == 0:
                recent = list(acked)[-200:]
        for _ in senders:
            queue.put_nowait(None)
        await asyncio.gather(*senders)
        elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies) + len([e for e in errors if not e[:3].isdigit()]),
        "elapsed": elapsed,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p90_ms": _percentile(latencies, 0.90) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "statuses": statuses,
        "errors": len(errors),
        "error_samples": errors[:5],
        "duplicates_answered": duplicates_answered,
        "acked": list(acked),
    }


async def _batches(url: str, token: str, leads: list[str], seconds: float) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(11)
    acked: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        start = time.perf_counter()

        async def worker() -> None:
            while time.perf_counter() - start < seconds:
                now = datetime.now(UTC)
                events = [
                    {
                        "event_id": f"{PREFIX}b-{uuid.uuid4().hex}",
                        "lead_id": rng.choice(leads),
                        "event_type": "email_open",
                        "occurred_at": (now - timedelta(seconds=rng.randint(0, 3600))).isoformat(),
                    }
                    for _ in range(1000)
                ]
                began = time.perf_counter()
                try:
                    response = await client.post("/v1/events:batch", json={"events": events})
                except Exception as error:  # counted as an error, never hidden
                    errors.append(type(error).__name__)
                    continue
                latencies.append(time.perf_counter() - began)
                if response.status_code == 200:
                    acked.extend(r["event_id"] for r in response.json()["receipts"])
                else:
                    errors.append(f"{response.status_code} {response.text[:120]}")

        await asyncio.gather(worker(), worker())
        elapsed = time.perf_counter() - start
    return {
        "batches": len(latencies),
        "events": len(acked),
        "elapsed": elapsed,
        "events_per_second": len(acked) / elapsed,
        "p50_batch_ms": _percentile(latencies, 0.5) * 1000,
        "p99_batch_ms": _percentile(latencies, 0.99) * 1000,
        "errors": len(errors),
        "error_samples": errors[:3],
        "acked": acked,
    }


def drive(args: argparse.Namespace) -> None:
    leads = json.loads(Path(args.leads_file).read_text())
    singles = asyncio.run(_singles(args.url, args.token, leads, args.seconds, args.rate))
    batches = asyncio.run(_batches(args.url, args.token, leads, args.batch_seconds))
    Path(args.out).write_text(json.dumps({"singles": singles, "batches": batches}))


# --- the orchestrating process --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_database() -> tuple[str, object] | None:
    import sqlalchemy as sa

    name = f"leadgate_bench_{os.getpid()}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        print(f"  PostgreSQL unavailable ({type(error).__name__}); skipped")
        return None
    return f"{PG_SERVER}/{name}", (admin, name)


def _prepare(url: str, accounts: int) -> tuple[list[str], str]:
    """Migrate, load synthetic data and the roster, requalify; return lead ids and a key."""
    from leadgate.services.keys import create_key
    from leadgate.services.lifecycle import requalify
    from leadgate.services.routing import import_roster
    from leadgate.storage import (
        insert_events,
        make_engine,
        transaction,
        upgrade,
        upsert_accounts,
        upsert_leads,
    )
    from leadgate.synth import generate_dataset

    now = datetime.now(UTC)
    data = generate_dataset(accounts=accounts, leads_per_account=5, events_per_lead=10, as_of=now)
    engine = make_engine(url)
    try:
        upgrade(engine)
        with transaction(engine) as conn:
            upsert_accounts(conn, data.accounts, now=now)
            upsert_leads(conn, data.leads, now=now)
            insert_events(conn, data.events, now=now)
        import_roster(engine, ROSTER)
        requalify(engine, MODEL, as_of=now, now=now)
        with transaction(engine) as conn:
            token = create_key(conn, role="ingest", name="load", now=now).token
    finally:
        engine.dispose()
    return data.leads.get_column("lead_id").cast(str).to_list(), token


def _serve(url: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "LEADGATE_RATE_LIMIT_PER_SECOND": "100000",
        "LEADGATE_RATE_LIMIT_BURST": "100000",
    }
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadgate",
            "serve",
            "--model",
            str(MODEL),
            "--database",
            url,
            "--port",
            str(port),
            "--log-level",
            os.environ.get("BENCH_LOG", "warning"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the service did not start; see {workdir / 'server.log'}")


def _verify(url: str, acked: set[str]) -> dict:
    from leadgate.storage import make_engine, read_events

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ids = read_events(conn).get_column("event_id")
    finally:
        engine.dispose()
    ours = ids.filter(ids.str.starts_with(PREFIX))
    stored = set(ours.to_list())
    return {
        "acknowledged": len(acked),
        "stored": ours.len(),
        "stored_distinct": len(stored),
        "acknowledged_missing": len(acked - stored),
        "stored_without_ack": len(stored - acked),
    }


def run_backend(name: str, args: argparse.Namespace) -> None:
    print(f"\n== {name} ==")
    workdir = Path(tempfile.mkdtemp(prefix=f"leadgate-load-{name}-"))
    cleanup = None
    if name == "sqlite":
        url = f"sqlite:///{workdir / 'leadgate.db'}"
    else:
        made = _pg_database()
        if made is None:
            return
        url, cleanup = made
    began = time.perf_counter()
    leads, token = _prepare(url, args.accounts)
    print(f"  store ready: {len(leads):,} leads ({time.perf_counter() - began:.1f} s)")
    port = _free_port()
    server = _serve(url, port, workdir)
    leads_file = workdir / "leads.json"
    leads_file.write_text(json.dumps(leads))
    out = workdir / "result.json"
    try:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--drive",
                "--url",
                f"http://127.0.0.1:{port}",
                "--token",
                token,
                "--leads-file",
                str(leads_file),
                "--out",
                str(out),
                "--seconds",
                str(args.seconds),
                "--rate",
                str(args.rate),
                "--batch-seconds",
                str(args.batch_seconds),
            ],
            check=True,
        )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    result = json.loads(out.read_text())
    singles, batches = result["singles"], result["batches"]
    acked = set(singles.pop("acked")) | set(batches.pop("acked"))
    check = _verify(url, acked)
    rate = singles["requests"] / singles["elapsed"]
    print(
        f"  single events: {singles['requests']:,} requests in {singles['elapsed']:.1f} s "
        f"({rate:.0f}/s, target {args.rate:g}/s)\n"
        f"    latency p50 {singles['p50_ms']:.1f} ms, p90 {singles['p90_ms']:.1f} ms, "
        f"p99 {singles['p99_ms']:.1f} ms, max {singles['max_ms']:.1f} ms\n"
        f"    statuses {singles['statuses']}, errors {singles['errors']}, "
        f"duplicates answered {singles['duplicates_answered']:,}"
    )
    for sample in singles["error_samples"]:
        print(f"    error: {sample}")
    print(
        f"  batches: {batches['batches']} × 1,000 events in {batches['elapsed']:.1f} s = "
        f"{batches['events_per_second']:,.0f} events/s (target 20,000); batch p50 "
        f"{batches['p50_batch_ms']:.0f} ms, p99 {batches['p99_batch_ms']:.0f} ms; "
        f"errors {batches['errors']}"
    )
    for sample in batches["error_samples"]:
        print(f"    error: {sample}")
    print(
        f"  exactly once: {check['acknowledged']:,} acknowledged, {check['stored']:,} stored "
        f"({check['stored_distinct']:,} distinct), {check['acknowledged_missing']} acknowledged "
        f"but missing, {check['stored_without_ack']} stored without an acknowledgement"
    )
    if cleanup is not None:
        admin, db = cleanup
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--batch-seconds", type=float, default=20.0)
    parser.add_argument("--accounts", type=int, default=400, help="× 5 leads each")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--leads-file", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args)
        return
    print(f"load: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args)


if __name__ == "__main__":
    main()
