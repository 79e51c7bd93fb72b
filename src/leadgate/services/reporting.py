"""The revenue report: every funnel metric, validation, thresholds and maturity in one run,
rendered as JSON, terminal tables or one self-contained HTML file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import polars as pl

from leadgate.analytics.acceptance import AcceptanceQuery, RejectionReasonsQuery, SlaQuery
from leadgate.analytics.frames import FunnelData, TableResult
from leadgate.analytics.funnel import (
    BreakdownQuery,
    CohortQuery,
    FunnelQuery,
    FunnelResult,
    QualificationRateQuery,
)
from leadgate.analytics.maturity import MaturityResult, assess, measure
from leadgate.analytics.outcomes import PipelineQuery, QualifiedVsNotQuery
from leadgate.analytics.quality import DataQualityQuery, FieldCompletenessQuery
from leadgate.analytics.thresholds import ThresholdQuery, ThresholdResult
from leadgate.analytics.validation import ValidationQuery, ValidationResult
from leadgate.analytics.velocity import VelocityQuery
from leadgate.exceptions import UsageError
from leadgate.model import columns as c

BREAKDOWNS: Final = (c.SEGMENT, c.PERSONA, c.SOURCE, "campaign", "owner_id")
SCORE_CANDIDATES: Final = (c.FIT_SCORE, "predicted_probability", "score", c.ENGAGEMENT_SCORE)


@dataclass(frozen=True)
class ReportOptions:
    """What the report covers.

    Attributes:
        score: Score column to validate (default: the first of ``SCORE_CANDIDATES`` present).
        capacity: Leads a month sales can work (threshold explorer).
        breakdowns: Columns to break metrics down by (those absent are left out).
        period: Cohort period.
        sla_hours: The MQL response SLA.
        backtest: A backtest report JSON (``leadgate backtest --json``) to include.
        title: The report's heading.
    """

    score: str | None = None
    capacity: float | None = None
    breakdowns: tuple[str, ...] = BREAKDOWNS
    period: str = "month"
    sla_hours: float = 4.0
    backtest: Path | None = None
    title: str = "leadgate revenue report"


@dataclass(frozen=True)
class Report:
    """Every section of the report, each a typed query result."""

    title: str
    generated_at: datetime
    leads: int
    funnel: FunnelResult
    cohorts: TableResult
    velocity: TableResult
    qualification: TableResult
    acceptance: TableResult
    rejection_reasons: TableResult
    qualified_vs_not: TableResult
    pipeline: TableResult
    sla: TableResult
    data_quality: TableResult
    field_completeness: TableResult
    maturity: MaturityResult
    breakdowns: tuple[TableResult, ...] = ()
    validation: ValidationResult | None = None
    thresholds: ThresholdResult | None = None
    backtest: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default=())

    def tables(self) -> list[TableResult]:
        """The plain-table sections in report order (for the terminal)."""
        return [
            self.qualification,
            self.acceptance,
            self.rejection_reasons,
            self.velocity,
            self.qualified_vs_not,
            self.pipeline,
            self.sla,
            self.data_quality,
            self.field_completeness,
            self.cohorts,
            *self.breakdowns,
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "generated_at": self.generated_at.isoformat(),
            "leads": self.leads,
            "notes": list(self.notes),
            "funnel": self.funnel.to_dict(),
            **{t.metric: t.to_dict() for t in self.tables()},
            "validation": None if self.validation is None else self.validation.to_dict(),
            "thresholds": None if self.thresholds is None else self.thresholds.to_dict(),
            "maturity": self.maturity.to_dict(),
            "backtest": self.backtest,
        }


def _score_column(data: FunnelData, wanted: str | None) -> str | None:
    columns = data.facts.columns
    if wanted is not None:
        if wanted not in columns:
            raise UsageError(
                f"The leads have no score column {wanted!r}.",
                hint=f"use one of {', '.join(n for n in SCORE_CANDIDATES if n in columns)}",
            )
        return wanted
    return next(
        (
            n
            for n in SCORE_CANDIDATES
            if n in columns and data.facts[n].null_count() < len(data.facts)
        ),
        None,
    )


def load_backtest(path: Path) -> dict[str, Any]:
    """Read a backtest report JSON, refusing anything that is not a JSON object."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"Cannot read the backtest report {path}: {exc}.",
            hint="write one with `leadgate backtest ... --json FILE`",
        ) from exc
    if not isinstance(document, dict):
        raise UsageError(f"{path} is not a backtest report (a JSON object).", hint="")
    return document


def build_report(data: FunnelData, options: ReportOptions, *, now: datetime) -> Report:
    """Run every query of the report on ``data``."""
    score = _score_column(data, options.score)
    by = tuple(name for name in options.breakdowns if name in data.facts.columns or name == "month")
    notes: list[str] = []
    if score is None:
        notes.append("No score column: validation and the threshold explorer are left out.")
    has_created = c.CREATED_AT in data.facts.columns
    period = options.period if options.period in ("week", "month", "quarter") else "month"
    qualified_vs_not = QualifiedVsNotQuery().run(data)
    completeness = FieldCompletenessQuery().run(data)
    quality = DataQualityQuery().run(data)
    sla = SlaQuery(sla_hours=options.sla_hours).run(data)
    validation = None if score is None else ValidationQuery(score=score).run(data)
    kpis = measure(
        data,
        qualified_vs_not=qualified_vs_not.table,
        completeness=completeness.table,
        quality=quality.table,
        sla=sla.table,
        score_auc=None if validation is None else validation.roc_auc,
    )
    return Report(
        title=options.title,
        generated_at=now,
        leads=data.facts.height,
        funnel=FunnelQuery().run(data),
        cohorts=CohortQuery(period=period).run(data)  # type: ignore[arg-type]
        if has_created
        else TableResult("cohorts", pl.DataFrame(), ("no created_at column",)),
        velocity=VelocityQuery().run(data)
        if has_created
        else TableResult("velocity", pl.DataFrame(), ("no created_at column",)),
        qualification=QualificationRateQuery().run(data),
        acceptance=AcceptanceQuery().run(data),
        rejection_reasons=RejectionReasonsQuery().run(data),
        qualified_vs_not=qualified_vs_not,
        pipeline=PipelineQuery().run(data),
        sla=sla,
        data_quality=quality,
        field_completeness=completeness,
        maturity=assess(kpis),
        breakdowns=tuple(BreakdownQuery(by=(name,)).run(data) for name in by),
        validation=validation,
        thresholds=None
        if score is None
        else ThresholdQuery(score=score, capacity=options.capacity).run(data),
        backtest=None if options.backtest is None else load_backtest(options.backtest),
        notes=tuple(notes),
    )


def write_json(report: Report, path: Path) -> Path:
    """Write the report as JSON for machines."""
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", "utf-8")
    return path


def write_html(report: Report, path: Path) -> Path:
    """Write the report as one self-contained HTML file (plotly.js embedded)."""
    from leadgate.analytics.html import render_report

    path.write_text(render_report(report.to_dict()), "utf-8")
    return path


__all__ = [
    "BREAKDOWNS",
    "Report",
    "ReportOptions",
    "build_report",
    "load_backtest",
    "write_html",
    "write_json",
]
