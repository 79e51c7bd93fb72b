"""Render the report (its JSON document) as one self-contained HTML page.

Charts are plotly figures; plotly.js is embedded once (``include_plotlyjs=True`` on the first
chart), so the file opens without a network. Every string that goes into the page is escaped.
plotly is imported only when a report is rendered.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

RATE_WORDS: Final = (
    "rate",
    "share",
    "conversion",
    "completeness",
    "capture",
    "icp_match",
    "lead_to",
    "mql_to",
    "multi_threaded",
    "attainment",
    "observed",
    "mean_predicted",
    "change",
)
LEVEL_COLOURS: Final = {1: "#f8d7da", 2: "#fff3cd", 3: "#d1ecf1", 4: "#d4edda"}
MAX_ROWS: Final = 60
STYLE: Final = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;
max-width:1180px;color:#1f2933;background:#fff}
h1{font-size:1.8rem}h2{border-bottom:2px solid #e4e7eb;padding-bottom:.3rem;margin-top:2.4rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.86rem}
th,td{border:1px solid #d9dee3;padding:.25rem .55rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f5f7}
.note{color:#52606d;font-size:.85rem}.chart{margin:.5rem 0}
.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{border:1px solid #d9dee3;border-radius:8px;
padding:.6rem 1rem;min-width:150px}.kpi b{display:block;font-size:1.4rem}
"""


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute content."""
    return html.escape(str(value), quote=True)


def _is_rate(column: str) -> bool:
    return any(word in column for word in RATE_WORDS)


def cell(column: str, value: object) -> str:
    """Format one table value (rates as %, None as "no data")."""
    if value is None:
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if _is_rate(column):
            return f"{value * 100:.1f} %"
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def kpi_text(kpi: str, value: object) -> str:
    """A maturity KPI value: a lift as "2.10x", an AUC as 0.712, anything else as a %."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return cell(kpi, value)
    if "lift" in kpi:
        return f"{value:.2f}x"
    if "AUC" in kpi:
        return f"{value:.3f}"
    return f"{value * 100:.1f} %"


def table(rows: Sequence[Mapping[str, Any]], *, limit: int = MAX_ROWS) -> str:
    """An HTML table of JSON rows (all keys of the first row)."""
    if not rows:
        return '<p class="note">no data</p>'
    columns = list(rows[0].keys())
    head = "".join(f"<th>{esc(col)}</th>" for col in columns)
    body = []
    for row in rows[:limit]:
        tds = []
        for col in columns:
            value = row.get(col)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            klass = ' class="n"' if numeric else ""
            tds.append(f"<td{klass}>{esc(cell(col, value))}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    more = (
        f'<p class="note">… {len(rows) - limit:,} more rows in the JSON output</p>'
        if len(rows) > limit
        else ""
    )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _notes(section: Mapping[str, Any] | None) -> str:
    notes = (section or {}).get("notes") or []
    return "".join(f'<p class="note">{esc(n)}</p>' for n in notes)


class _Charts:
    """Turns plotly figures into HTML, embedding plotly.js with the first one only."""

    def __init__(self) -> None:
        import plotly.graph_objects as go

        self.go = go
        self.count = 0

    def html(self, figure: Any, title: str) -> str:
        figure.update_layout(
            title=title,
            height=380,
            margin={"l": 60, "r": 60, "t": 80, "b": 60},
            template="plotly_white",
            legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        )
        self.count += 1
        body: str = figure.to_html(
            full_html=False,
            include_plotlyjs=self.count == 1,
            div_id=f"chart-{self.count}",
            config={"displaylogo": False, "responsive": True},
        )
        return f'<div class="chart">{body}</div>'


def _column(rows: Iterable[Mapping[str, Any]], name: str) -> list[Any]:
    return [row.get(name) for row in rows]


def _funnel(doc: Mapping[str, Any], charts: _Charts) -> str:
    stages = doc["funnel"]["stages"]
    figure = charts.go.Figure(
        charts.go.Funnel(
            y=[str(s["stage"]).upper() + ("" if s.get("dated") else " (implied)") for s in stages],
            x=_column(stages, "leads"),
            textinfo="value+percent initial",
        )
    )
    pairs = list(doc["funnel"]["pairs"])
    return (
        "<h2>Funnel</h2>"
        + charts.html(figure, "Leads that got at least this far")
        + table(pairs)
        + '<p class="note">A stage counts leads that reached it or any later stage; '
        + "(implied) marks stages no lead has a date for.</p>"
    )


def _cohorts(doc: Mapping[str, Any], charts: _Charts) -> str:
    section = (
        doc.get("cohorts_by_month") or doc.get("cohorts_by_week") or doc.get("cohorts_by_quarter")
    )
    if not section or not section["rows"]:
        return ""
    rows = section["rows"]
    period = next(iter(rows[0]))
    x = [str(v) for v in _column(rows, period)]
    figure = charts.go.Figure()
    for name in ("leads", "mql", "won"):
        figure.add_bar(x=x, y=_column(rows, name), name=name)
    figure.add_scatter(
        x=x, y=_column(rows, "mql_to_won"), name="MQL → won", yaxis="y2", mode="lines+markers"
    )
    figure.update_layout(
        yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "tickformat": ".0%"}
    )
    return f"<h2>Cohorts by {esc(period)}</h2>" + charts.html(figure, "Cohorts") + table(rows)


def _velocity(doc: Mapping[str, Any], charts: _Charts) -> str:
    section = doc.get("velocity")
    if not section or not section["rows"]:
        return ""
    rows = section["rows"]
    x = [str(v) for v in _column(rows, "stage")]
    figure = charts.go.Figure()
    figure.add_bar(x=x, y=_column(rows, "median_days"), name="median days")
    figure.add_bar(x=x, y=_column(rows, "p90_days"), name="p90 days")
    return (
        "<h2>Velocity</h2>"
        + charts.html(figure, "Days in each stage (cycle = created → won)")
        + table(rows)
        + _notes(section)
    )


def _breakdowns(doc: Mapping[str, Any], charts: _Charts) -> str:
    parts = []
    for key, section in doc.items():
        if not key.startswith("by_") or not isinstance(section, Mapping):
            continue
        rows = sorted(section["rows"], key=lambda r: -(r.get("leads") or 0))[:20]
        if not rows:
            continue
        name = key.removeprefix("by_")
        rows = [{**r, name: "(missing)" if r.get(name) is None else r[name]} for r in rows]
        x = [str(v) for v in _column(rows, name)]
        figure = charts.go.Figure()
        figure.add_bar(x=x, y=_column(rows, "leads"), name="leads")
        figure.add_scatter(
            x=x, y=_column(rows, "lead_to_won"), name="lead → won", yaxis="y2", mode="markers"
        )
        figure.update_layout(
            yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "tickformat": ".1%"}
        )
        parts.append(
            f"<h3>By {esc(name)}</h3>" + charts.html(figure, f"Volume and win rate by {name}")
        )
        parts.append(table(rows))
    return "<h2>Breakdowns</h2>" + "".join(parts) if parts else ""


def _validation(doc: Mapping[str, Any], charts: _Charts) -> str:
    section = doc.get("validation")
    if not section:
        return ""
    auc, pr = section.get("roc_auc"), section.get("pr_auc")
    kpis = (
        '<div class="kpis">'
        f'<div class="kpi">ROC AUC<b>{esc("no data" if auc is None else f"{auc:.3f}")}</b></div>'
        f'<div class="kpi">PR AUC<b>{esc("no data" if pr is None else f"{pr:.3f}")}</b></div>'
        f'<div class="kpi">base rate<b>{esc(cell("rate", section.get("base_rate")))}</b></div>'
        "</div>"
    )
    deciles = section["deciles"]
    figure = charts.go.Figure()
    figure.add_bar(x=_column(deciles, "decile"), y=_column(deciles, "lift"), name="lift")
    out = (
        f"<h2>Validation of {esc(section['score'])} against {esc(section['label'])}</h2>"
        + kpis
        + charts.html(figure, "Lift by decile (1 = highest scores)")
        + table(deciles)
    )
    if section.get("by_grade"):
        out += "<h3>By grade</h3>" + table(section["by_grade"])
    if section.get("calibration"):
        cal = section["calibration"]
        fig = charts.go.Figure()
        fig.add_scatter(x=[0, 1], y=[0, 1], name="perfect", mode="lines", line={"dash": "dot"})
        fig.add_scatter(
            x=_column(cal, "mean_predicted"), y=_column(cal, "observed"), name="observed"
        )
        out += charts.html(fig, "Calibration") + table(cal)
    return out


def _thresholds(doc: Mapping[str, Any], charts: _Charts) -> str:
    section = doc.get("thresholds")
    if not section:
        return ""
    rows = section["rows"]
    x = _column(rows, "threshold")
    figure = charts.go.Figure()
    figure.add_scatter(x=x, y=_column(rows, "volume_per_month"), name="MQLs / month")
    figure.add_scatter(
        x=x, y=_column(rows, "expected_wins_per_month"), name="wins / month", yaxis="y2"
    )
    capacity = section.get("capacity_per_month")
    if capacity is not None:
        figure.add_hline(y=capacity, line_dash="dash", annotation_text="sales capacity")
    if section.get("recommended") is not None:
        figure.add_vline(x=section["recommended"], line_dash="dot", annotation_text="recommended")
    figure.update_layout(
        yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero"}, xaxis_title="threshold"
    )
    recommended = section.get("recommended")
    return (
        f"<h2>Threshold explorer ({esc(section['score'])})</h2>"
        + f"<p>Recommended threshold: <b>{esc('none' if recommended is None else recommended)}"
        + f"</b> — rule: {esc(section['rule'])}. Data span: {section['months']:.1f} months.</p>"
        + charts.html(figure, "What each MQL threshold would do")
        + table(rows)
    )


def _maturity(doc: Mapping[str, Any]) -> str:
    rows = doc["maturity"]["rows"]
    body = []
    for row in rows:
        level = int(row["level"])
        cells = "".join(
            f'<td style="background:{LEVEL_COLOURS[n]}">{"●" if n == level else ""}</td>'
            for n in range(1, 5)
        )
        value = row.get("value")
        body.append(
            f"<tr><td>{esc(row['capability'])}</td>{cells}"
            f"<td>{esc(row['kpi'])}: {esc(kpi_text(row['kpi'], value))}</td>"
            f"<td>{esc(row['next_step'])}</td></tr>"
        )
    head = "".join(f"<th>{esc(h)}</th>" for h in ("ad hoc", "defined", "managed", "modern"))
    return (
        "<h2>Maturity</h2><table><tr><th>capability</th>"
        + head
        + "<th>driven by</th><th>to move up</th></tr>"
        + "".join(body)
        + "</table>"
    )


def _backtest(doc: Mapping[str, Any], charts: _Charts) -> str:
    """H3's ``BacktestReport.to_dict()``: volume by month, then every part as tables."""
    section = doc.get("backtest")
    if not isinstance(section, Mapping) or not section:
        return ""
    out = "<h2>Backtest comparison</h2>"
    months = section.get("months")
    if isinstance(months, list) and months and isinstance(months[0], Mapping):
        figure = charts.go.Figure()
        x = [str(m.get("month")) for m in months]
        for key in ("new", "baseline"):
            if any(m.get(key) is not None for m in months):
                figure.add_bar(x=x, y=_column(months, key), name=f"{key} model: qualified")
        out += charts.html(figure, "Qualified leads per decision month")
    change = section.get("change")
    rest = dict(section)
    if isinstance(change, Mapping):
        rest["change"] = [{"metric": k, "change": v} for k, v in change.items()]
    return out + _generic(rest, depth=3)


def _generic(value: Any, *, depth: int) -> str:
    """Any JSON object as HTML: scalars in a key/value table, lists of objects as tables."""
    if isinstance(value, Mapping):
        scalars = {k: v for k, v in value.items() if not isinstance(v, Mapping | list)}
        out = table([scalars]) if scalars else ""
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                out += f"<h{min(depth, 4)}>{esc(key)}</h{min(depth, 4)}>"
                out += _generic(item, depth=depth + 1)
        return out
    if isinstance(value, list):
        if all(isinstance(item, Mapping) for item in value):
            flat = [
                {k: v if not isinstance(v, Mapping | list) else json_text(v) for k, v in i.items()}
                for i in value
            ]
            return table(flat)
        return f"<p>{esc(', '.join(map(str, value)))}</p>"
    return f"<p>{esc(value)}</p>"


def json_text(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


def render_report(doc: Mapping[str, Any]) -> str:
    """The whole page for a report's JSON document (``Report.to_dict()``)."""
    charts = _Charts()
    sections = [
        _funnel(doc, charts),
        _cohorts(doc, charts),
        _velocity(doc, charts),
    ]
    for key, title in (
        ("qualification_rate", "Lead qualification rate"),
        ("acceptance", "Sales acceptance"),
        ("rejection_reasons", "Rejection and recycle reasons"),
        ("qualified_vs_not", "Qualified versus not qualified"),
        ("pipeline", "Pipeline and revenue from qualified leads"),
        ("sla", "Speed-to-lead and SLA attainment"),
        ("data_quality", "Data quality"),
        ("field_completeness", "Completeness of the model's fields"),
    ):
        section = doc.get(key)
        if section:
            sections.append(f"<h2>{esc(title)}</h2>" + table(section["rows"]) + _notes(section))
    sections += [
        _breakdowns(doc, charts),
        _validation(doc, charts),
        _thresholds(doc, charts),
        _maturity(doc),
        _backtest(doc, charts),
    ]
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in doc.get("notes", []))
    title = esc(doc.get("title", "leadgate report"))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        f'<h1>{title}</h1><p class="note">{esc(doc.get("leads", 0))} leads · generated '
        f"{esc(doc.get('generated_at', ''))}</p>{notes}" + "".join(sections) + "</body></html>\n"
    )


__all__ = ["cell", "esc", "kpi_text", "render_report", "table"]
