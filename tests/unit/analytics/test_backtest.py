"""The backtest comparison and the working-session selection on a 12-lead, two-model fixture.

Every expected figure below was computed by hand from the table in ``FIXTURE``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgate.analytics.backtest import (
    BacktestReport,
    DecisionRule,
    ModelDecisions,
    ModelRef,
    Window,
    compare_decisions,
    decision_moment_expr,
    format_interval,
    outcome_facts,
)
from leadgate.analytics.review import borderline, review_leads, threshold_tests

# lead: (new stage, new excluded, baseline stage, baseline excluded, decision day)
# days 1-31 are January 2026, 32+ February.
FIXTURE = {
    1: ("mql", False, "mql", False, 5),
    2: ("mql", False, "iql", False, 6),
    3: ("sql", False, "mql", False, 7),
    4: ("pql", False, "iql", False, 8),
    5: ("iql", False, "mql", False, 9),
    6: ("new", False, "mql", False, 10),
    7: ("mql", False, "mql", False, 35),
    8: ("disqualified", True, "mql", False, 36),
    9: ("iql", False, "mql", False, 37),
    10: ("mql", False, "new", False, 38),
    11: ("new", False, "mql", True, 39),  # stage says MQL, but excluded: not qualified
    12: ("iql", False, "mql", False, 40),
}
JAN1 = datetime(2026, 1, 1, tzinfo=UTC)
UTC_US = pl.Datetime("us", "UTC")


def decisions(role: str) -> ModelDecisions:
    offset = 0 if role == "new" else 2
    ids = list(FIXTURE)
    frame = pl.DataFrame(
        {
            "lead_id": ids,
            "stage": [FIXTURE[i][offset] for i in ids],
            "is_excluded": [FIXTURE[i][offset + 1] for i in ids],
        }
    )
    return ModelDecisions(ModelRef(role, f"m_{role}", f"m_{role}@v"), frame)  # type: ignore[arg-type]


MOMENTS = pl.DataFrame(
    {
        "lead_id": list(FIXTURE),
        "decided_at": [JAN1 + timedelta(days=FIXTURE[i][4] - 1) for i in FIXTURE],
    },
    schema={"lead_id": pl.Int64, "decided_at": UTC_US},
)
OUTCOMES = pl.DataFrame(
    {
        "lead_id": [1, 2, 3, 5, 6, 7, 7, 9, 11, 13],
        "opportunity_created_at": [JAN1] * 10,
        "amount": [10000.0, 5000, 8000, 4000, 20000, 3000, 7000, 2000, 6000, 99999],
        "won": [True, True, False, None, True, False, True, False, True, True],
    },
    schema_overrides={"opportunity_created_at": UTC_US},
)
HISTORY = pl.DataFrame(
    {
        "lead_id": [1, 2, 4, 7, 10, 12, 9],
        "to_stage": [
            "sal",
            "sal",
            "disqualified",
            "sal",
            "recycled",
            "disqualified",
            "disqualified",
        ],
        "action": ["accept", "accept", "disqualify", "accept", "recycle", "auto", "disqualify"],
        "reason": [None, None, "no_budget", None, "not_now", "excluded", "student"],
        "occurred_at": [JAN1 + timedelta(days=40)] * 7,
    },
    schema_overrides={"occurred_at": UTC_US},
)
WINDOW = Window(JAN1, datetime(2026, 2, 1, tzinfo=UTC))
RULE = DecisionRule("delay", timedelta(days=7))


@pytest.fixture(scope="module")
def result():
    return compare_decisions(
        decisions("new"),
        decisions("baseline"),
        MOMENTS,
        OUTCOMES,
        HISTORY,
        window=WINDOW,
        rule=RULE,
    )


def test_new_model_summary(result):
    s = result.report.summary("new")
    assert (s.leads, s.qualified, s.opportunities, s.won, s.lost) == (12, 6, 4, 3, 1)
    assert s.qualified_rate == pytest.approx(0.5)
    assert s.opportunity_rate == pytest.approx(4 / 6)
    assert s.win_rate == pytest.approx(0.5)
    assert s.revenue_captured == 22000.0  # 10000 + 5000 + 7000 (lead 7's lost 3000 not counted)
    assert s.pipeline_captured == 33000.0  # 10000 + 5000 + 8000 + 3000 + 7000
    assert (s.missed_wins, s.missed_revenue) == (2, 26000.0)  # leads 6 and 11
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(3 / 5)
    assert (s.accepted, s.rejected, s.recycled) == (3, 1, 1)
    assert s.acceptance_rate == pytest.approx(0.5)


def test_baseline_summary_ignores_excluded_and_automatic_moves(result):
    s = result.report.summary("baseline")
    assert (s.qualified, s.opportunities, s.won, s.lost) == (8, 6, 3, 2)
    assert s.win_rate == pytest.approx(3 / 8)
    assert s.revenue_captured == 37000.0
    assert s.pipeline_captured == 54000.0
    assert (s.missed_wins, s.missed_revenue) == (2, 11000.0)  # leads 2 and 11
    assert s.recall == pytest.approx(3 / 5)
    # lead 12's automatic move to disqualified is not a sales rejection
    assert (s.accepted, s.rejected, s.recycled) == (2, 1, 0)


def test_comparison_cells(result):
    cells = {cell.cell: cell for cell in result.report.cells}
    assert [c.cell for c in result.report.cells] == ["both", "only_new", "only_baseline", "neither"]
    got = {
        name: (
            c.leads,
            c.opportunities,
            c.won,
            c.lost,
            c.revenue,
            c.accepted,
            c.rejected,
            c.recycled,
        )
        for name, c in cells.items()
    }
    assert got == {
        "both": (3, 3, 2, 1, 17000.0, 2, 0, 0),
        "only_new": (3, 1, 1, 0, 5000.0, 1, 1, 1),
        "only_baseline": (5, 3, 1, 1, 20000.0, 0, 1, 0),
        "neither": (1, 1, 1, 0, 6000.0, 0, 0, 0),
    }
    assert result.report.disagreements == 8
    reasons = dict(zip(result.leads["lead_id"], result.leads["sales_reason"], strict=True))
    assert (reasons[4], reasons[9], reasons[10], reasons[12]) == (
        "no_budget",
        "student",
        "not_now",
        None,  # an automatic move's reason is not a sales verdict
    )
    assert sorted(result.disagreements()["lead_id"].to_list()) == [2, 4, 5, 6, 8, 9, 10, 12]


def test_relative_change_is_the_revenue_council_summary(result):
    ch = result.report.change
    assert ch.qualified == pytest.approx(-0.25)  # "cut MQL volume 25%"
    assert ch.opportunities == pytest.approx(4 / 6 - 1)
    assert ch.opportunity_rate == pytest.approx((4 / 6) / (6 / 8) - 1)
    assert ch.won == pytest.approx(0.0)
    assert ch.win_rate == pytest.approx(0.5 / 0.375 - 1)
    assert ch.revenue_captured == pytest.approx(22000 / 37000 - 1)


def test_volume_by_decision_month(result):
    months = [(m.month, m.leads, m.new, m.baseline) for m in result.report.months]
    assert months == [("2026-01", 6, 4, 4), ("2026-02", 6, 2, 4)]


def test_report_round_trips_through_json(result):
    data = json.loads(json.dumps(result.report.to_dict()))
    assert data["models"][0] == {"role": "new", "name": "m_new", "version": "m_new@v"}
    assert data["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
    assert data["decision_rule"]["label"] == "creation + 7d"
    assert BacktestReport.from_dict(data) == result.report


def test_without_baseline_or_history():
    only = compare_decisions(
        decisions("new"), None, MOMENTS, OUTCOMES, None, window=WINDOW, rule=RULE
    )
    report = only.report
    assert [s.role for s in report.summaries] == ["new"]
    assert report.cells == ()
    assert report.change is None
    assert report.summary("new").accepted is None
    assert report.months[0].baseline is None
    assert only.disagreements().height == 0


def test_outcome_facts_without_outcomes_is_empty():
    assert outcome_facts(None, pl.Int64()).collect().height == 0


def test_no_outcomes_gives_zero_conversion():
    report = compare_decisions(
        decisions("new"), None, MOMENTS, None, None, window=WINDOW, rule=RULE
    ).report
    s = report.summary("new")
    assert (s.opportunities, s.won, s.revenue_captured) == (0, 0, 0.0)
    assert s.recall is None


def moments(rule: DecisionRule, created: list[datetime]) -> list[datetime]:
    frame = pl.DataFrame({"created_at": created}, schema={"created_at": UTC_US})
    return frame.select(decision_moment_expr(rule))["decided_at"].to_list()


def test_decision_moment_delay_and_cadence():
    t = datetime(2026, 1, 3, 15, 30, tzinfo=UTC)
    assert moments(RULE, [t]) == [t + timedelta(days=7)]
    weekly = DecisionRule("cadence", timedelta(weeks=1), anchor=JAN1)
    created = [
        JAN1,
        JAN1 + timedelta(seconds=1),
        datetime(2026, 1, 8, tzinfo=UTC),
        datetime(2026, 1, 20, 23, 59, tzinfo=UTC),
    ]
    assert moments(weekly, created) == [
        JAN1,
        datetime(2026, 1, 8, tzinfo=UTC),
        datetime(2026, 1, 8, tzinfo=UTC),
        datetime(2026, 1, 22, tzinfo=UTC),
    ]
    assert weekly.label == "first 7d tick at or after creation"


def test_cadence_needs_an_anchor():
    with pytest.raises(ValueError, match="anchor"):
        decision_moment_expr(DecisionRule("cadence", timedelta(days=1)))


def test_format_interval():
    assert [
        format_interval(timedelta(**kw))
        for kw in ({"days": 7}, {"hours": 36}, {"minutes": 90}, {"seconds": 5})
    ] == ["7d", "36h", "90m", "5s"]


SCORES = pl.DataFrame(
    {
        "lead_id": [1, 2, 3, 4, 5, 6, 7],
        "segment": ["smb", "smb", "ent", "smb", "smb", "smb", "smb"],
        "is_excluded": [False, False, False, False, False, True, False],
        "fit_score": [27.0, 40.0, 22.0, 27.0, 60.0, 30.0, 25.0],
        "engagement_score": [25.0, 22.0, 50.0, 10.0, 60.0, 20.0, 15.0],
        "product_score": [0.0] * 7,
    }
)


def test_threshold_tests_of_the_small_model(small_model):
    found = [(t.stage, t.field, t.op, t.threshold) for t in threshold_tests(small_model)]
    # pql compares product_score with a literal 15, not a threshold
    assert found == [
        ("mql", "fit_score", "gte", "mql_fit"),
        ("mql", "engagement_score", "gte", "mql_eng"),
    ]


def test_borderline_uses_segment_thresholds_and_the_margin(small_model):
    near = borderline(SCORES, small_model, margin=5.0)
    assert near.to_dicts() == [
        {
            "lead_id": 1,  # fit 3 short, engagement 5 over: both within 5
            "near_threshold": "mql: fit_score 27.0 vs 30.0, mql: engagement_score 25.0 vs 20.0",
            "threshold_distance": 3.0,
        },
        {
            "lead_id": 2,  # made MQL, engagement 2 over its threshold
            "near_threshold": "mql: engagement_score 22.0 vs 20.0",
            "threshold_distance": 2.0,
        },
        {
            "lead_id": 3,  # enterprise threshold is 20, not 30
            "near_threshold": "mql: fit_score 22.0 vs 20.0",
            "threshold_distance": 2.0,
        },
        {
            "lead_id": 7,  # 5 short on both: the margin is inclusive
            "near_threshold": "mql: fit_score 25.0 vs 30.0, mql: engagement_score 15.0 vs 20.0",
            "threshold_distance": 5.0,
        },
    ]
    # lead 4 is 10 points short on engagement, 5 far from both, 6 excluded
    assert borderline(SCORES, small_model, margin=1.0).height == 0


def test_review_leads_reasons(result):
    near = pl.DataFrame(
        {"lead_id": [2, 3], "near_threshold": ["x", "y"], "threshold_distance": [1.0, 2.0]}
    )
    picked = review_leads(result.leads, near)
    assert dict(zip(picked["lead_id"], picked["review_reason"], strict=True)) == {
        2: "borderline",
        3: "borderline; qualified_but_lost",
        4: "qualified_but_rejected",
        6: "not_qualified_but_won",
        11: "not_qualified_but_won",
    }


STAGES = ["new", "iql", "mql", "pql", "sql", "disqualified"]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(STAGES),
            st.sampled_from(STAGES),
            st.sampled_from([None, True, False]),  # no opportunity / won / lost
            st.integers(0, 50_000),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_figures_always_add_up(rows):
    ids = list(range(1, len(rows) + 1))

    def model(role, column):
        frame = pl.DataFrame(
            {"lead_id": ids, "stage": [r[column] for r in rows], "is_excluded": [False] * len(ids)}
        )
        return ModelDecisions(ModelRef(role, role, role), frame)

    opps = [(i, r[2], float(r[3])) for i, r in zip(ids, rows, strict=True) if r[2] is not None]
    outcomes = pl.DataFrame(
        {
            "lead_id": [o[0] for o in opps],
            "won": [o[1] for o in opps],
            "amount": [o[2] for o in opps],
        },
        schema={"lead_id": pl.Int64, "won": pl.Boolean, "amount": pl.Float64},
    )
    moments = pl.DataFrame(
        {"lead_id": ids, "decided_at": [JAN1] * len(ids)},
        schema={"lead_id": pl.Int64, "decided_at": UTC_US},
    )
    report = compare_decisions(
        model("new", 0), model("baseline", 1), moments, outcomes, None, window=WINDOW, rule=RULE
    ).report
    cells = {c.cell: c for c in report.cells}
    wins = sum(1 for o in opps if o[1])
    revenue = sum(o[2] for o in opps if o[1])
    assert sum(c.leads for c in report.cells) == len(rows)
    assert sum(c.won for c in report.cells) == wins
    for role, mine, theirs in (
        ("new", "only_new", "only_baseline"),
        ("baseline", "only_baseline", "only_new"),
    ):
        s = report.summary(role)
        assert s.qualified == cells["both"].leads + cells[mine].leads
        assert s.won == cells["both"].won + cells[mine].won
        assert s.won + s.missed_wins == wins
        assert s.revenue_captured + s.missed_revenue == pytest.approx(revenue)
        assert s.missed_wins == cells["neither"].won + cells[theirs].won
    assert report.disagreements == cells["only_new"].leads + cells["only_baseline"].leads
    assert sum(m.new for m in report.months) == report.summary("new").qualified
