"""Profile real-time ingest in-process: per-step milliseconds for small groups of events.

Prepares a store as ``benchmarks/api_load.py`` does (synthetic leads, events and the
example roster, requalified), then calls :func:`leadgate.services.ingest.ingest_events`
directly with groups of single-event requests — as the service's writer does — and
times each step of a group by wrapping the functions it calls (inclusive times; nested
steps are indented). Also prints the CPU time of a group (all threads: Polars runs its
own) and counts the SQL statements it sends. Helpers that return lazy queries
(``_changed_scores``, ``_moved_state``, ``_lead_updates``, ``_auto_history``) show only
the time to build them: their work runs in ``apply_scores``' single collect.

Two event mixes:

- ``load``: the load test's events (page views, half of ``/pricing``, half of a blog
  post); every group's scores change (decay moves with the clock) and about half of the
  one-event groups move a lead (a pricing view can lift it to MQL, which is routed).
- ``moves``: demo requests and trial starts, so leads move to MQL/PQL and are routed,
  with SLA clocks and outbox messages.

Usage::

    .venv/bin/python benchmarks/ingest_profile.py [--sizes 1,12,50] [--groups 40]
        [--backends sqlite,postgresql] [--mix load,moves] [--accounts 400]

Figures are printed; nothing is asserted. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import functools
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from api_load import MODEL, _prepare, drop_store, store_url

# (module, attribute, label): the steps of a group, outermost first.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("leadgate.services.ingest", "live_lead_ids", "live_lead_ids"),
    ("leadgate.services.ingest", "event_receipts", "event_receipts"),
    ("leadgate.services.ingest", "insert_events", "insert_events"),
    ("leadgate.services.ingest", "rescore_leads", "rescore_leads"),
    ("leadgate.services.lifecycle", "read_store_for", "  read_store_for"),
    ("leadgate.services.lifecycle", "score", "  score (engine)"),
    ("leadgate.services.lifecycle", "apply_scores", "  apply_scores"),
    ("leadgate.services.lifecycle", "auto_transitions", "    auto_transitions"),
    ("leadgate.services.lifecycle", "_changed_scores", "    _changed_scores"),
    ("leadgate.services.lifecycle", "_auto_history", "    _auto_history"),
    ("leadgate.services.lifecycle", "_moved_state", "    _moved_state"),
    ("leadgate.services.lifecycle", "_lead_updates", "    _lead_updates"),
    ("leadgate.services.lifecycle", "update_lead_state", "    update_lead_state"),
    ("leadgate.services.lifecycle", "append_stage_history", "    append_stage_history"),
    ("leadgate.services.lifecycle", "stage_messages", "    stage_messages"),
    ("leadgate.services.lifecycle", "append_outbox", "    append_outbox"),
    ("leadgate.services.lifecycle", "_sla_clocks", "    _sla_clocks"),
    ("leadgate.services.ingest", "unassigned_in_routed_stage", "routable?"),
    ("leadgate.services.routing", "route_within", "route_within"),
    ("leadgate.services.routing", "_routable", "  _routable"),
    ("leadgate.services.routing", "flags_from", "  flags_from"),
    ("leadgate.services.routing", "read_roster", "  read_roster"),
    ("leadgate.storage.routing", "read_cursors", "  read_cursors"),
    ("leadgate.storage.subsets", "account_owners", "  account_owners"),
    ("leadgate.engine.routing", "assign", "  assign (engine)"),
    ("leadgate.services.routing", "record_assignments", "  record_assignments"),
    ("leadgate.storage.routing", "save_cursors", "  save_cursors"),
    ("leadgate.services.routing", "_fix_due_times", "  _fix_due_times"),
    ("leadgate.services.ingest", "_states", "_states"),
)


class Timings:
    """Inclusive seconds per step, summed over the groups of one run."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total[label] += time.perf_counter() - began
                self.calls[label] += 1

        return timed


@contextmanager
def instrumented(timings: Timings) -> Iterator[None]:
    import importlib

    saved = []
    for module_name, attribute, label in STEPS:
        module = importlib.import_module(module_name)
        original = getattr(module, attribute)
        saved.append((module, attribute, original))
        setattr(module, attribute, timings.wrap(label, original))
    try:
        yield
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)


def _requests(mix: str, size: int, leads: list[str], rng: random.Random, now: datetime) -> list:
    from leadgate.services.event_columns import EventInput

    out = []
    for _ in range(size):
        lead = leads[rng.randrange(len(leads))]
        if mix == "load":
            roll = rng.random()
            url = "/pricing" if roll < 0.5 else "/blog/post"
            event = EventInput(f"p-{uuid.uuid4().hex}", lead, "page_view", now, {"url": url})
        else:
            kind = rng.choice(("demo", "trial"))
            if kind == "demo":
                props: dict[str, str | int | float | bool | None] = {"form": "demo_request"}
                event = EventInput(f"p-{uuid.uuid4().hex}", lead, "form_submit", now, props)
            else:
                event = EventInput(f"p-{uuid.uuid4().hex}", lead, "trial_started", now, {})
        out.append([event])
    return out


def profile(url: str, leads: list[str], args: argparse.Namespace, name: str) -> None:
    import sqlalchemy as sa

    from leadgate.services.ingest import ingest_events
    from leadgate.services.lifecycle import FieldTypes, load_stored_model
    from leadgate.storage import make_engine

    model = load_stored_model(MODEL).model
    engine = make_engine(url)
    statements = [0]

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        statements[0] += 1

    field_types = FieldTypes()
    rng = random.Random(11)
    clock = datetime.now(UTC)
    try:
        for mix in args.mix.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                for _ in range(args.warmup):  # plan cache, statement caches
                    clock += timedelta(milliseconds=50)
                    requests = _requests(mix, size, leads, rng, clock)
                    ingest_events(engine, model, requests, now=clock, field_types=field_types)
                timings = Timings()
                walls: list[float] = []
                cpu = 0.0
                statements[0] = 0
                with instrumented(timings):
                    for _ in range(args.groups):
                        clock += timedelta(milliseconds=50)
                        requests = _requests(mix, size, leads, rng, clock)
                        began, began_cpu = time.perf_counter(), time.process_time()
                        results = ingest_events(
                            engine, model, requests, now=clock, field_types=field_types
                        )
                        walls.append(time.perf_counter() - began)
                        cpu += time.process_time() - began_cpu
                        failed = [r.error for r in results if r.error is not None]
                        if failed:
                            raise SystemExit(f"ingest failed: {failed[0]!r}")
                n = args.groups
                print(
                    f"\n  {name} · mix {mix} · {size} event(s)/group · {n} groups: "
                    f"median {statistics.median(walls) * 1000:.1f} ms, "
                    f"mean {statistics.fmean(walls) * 1000:.1f} ms, "
                    f"p90 {sorted(walls)[int(0.9 * (n - 1))] * 1000:.1f} ms, "
                    f"CPU {cpu / n * 1000:.1f} ms (all threads); "
                    f"{statements[0] / n:.1f} SQL statements/group"
                )
                for _, _, label in STEPS:
                    if timings.calls.get(label):
                        per_group = timings.total[label] / n * 1000
                        calls = timings.calls[label] / n
                        print(f"    {label:<28} {per_group:7.2f} ms  ({calls:.2f} calls)")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,12,50")
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=400, help="× 5 leads each")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--mix", default="load,moves")
    args = parser.parse_args()
    for name in args.backends.split(","):
        print(f"\n== {name} ==")
        workdir = Path(tempfile.mkdtemp(prefix=f"leadgate-profile-{name}-"))
        store = store_url(name, workdir)
        if store is None:
            continue
        url, cleanup = store
        try:
            began = time.perf_counter()
            leads, _ = _prepare(url, args.accounts)
            print(f"  store ready: {len(leads):,} leads ({time.perf_counter() - began:.1f} s)")
            profile(url, leads, args, name)
        finally:
            drop_store(cleanup)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
