"""Backtesting through the engine: decision moments, no look-ahead, discovery answers, review.

Scenario (the small test model; every lead but 4 fits, so MQL = engagement >= threshold):
lead 1 requests a demo (+30, 7-day window) the day after creation; lead 2 requests one 10
days after creation, after its decision; lead 3 views pricing twice (+10 each, 10-day
half-life: 13.67 points a week after creation); lead 4 is a competitor; lead 5 was created
before the window; lead 6 has no events but full BANT answers. The new model needs 20
engagement points, the baseline 10.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.analytics.backtest import DecisionRule, Window
from leadgate.exceptions import InputDataError, UsageError
from leadgate.services.backtesting import (
    BacktestData,
    BacktestRequest,
    review_frames,
    run_backtest,
    write_review,
)
from testkit import SMALL_MODEL, make_accounts, make_events, make_leads, ts

ACCOUNTS = make_accounts(
    [{"account_id": 1, "industry": "Software", "employees": 2000, "revenue": 5e6}]
)
BANT = {"budget": True, "authority": True, "need": 4, "timeline": "Q2", "phone": "+1 415"}
LEADS = make_leads(
    [
        {"lead_id": 1, "account_id": 1, "email": "ann@acme.com", "title": "VP Sales"},
        {"lead_id": 2, "account_id": 1, "email": "bob@acme.com", "title": "Director"},
        {"lead_id": 3, "account_id": 1, "email": "cy@acme.com", "title": "Analyst"},
        {"lead_id": 4, "account_id": 1, "email": "x@rival.com", "title": "VP Sales"},
        {"lead_id": 5, "account_id": 1, "email": "eve@acme.com", "title": "VP Sales"},
        {"lead_id": 6, "account_id": 1, "email": "fay@acme.com", "title": "CFO", **BANT},
    ]
).with_columns(
    pl.Series(
        "created_at",
        [ts(2), ts(2), ts(3), ts(4), datetime(2026, 2, 20, 9, tzinfo=UTC), ts(5)],
        dtype=pl.Datetime("us", "UTC"),
    ),
    pl.Series("company", ["Acme"] * 6),
)
EVENTS = make_events(
    [
        (1, "form_submit", ts(3), None),
        (2, "form_submit", ts(12), None),
        (3, "page_view", ts(4), "/pricing"),
        (3, "page_view", ts(5), "/pricing"),
        (4, "form_submit", ts(5), None),
        (5, "form_submit", ts(1), None),
    ]
)
OUTCOMES = pl.DataFrame(
    {
        "lead_id": [1, 2, 3],
        "amount": [10000.0, 5000.0, 8000.0],
        "won": [True, True, False],
    }
)
DATA = BacktestData(LEADS, EVENTS, OUTCOMES, ACCOUNTS)
WINDOW = Window(ts(1, 0), ts(10, 0))
WEEK = DecisionRule("delay", timedelta(days=7))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    new, old = folder / "new.yaml", folder / "old.yaml"
    new.write_text(SMALL_MODEL)
    old.write_text(SMALL_MODEL.replace("mql_eng: 20}", "mql_eng: 10}"))
    return new, old


def request(models, rule=WEEK, **kw):
    return BacktestRequest(model=models[0], baseline=models[1], window=WINDOW, rule=rule, **kw)


def stages(run, role="new"):
    frame = run.scores[role]
    return dict(zip(frame["lead_id"], frame["stage"], strict=True))


def test_each_lead_is_scored_as_of_its_decision(models):
    run = run_backtest(DATA, request(models))
    assert sorted(run.leads["lead_id"]) == [1, 2, 3, 4, 6]  # lead 5 is before the window
    assert stages(run) == {1: "mql", 2: "new", 3: "iql", 4: "disqualified", 6: "new"}
    assert stages(run, "baseline") == {
        1: "mql",
        2: "new",
        3: "mql",
        4: "disqualified",
        6: "new",
    }
    scores = run.scores["new"]
    engagement = dict(zip(scores["lead_id"], scores["engagement_score"], strict=True))
    # pricing views at ages 6 and 5 days: 10 * 0.5 ** 0.6 + 10 * 0.5 ** 0.5
    assert engagement[3] == pytest.approx(13.67, abs=0.01)
    assert engagement[2] == 0.0  # its demo request came after its decision
    # the last event is lead 2's demo request on 12 March: later decisions are flagged
    assert run.judged_after_data == 0
    late = run_backtest(DATA, request(models, DecisionRule("delay", timedelta(days=9))))
    # lead 3 is judged at 12 March 09:00, the last event's very moment: not after it
    assert late.judged_after_data == 2  # leads 4 and 6 (13 and 14 March)


def test_report_figures(models):
    report = run_backtest(DATA, request(models)).result.report
    new, base = report.summary("new"), report.summary("baseline")
    assert (new.qualified, new.won, new.revenue_captured) == (1, 1, 10000.0)
    assert (new.missed_wins, new.missed_revenue) == (1, 5000.0)
    assert (base.qualified, base.opportunities, base.won, base.lost) == (2, 2, 1, 1)
    cells = {c.cell: c.leads for c in report.cells}
    assert cells == {"both": 1, "only_new": 0, "only_baseline": 1, "neither": 3}
    assert report.change.qualified == pytest.approx(-0.5)
    assert report.models[0].version != report.models[1].version


def test_decision_moment_includes_an_event_at_that_very_moment(models):
    one_day = DecisionRule("delay", timedelta(days=1))  # lead 1: decided at its demo request
    assert stages(run_backtest(DATA, request(models, one_day)))[1] == "mql"
    earlier = DecisionRule("delay", timedelta(days=1) - timedelta(microseconds=1))
    assert stages(run_backtest(DATA, request(models, earlier)))[1] == "new"


def test_cadence_decides_at_the_next_tick(models):
    # ticks every 5 days from 1 March 00:00: leads 1-3 are judged on 6 March 00:00, lead 6
    # on 6 March too; lead 3's second pricing view (5 March 09:00) counts
    rule = DecisionRule("cadence", timedelta(days=5), anchor=WINDOW.start)
    run = run_backtest(DATA, request(models, rule))
    moments = dict(zip(run.leads["lead_id"], run.leads["decided_at"], strict=True))
    assert set(moments.values()) == {datetime(2026, 3, 6, tzinfo=UTC)}
    assert stages(run)[1] == "mql"


def test_discovery_answers_are_blanked_unless_kept(models):
    run = run_backtest(DATA, request(models))
    assert stages(run)[6] == "new"
    assert "budget" in run.discovery_fields
    kept = run_backtest(DATA, request(models, keep_discovery=True))
    assert stages(kept)[6] == "sql"
    assert kept.discovery_fields == ()


def test_missing_created_at_and_empty_window_are_clear_errors(models):
    with pytest.raises(InputDataError, match="created_at"):
        run_backtest(BacktestData(LEADS.drop("created_at"), EVENTS, OUTCOMES), request(models))
    empty = BacktestRequest(
        model=models[0], window=Window(ts(20), ts(21)), rule=WEEK, baseline=None
    )
    with pytest.raises(UsageError, match="No lead was created"):
        run_backtest(DATA, empty)


def test_naive_creation_times_are_utc_and_text_is_refused(models):
    naive = LEADS.with_columns(pl.col("created_at").dt.replace_time_zone(None))
    run = run_backtest(BacktestData(naive, EVENTS, OUTCOMES, ACCOUNTS), request(models))
    assert stages(run) == stages(run_backtest(DATA, request(models)))
    text = LEADS.with_columns(pl.col("created_at").dt.to_string("%Y-%m-%d"))
    with pytest.raises(InputDataError, match="not a date/time"):
        run_backtest(BacktestData(text, EVENTS, OUTCOMES, ACCOUNTS), request(models))


def test_review_frames(models, tmp_path):
    run = run_backtest(DATA, request(models))
    rows, ledger, near = review_frames(run, margin=7.0)
    reasons = dict(zip(rows["lead_id"], rows["review_reason"], strict=True))
    # lead 3: 6.33 short of 20 engagement points; lead 2 won without qualifying
    assert reasons == {2: "not_qualified_but_won", 3: "borderline"}
    assert near == 1
    assert "email" not in rows.columns
    assert rows.filter(pl.col("lead_id") == 3)["company"].to_list() == ["Acme"]
    assert set(ledger["lead_id"]) == {2, 3}
    pricing = ledger.filter((pl.col("lead_id") == 3) & (pl.col("rule_id") == "pricing"))
    assert pricing["event_count"].to_list() == [2]
    assert pricing["points"].to_list() == [pytest.approx(13.67, abs=0.01)]
    exported = write_review(run, tmp_path / "review.csv", margin=7.0)
    assert exported.ledger == tmp_path / "review.ledger.csv"
    assert exported.rows == 2
    assert exported.ledger.read_text().startswith("lead_id,rule_kind,rule_id")


FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MINUTES = 24 * 60


@FAST
@given(
    past=st.lists(
        st.tuples(
            st.sampled_from([1, 2, 3, 6]),
            st.sampled_from(["page_view", "form_submit", "email_open", "product_login"]),
            st.integers(0, 9 * MINUTES),
        ),
        max_size=25,
    ),
    later=st.lists(st.integers(0, 30 * MINUTES), min_size=4, max_size=4),
    delay_hours=st.integers(0, 200),
)
def test_no_event_after_the_decision_is_ever_used(models, past, later, delay_hours):
    """Huge events just after each lead's decision moment change nothing at all."""
    rule = DecisionRule("delay", timedelta(hours=delay_hours))
    created = dict(zip(LEADS["lead_id"], LEADS["created_at"], strict=True))
    base_events = make_events(
        [(lead, kind, created[lead] + timedelta(minutes=m), "/pricing") for lead, kind, m in past]
    )
    before = run_backtest(
        BacktestData(LEADS, base_events, OUTCOMES, ACCOUNTS), request(models, rule)
    )
    decided = dict(zip(before.leads["lead_id"], before.leads["decided_at"], strict=True))
    noise = [
        (lead, kind, decided[lead] + timedelta(microseconds=1, minutes=m), "/pricing")
        for lead, m in zip([1, 2, 3, 6], later, strict=True)
        for kind in ("form_submit", "page_view", "product_login", "unsubscribe")
        for _ in range(3)
    ]
    rows = [
        (r["lead_id"], r["event_type"], r["occurred_at"], r["url"]) for r in base_events.to_dicts()
    ]
    noisy = make_events(rows + noise)
    after = run_backtest(BacktestData(LEADS, noisy, OUTCOMES, ACCOUNTS), request(models, rule))
    for role in ("new", "baseline"):
        assert after.scores[role].equals(before.scores[role])
    assert after.result.report == before.result.report
