"""Benchmark: score 1,000,000 leads (160,000 accounts) and 20,000,000 events.

Targets on a 2-core machine: at most 3 s wall and 2 GiB peak memory for scores, stages and
account roll-ups; at most 6 s with the full ledger; single-lead scoring under 3 ms median.

Usage:  .venv/bin/python benchmarks/score_scale.py [--accounts 160000] [--runs 3] [--model M]

The data is generated once into benchmarks/.data (Parquet) and each measurement runs in a
fresh subprocess, so peak memory (ru_maxrss) is the scoring job's own. Every figure is a
median over the runs after one warm-up run. Each run also times a simple Polars reference
query on the same data in the same process (events as of the moment counted per lead and
event type, joined to the leads), so figures from a busy machine can be compared as ratios.
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
        lead_id = events.group_by("lead_id").len().filter(pl.col("len") >= 50)["lead_id"][0]
        one_lead = leads.filter(pl.col("lead_id") == lead_id)
        one_events = events.filter(pl.col("lead_id") == lead_id).head(50)
        one_account = accounts.filter(pl.col("account_id") == one_lead["account_id"][0])
        times = []
        for i in range(runs + 20):
            start = time.perf_counter()
            score(one_lead, one_account, one_events, model, as_of=as_of)
            if i >= 20:
                times.append(time.perf_counter() - start)
        print(
            json.dumps(
                {
                    "median_ms": statistics.median(times) * 1000,
                    "p90_ms": sorted(times)[int(len(times) * 0.9)] * 1000,
                    "events": one_events.height,
                }
            )
        )
        return
    explain = mode == "ledger"
    times, references = [], []
    for i in range(runs + 1):
        start = time.perf_counter()
        result = score(leads, accounts, events, model, as_of=as_of, explain_points=explain)
        if i > 0:
            times.append(time.perf_counter() - start)
            references.append(reference(leads, events, as_of))
        rows = 0 if result.ledger is None else result.ledger.height
        del result
    print(
        json.dumps(
            {
                "median_s": statistics.median(times),
                "runs": [round(t, 3) for t in times],
                "reference_s": statistics.median(references),
                "loaded_mib": loaded_mib,
                "peak_mib": rss_mib(),
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
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.runs, args.model)
        return
    folder = generate(args.accounts, args.events_per_lead)
    figures = {}
    for mode, runs in (("scores", args.runs), ("ledger", args.runs), ("single", 200)):
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
    s, led, one = figures["scores"], figures["ledger"], figures["single"]
    print(
        f"data: {s['leads']:,} leads, {s['accounts']:,} accounts, {s['events']:,} events "
        f"(inputs in memory: {s['loaded_mib']:,.0f} MiB)"
    )
    print(
        f"scores + stages + accounts : {s['median_s']:6.2f} s median {s['runs']}  "
        f"peak RSS {s['peak_mib']:,.0f} MiB   (target 3 s, 2048 MiB)"
    )
    print(
        f"... with the full ledger   : {led['median_s']:6.2f} s median {led['runs']}  "
        f"peak RSS {led['peak_mib']:,.0f} MiB   ({led['ledger_rows']:,} ledger rows; "
        f"target 6 s)"
    )
    for name, fig in (("scores", s), ("ledger", led)):
        print(
            f"reference query ({name} runs): {fig['reference_s']:6.2f} s median; "
            f"scoring / reference = {fig['median_s'] / fig['reference_s']:.1f}x"
        )
    print(
        f"single lead, {one['events']} events  : {one['median_ms']:6.2f} ms median, "
        f"p90 {one['p90_ms']:.2f} ms   (target 3 ms)"
    )


if __name__ == "__main__":
    main()
