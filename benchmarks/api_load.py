"""Load the REST service: single events with rescoring at a target rate, then batches.

For each backend (SQLite, then PostgreSQL at 127.0.0.1:5432) this script prepares a store
(synthetic leads, events and the example roster, requalified), starts ``leadgate serve``
as a subprocess on 127.0.0.1, and drives it from a *separate* load process (asyncio,
uvloop and a lean keep-alive HTTP/1.1 client of its own; open loop: requests start on
schedule whether or not earlier ones answered, and latency is measured from the scheduled
start, so a stalled server cannot hide its queue):

1. ``--seconds`` (60) of single-event ``POST /v1/events`` at ``--rate`` (300/s), with
   duplicates (an acknowledged event sent again) and retries (the same new event sent
   twice at once, as a client does after a timeout) mixed in: p50/p99 latency and errors.
2. ``--batch-seconds`` (20) of ``POST /v1/events:batch`` with 1,000 events each,
   ``--batch-clients`` (4) in flight, as a CRM sync client sending concurrent batches
   does: events per second.
3. Exactly-once: every acknowledged event id is stored, once.

Usage::

    .venv/bin/python benchmarks/api_load.py [--seconds 60] [--rate 300]
        [--batch-seconds 20] [--batch-clients 4] [--backends sqlite,postgresql]

Figures are printed; nothing is asserted. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
MODEL = HERE.parent / "src" / "leadgate" / "examples" / "b2b_saas.yaml"
ROSTER = MODEL.parent / "teams.yaml"
PG_SERVER = os.environ.get("LEADGATE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PREFIX = "bench-"
SENDERS = 64
"""Requests in flight at most (the open-loop schedule keeps running behind them)."""


# --- the load process -----------------------------------------------------------------------


class _Connection:
    """A lean HTTP/1.1 keep-alive client: one connection, one request at a time.

    httpx spent ~7 ms of the load process's CPU per request (measured: 72 % of a core at
    100 requests/s), so on a 2-core machine the load generator itself was the bottleneck.
    This client writes the request bytes and parses the status line, ``Content-Length``
    and body; any failure (connection reset, timeout, a malformed answer) is an error.
    """

    def __init__(self, host: str, port: int, token: str, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.head = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._post(path, body), self.timeout)
        except BaseException:
            self.close()
            raise

    async def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.head, len(body), body)
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if b"content-length" not in headers:
            raise ValueError("an answer without Content-Length")
        data = await self.reader.readexactly(int(headers[b"content-length"]))
        if headers.get(b"connection") == b"close":
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _address(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("http://").partition(":")
    return host, int(port)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _singles(url: str, token: str, leads: list[str], seconds: float, rate: float) -> dict:
    host, port = _address(url)
    rng = random.Random(7)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    acked: dict[str, None] = {}  # in acknowledgement order
    recent_acks: deque[str] = deque(maxlen=200)
    duplicates_answered = 0
    errors: list[str] = []

    async def send(connection: _Connection, body: dict, scheduled: float) -> None:
        nonlocal duplicates_answered
        try:
            status, data = await connection.post("/v1/events", json.dumps(body).encode())
        except Exception as error:  # counted as an error, never hidden
            errors.append(type(error).__name__)
            return
        latencies.append(time.perf_counter() - scheduled)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status in (200, 201):
            if body["event_id"] not in acked:
                acked[body["event_id"]] = None
                recent_acks.append(body["event_id"])
            duplicates_answered += bool(json.loads(data)["duplicate"])
        else:
            errors.append(f"{status} {data[:120].decode(errors='replace')}")

    # The producer puts each request on a queue at its scheduled time (open loop); a fixed
    # set of senders, each with its own keep-alive connection, takes them in order. A server
    # that falls behind shows as latency counted from the scheduled time, never as a
    # client-side pile of waiters.
    queue: asyncio.Queue[tuple[dict, float] | None] = asyncio.Queue()

    async def sender() -> None:
        connection = _Connection(host, port, token, timeout=30)
        while (item := await queue.get()) is not None:
            await send(connection, *item)
        connection.close()

    senders = [asyncio.create_task(sender()) for _ in range(SENDERS)]
    recent: list[str] = []
    start = time.perf_counter()
    for i in range(int(seconds * rate)):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        await asyncio.sleep(max(delay, 0))  # yields to the senders even when behind
        roll = rng.random()
        duplicate = roll < 0.05 and recent  # an acknowledged event sent again
        event_id = rng.choice(recent) if duplicate else f"{PREFIX}{uuid.uuid4().hex}"
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
        if i % 50 == 0:
            recent = list(recent_acks)
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


async def _batches(url: str, token: str, leads: list[str], seconds: float, clients: int) -> dict:
    host, port = _address(url)
    rng = random.Random(11)
    acked: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()

    async def worker() -> None:
        connection = _Connection(host, port, token, timeout=120)
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
            body = json.dumps({"events": events}).encode()
            began = time.perf_counter()
            try:
                status, data = await connection.post("/v1/events:batch", body)
            except Exception as error:  # counted as an error, never hidden
                errors.append(type(error).__name__)
                continue
            latencies.append(time.perf_counter() - began)
            if status == 200:
                acked.extend(r["event_id"] for r in json.loads(data)["receipts"])
            else:
                errors.append(f"{status} {data[:120].decode(errors='replace')}")
        connection.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
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


def _run(coroutine: Coroutine[Any, Any, dict]) -> dict:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def drive(args: argparse.Namespace) -> None:
    leads = json.loads(Path(args.leads_file).read_text())
    singles = _run(_singles(args.url, args.token, leads, args.seconds, args.rate))
    batches = _run(_batches(args.url, args.token, leads, args.batch_seconds, args.batch_clients))
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


def store_url(name: str, workdir: Path) -> tuple[str, object | None] | None:
    """The URL of a fresh store on ``name`` (``sqlite`` in ``workdir``, or ``postgresql``)
    and what ``_drop`` needs to remove it afterwards; ``None`` when PostgreSQL is down."""
    if name == "sqlite":
        return f"sqlite:///{workdir / 'leadgate.db'}", None
    return _pg_database()


def drop_store(cleanup: Any) -> None:
    """Remove a PostgreSQL store made by :func:`store_url` (nothing to do for SQLite)."""
    if cleanup is not None:
        admin, db = cleanup
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.dispose()


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
    store = store_url(name, workdir)
    if store is None:
        return
    url, cleanup = store
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
                "--batch-clients",
                str(args.batch_clients),
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
        f"  batches: {batches['batches']} × 1,000 events, {args.batch_clients} in flight, "
        f"in {batches['elapsed']:.1f} s = "
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
    drop_store(cleanup)
    if args.keep:
        print(f"  kept: {workdir} (server log, acknowledgements, SQLite store)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--batch-seconds", type=float, default=20.0)
    parser.add_argument(
        "--batch-clients", type=int, default=4, help="batch requests in flight at once"
    )
    parser.add_argument("--accounts", type=int, default=400, help="× 5 leads each")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--keep", action="store_true", help="keep each run's folder (it is removed after a run)"
    )
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
