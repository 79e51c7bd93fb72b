"""The HTML report renderer: self-contained, charts embedded, every string escaped."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from analyticskit import funnel_data
from leadgate.analytics.html import cell, kpi_text, render_report, table
from leadgate.services.reporting import ReportOptions, build_report


def test_cells_format_rates_and_missing_values() -> None:
    assert cell("lead_win_rate", 0.1234) == "12.3 %"
    assert cell("revenue", 1234.5) == "1,234.50"
    assert cell("sla_attainment", None) == "no data"
    assert cell("leads", 1200) == "1,200"


def test_tables_escape_text() -> None:
    html = table([{"source": "<script>alert(1)</script>", "leads": 1}])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_page_is_self_contained_and_escaped() -> None:
    leads = funnel_data().leads.with_columns(source=pl.lit('"><img src=x onerror=alert(1)>'))
    report = build_report(
        funnel_data(leads=leads),
        ReportOptions(capacity=2, title="Q1 <review>"),
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )
    page = render_report(report.to_dict())
    assert page.startswith("<!DOCTYPE html>")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<title>Q1 &lt;review&gt;</title>" in page
    assert page.count("plotly.js v") == 1  # the library is embedded once
    assert 'src="http' not in page
    for heading in ("Funnel", "Velocity", "Breakdowns", "Validation of fit_score",
                    "Threshold explorer", "Maturity"):  # fmt: skip
        assert f"<h2>{heading}" in page


def test_backtest_json_is_rendered_generically_and_escaped() -> None:
    doc = build_report(
        funnel_data(), ReportOptions(), now=datetime(2026, 3, 1, tzinfo=UTC)
    ).to_dict()
    doc["backtest"] = {
        "models": [{"name": "new<1>", "mql": 10}, {"name": "old", "mql": 12}],
        "window": {"from": "2026-01-01", "to": "2026-03-01"},
        "months": [{"month": "2026-01", "leads": 50, "new": 14, "baseline": 22}],
        "change": {"qualified": -0.3333},
    }
    page = render_report(doc)
    assert "<h2>Backtest comparison</h2>" in page
    assert "new&lt;1&gt;" in page
    assert "2026-03-01" in page
    assert "Qualified leads per decision month" in page
    assert '<td>qualified</td><td class="n">-33.3 %</td>' in page


def test_maturity_kpis_are_formatted_by_kind() -> None:
    assert kpi_text("win-rate lift of qualified over not-qualified leads", 2.1) == "2.10x"
    assert kpi_text("ROC AUC of the engagement score for wins", 0.7123) == "0.712"
    assert kpi_text("SLA attainment", 0.25) == "25.0 %"
    assert kpi_text("SLA attainment", None) == "no data"
