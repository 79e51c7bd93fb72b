"""Benchmark: backtest two models over 12 months of 1,000,000 leads and 20,000,000 events.

Target on a 2-core machine: under 60 s wall and 6 GiB peak memory for the whole backtest —
reading the Parquet files through the contracts, scoring every lead with each model as of
its own decision moment (creation + 7 days, one engine call per model) and comparing.

Usage:  .venv/bin/python benchmarks/backtest_scale.py [--accounts 160000] [--review]

The data (``leadgate.synth``, as in ``score_scale.py``, plus outcomes) is generated once into
benchmarks/.data and the backtest runs in a fresh subprocess, so peak memory (ru_maxrss) is
the backtest's own. CPU time (user + system, including the process start and imports) is
printed too: on a shared machine it says more than the wall time. The second model is the
example model with stricter MQL thresholds.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _synthetic import MODEL, generate, rss_mib


def child(folder: Path, review: bool) -> None:
    """Runs inside a subprocess: read, backtest, (review), print JSON."""
    from datetime import datetime, timedelta

    from leadgate.analytics.backtest import DecisionRule, Window
    from leadgate.services import backtesting as bt

    as_of = datetime.fromisoformat((folder / "as_of").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        strict = Path(tmp) / "strict.yaml"
        text, thresholds = MODEL.read_text(), "default: {mql_fit: 40, mql_engagement: 30"
        if thresholds not in text:
            raise SystemExit(f"the example model has no {thresholds!r}; update the benchmark")
        strict.write_text(text.replace(thresholds, "default: {mql_fit: 45, mql_engagement: 40"))
        request = bt.BacktestRequest(
            model=strict,
            baseline=MODEL,
            window=Window(as_of - timedelta(days=365), as_of),
            rule=DecisionRule("delay", timedelta(days=7)),
        )
        files = bt.BacktestFiles(
            *(folder / f"{name}.parquet" for name in ("leads", "events", "outcomes", "accounts"))
        )
        timings: dict[str, float] = {}
        start = time.perf_counter()
        data = bt.read_backtest_files(files)
        timings["read"] = time.perf_counter() - start
        clock = time.perf_counter()
        run = bt.run_backtest(data, request)
        timings["backtest"] = time.perf_counter() - clock
        timings["total"] = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_SELF)
        timings["cpu"] = usage.ru_utime + usage.ru_stime  # less sensitive to a busy machine
        peak = rss_mib()
        rows = 0
        if review:
            clock = time.perf_counter()
            exported = bt.write_review(run, Path(tmp) / "review.csv")
            timings["review"] = time.perf_counter() - clock
            rows = exported.rows
    report = run.result.report
    print(
        json.dumps(
            {
                "seconds": timings,
                "peak_mib": peak,
                "peak_with_review_mib": rss_mib(),
                "leads": data.leads.height,
                "events": 0 if data.events is None else data.events.height,
                "backtested": report.leads,
                "qualified": [s.qualified for s in report.summaries],
                "disagreements": report.disagreements,
                "review_rows": rows,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=160_000)
    parser.add_argument("--events-per-lead", type=float, default=20.0)
    parser.add_argument("--review", action="store_true", help="also time the review export")
    parser.add_argument("--child", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.review)
        return
    folder = generate(args.accounts, args.events_per_lead)
    command = [sys.executable, __file__, "--child", str(folder)]
    if args.review:
        command.append("--review")
    proc = subprocess.run(command, check=True, capture_output=True, text=True)
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    s = figures["seconds"]
    print(
        f"data: {figures['leads']:,} leads, {figures['events']:,} events; "
        f"{figures['backtested']:,} leads created in the 12 months backtested"
    )
    print(
        f"backtest, two models, creation + 7d: {s['total']:6.2f} s "
        f"(read {s['read']:.2f} s, score + compare {s['backtest']:.2f} s; "
        f"CPU {s['cpu']:.1f} s)  "
        f"peak RSS {figures['peak_mib']:,.0f} MiB   (target 60 s, 6144 MiB)"
    )
    print(
        f"qualified new / baseline: {figures['qualified']}; "
        f"{figures['disagreements']:,} leads disagree"
    )
    if "review" in s:
        print(
            f"review export: {figures['review_rows']:,} leads in {s['review']:.2f} s, "
            f"peak RSS {figures['peak_with_review_mib']:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
