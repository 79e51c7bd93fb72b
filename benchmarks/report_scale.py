"""Time the full report's analytics on 1 M leads (target: < 30 s on the 2-core machine).

    .venv/bin/python benchmarks/report_scale.py [--leads 1000000] [--html report.html]

Builds store-like frames in memory (what ``leadgate report --database`` reads): leads with
lifecycle dates, scores, grade, segment, persona, source, campaign, owner and account; one
stage-history row per stage change; outcomes for opportunities; sales feedback. Prints the
time to build the frames (not counted), the analytics time, and the HTML/JSON render time.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from leadgate.analytics.frames import FunnelData
from leadgate.services.reporting import ReportOptions, build_report

START = datetime(2025, 10, 1, tzinfo=UTC)
UTC_US = pl.Datetime("us", "UTC")
DAY_US = 86_400_000_000
STAGES = ("mql", "sal", "sql", "opportunity", "won")


def store_frames(n: int, seed: int = 7) -> FunnelData:
    rng = np.random.default_rng(seed)
    fit = rng.normal(50, 20, n).clip(0, 100).round(1)
    engagement = rng.gamma(2.0, 12.0, n).round(1)
    quality = (fit / 100 + engagement / 80) / 2
    created = (rng.uniform(0, 365, n) * DAY_US).astype(np.int64)
    # Each lead gets as far as its quality allows; stage gaps are a few days each.
    reach = np.zeros(n, dtype=np.int64)
    for depth, base in enumerate((0.45, 0.6, 0.55, 0.6, 0.35), start=1):
        reach += (rng.uniform(0, 1, n) < base * (0.5 + quality)) & (reach == depth - 1)
    dates: dict[str, np.ndarray] = {}
    moment = created.copy()
    for depth, stage in enumerate(STAGES, start=1):
        moment = moment + (rng.exponential(4.0, n) * DAY_US).astype(np.int64)
        dates[stage] = np.where(reach >= depth, moment, np.iinfo(np.int64).min)
    lost = (reach == 4) & (rng.uniform(0, 1, n) < 0.6)
    ids = np.arange(n)
    start_us = int(START.timestamp() * 1_000_000)

    def stamp(values: np.ndarray) -> pl.Series:
        series = pl.Series(values + start_us)
        return (
            series.set(series < start_us, None).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        )

    stage_now = np.array(["new", *STAGES])[reach]
    stage_now = np.where(lost, "lost", stage_now)
    pick = rng.integers
    leads = pl.DataFrame(
        {
            "lead_id": pl.Series(ids).cast(pl.String),
            "account_id": pl.Series(pick(0, n // 5, n)).cast(pl.String),
            "created_at": stamp(created),
            "stage": stage_now,
            **{f"became_{s}_at": stamp(dates[s]) for s in STAGES},
            "fit_score": fit,
            "engagement_score": engagement,
            "grade": np.array(["D", "C", "B", "A"])[np.digitize(fit, [35, 55, 75])],
            "segment": np.array(["enterprise", "mid_market", "smb"])[pick(0, 3, n)],
            "persona": np.array(["economic_buyer", "champion", "user", None])[pick(0, 4, n)],
            "source": np.array(["web", "ads", "events", "partner", "outbound"])[pick(0, 5, n)],
            "campaign": pl.Series(pick(0, 200, n)).cast(pl.String),
            "owner_id": pl.Series(pick(0, 60, n)).cast(pl.String),
            "title": np.where(rng.uniform(0, 1, n) < 0.8, "Head of Ops", None),
            "country": np.where(rng.uniform(0, 1, n) < 0.9, "US", None),
        }
    )
    history = pl.concat(
        [
            leads.filter(pl.col(f"became_{s}_at").is_not_null()).select(
                "lead_id",
                pl.lit(prev).alias("from_stage"),
                pl.lit(s).alias("to_stage"),
                pl.lit("auto" if s == "mql" else "accept").alias("action"),
                pl.lit(None, pl.String).alias("reason"),
                pl.col(f"became_{s}_at").alias("occurred_at"),
            )
            for prev, s in zip(("new", *STAGES[:-1]), STAGES, strict=True)
        ]
    )
    recycled = leads.filter((pl.col("stage") == "mql") & (pl.col("fit_score") < 40)).select(
        "lead_id",
        pl.lit("mql").alias("from_stage"),
        pl.lit("recycled").alias("to_stage"),
        pl.lit("recycle").alias("action"),
        pl.lit("no_budget").alias("reason"),
        (pl.col("became_mql_at") + pl.duration(hours=30)).alias("occurred_at"),
    )
    history = pl.concat([history, recycled])
    opps = leads.filter(pl.col("became_opportunity_at").is_not_null())
    outcomes = opps.select(
        pl.col("lead_id").alias("opportunity_id"),
        "lead_id",
        pl.col("became_opportunity_at").alias("opportunity_created_at"),
        (pl.col("fit_score") * 400).alias("amount"),
        pl.when(pl.col("became_won_at").is_not_null())
        .then(pl.lit(value=True))
        .when(pl.col("stage") == "lost")
        .then(pl.lit(value=False))
        .otherwise(None)
        .alias("won"),
        pl.coalesce("became_won_at", pl.col("became_opportunity_at") + pl.duration(days=30)).alias(
            "closed_at"
        ),
    )
    feedback = recycled.select(
        "lead_id", pl.lit("rejected").alias("verdict"), "reason",
        pl.col("occurred_at").alias("created_at"),
    )  # fmt: skip
    return FunnelData(
        leads=leads,
        stage_history=history,
        outcomes=outcomes,
        feedback=feedback,
        model_fields=("title", "country", "segment", "persona", "employees"),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--html", type=Path, default=None)
    args = parser.parse_args()
    t0 = time.perf_counter()
    data = store_frames(args.leads)
    built = time.perf_counter() - t0
    assert data.stage_history is not None
    assert data.outcomes is not None
    print(
        f"frames: {data.leads.height:,} leads, {data.stage_history.height:,} stage changes, "
        f"{data.outcomes.height:,} outcomes (built in {built:.1f} s, not counted)"
    )
    t1, cpu1 = time.perf_counter(), time.process_time()
    report = build_report(data, ReportOptions(capacity=20_000), now=datetime.now(UTC))
    analytics, cpu = time.perf_counter() - t1, time.process_time() - cpu1
    t2 = time.perf_counter()
    document = json.dumps(report.to_dict(), default=str)
    rendered = 0
    if args.html is not None:
        from leadgate.analytics.html import render_report

        page = render_report(report.to_dict())
        args.html.write_text(page, "utf-8")
        rendered = len(page)
    render = time.perf_counter() - t2
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"report analytics: {analytics:.1f} s wall, {cpu:.1f} s CPU (target < 30 s)")
    print(
        f"JSON {len(document) / 1e6:.1f} MB"
        + (f", HTML {rendered / 1e6:.1f} MB" if rendered else "")
        + f": {render:.1f} s"
    )
    print(f"total {analytics + render:.1f} s; peak RSS {peak:.2f} GiB")
    if report.validation is not None:
        print(f"ROC AUC of {report.validation.score}: {report.validation.roc_auc:.3f}")


if __name__ == "__main__":
    main()
