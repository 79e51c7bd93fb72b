"""Benchmark: score 1,000,000 leads (160,000 accounts) and 20,000,000 events.

Targets on a 2-core machine: at most 3 s wall and 2 GiB peak memory for scores, stages and
account roll-ups; at most 6 s with the full ledger; single-lead scoring under 3 ms median.
Small calls (one lead with 50 events, and 20 such leads: what the real-time API sends) are
timed with and without the ledger; they reuse the model's cached plan (``engine/plan.py``),
so the figures are the steady state of a long-running process.

Usage:  .venv/bin/python benchmarks/score_scale.py [--accounts 160000] [--runs 3] [--model M]

The data is generated once into benchmarks/.data (Parquet) and each measurement runs in a
fresh subprocess, so peak memory (ru_maxrss, taken before the reference queries) is the
scoring job's own. Every figure is a median over the runs after one warm-up run. After the
scoring runs, the same number of runs time a simple Polars reference query on the same data
in the same process (events as of the moment counted per lead and event type, joined to the
leads), so figures from a busy machine can be compared as ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _synthetic import MODEL, generate, rss_mib


def reference(leads: Any, events: Any, as_of: Any) -> float:
    """Seconds for a plain Polars query over the same data (the yardstick for ratios)."""
    import polars as pl

    start = time.perf_counter()
    counts = (
        events.lazy()
        .filter(pl.col("occurred_at") <= as_of)
        .group_by("lead_id", "event_type")
        .agg(pl.len())
        .group_by("lead_id")
        .agg(pl.col("len").sum())
    )
    leads.lazy().select("lead_id").join(counts, on="lead_id", how="left").collect()
    return time.perf_counter() - start


def child(folder: Path, mode: str, runs: int, model_path: Path) -> None:
    """Runs inside a subprocess: load, warm up, time, print JSON."""
    from datetime import datetime

    import polars as pl

    from leadgate import load_model, score

    model = load_model(model_path)
    as_of = datetime.fromisoformat((folder / "as_of").read_text())
    accounts = pl.read_parquet(folder / "accounts.parquet")
    leads = pl.read_parquet(folder / "leads.parquet")
    events = pl.read_parquet(folder / "events.parquet")
    loaded_mib = rss_mib()
    if mode == "single":
        busy = events.group_by("lead_id").len().filter(pl.col("len") >= 50).sort("lead_id")
        figures = {}
        for size in (1, 20):
            ids = busy["lead_id"].head(size).implode()
            some_leads = leads.filter(pl.col("lead_id").is_in(ids))
            some_events = (
                events.filter(pl.col("lead_id").is_in(ids))
                .group_by("lead_id", maintain_order=True)
                .head(50)
            )
            some_accounts = accounts.filter(
                pl.col("account_id").is_in(some_leads["account_id"].implode())
            )
            for explain in (True, False):
                times, cpu = [], []
                for i in range(runs + 20):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    score(
                        some_leads,
                        some_accounts,
                        some_events,
                        model,
                        as_of=as_of,
                        explain_points=explain,
                    )
                    if i >= 20:  # after warm-up: the model's plan is cached
                        times.append(time.perf_counter() - start)
                        cpu.append(time.process_time() - start_cpu)
                times.sort()
                figures[f"{size}/{'ledger' if explain else 'scores'}"] = {
                    "p50_ms": statistics.median(times) * 1000,
                    "p90_ms": times[int(len(times) * 0.9)] * 1000,
                    "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
                    "cpu_p50_ms": statistics.median(cpu) * 1000,
                    "events": some_events.height,
                }
        print(json.dumps(figures))
        return
    explain = mode == "ledger"
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        result = score(leads, accounts, events, model, as_of=as_of, explain_points=explain)
        if i > 0:
            times.append(time.perf_counter() - start)
        rows = 0 if result.ledger is None else result.ledger.height
        del result
    # the scoring job's own peak: the reference query (~400 MiB of filtered events on the
    # in-memory engine) runs after it is taken
    peak_mib = rss_mib()
    references = [reference(leads, events, as_of) for _ in range(runs)]
    print(
        json.dumps(
            {
                "median_s": statistics.median(times),
                "runs": [round(t, 3) for t in times],
                "reference_s": statistics.median(references),
                "loaded_mib": loaded_mib,
                "peak_mib": peak_mib,
                "peak_with_reference_mib": rss_mib(),
                "ledger_rows": rows,
                "leads": leads.height,
                "events": events.height,
                "accounts": accounts.height,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=160_000)
    parser.add_argument("--events-per-lead", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", type=Path, default=MODEL, help="qualification model YAML")
    parser.add_argument(
        "--modes",
        default="scores,ledger,single",
        help="which measurements to run (comma-separated: scores, ledger, single)",
    )
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.runs, args.model)
        return
    folder = generate(args.accounts, args.events_per_lead)
    figures = {}
    modes = args.modes.split(",")
    for mode, runs in (("scores", args.runs), ("ledger", args.runs), ("single", 200)):
        if mode not in modes:
            continue
        proc = subprocess.run(
            [
                *(sys.executable, __file__, "--child", str(folder), mode),
                *("--runs", str(runs), "--model", str(args.model)),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        figures[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    report(figures)


def report(figures: dict[str, Any]) -> None:
    """Print the figures of the modes that ran."""
    batch = [name for name in ("scores", "ledger") if name in figures]
    if batch:
        fig = figures[batch[0]]
        print(
            f"data: {fig['leads']:,} leads, {fig['accounts']:,} accounts, {fig['events']:,} "
            f"events (inputs in memory: {fig['loaded_mib']:,.0f} MiB)"
        )
    for name in batch:
        fig = figures[name]
        if name == "scores":
            label, target = "scores + stages + accounts", "target 3 s, 2048 MiB"
        else:
            label, target = "... with the full ledger", f"{fig['ledger_rows']:,} rows; target 6 s"
        print(
            f"{label:26s} : {fig['median_s']:6.2f} s median {fig['runs']}  "
            f"peak RSS {fig['peak_mib']:,.0f} MiB   ({target})"
        )
    for name in batch:
        fig = figures[name]
        print(
            f"reference query ({name} runs): {fig['reference_s']:6.2f} s median; "
            f"scoring / reference = {fig['median_s'] / fig['reference_s']:.1f}x; "
            f"process peak after it {fig['peak_with_reference_mib']:,.0f} MiB"
        )
    for key, fig in figures.get("single", {}).items():
        size, kind = key.split("/")
        label = f"{size} lead{'s' if size != '1' else ''}, {fig['events']} events, {kind}"
        print(
            f"{label:32s}: p50 {fig['p50_ms']:6.2f} ms, p90 {fig['p90_ms']:6.2f} ms, "
            f"p99 {fig['p99_ms']:6.2f} ms, CPU p50 {fig['cpu_p50_ms']:6.2f} ms"
            + ("   (target 3 ms median)" if key == "1/ledger" else "")
        )


if __name__ == "__main__":
    main()
