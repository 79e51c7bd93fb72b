"""Per-lead decision moments: ``as_of`` given as a column of the leads frame."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from leadgate.engine import score
from leadgate.exceptions import InputDataError
from testkit import AS_OF, make_accounts, make_events, make_leads, ts

ACCOUNTS = make_accounts([{"account_id": 1, "industry": "Software", "employees": 2000}])
LEADS = make_leads(
    [
        {
            "lead_id": i,
            "account_id": 1 if i % 2 else None,
            "email": f"p{i}@acme.com",
            "title": "VP Sales" if i % 3 == 0 else "Director of Marketing",
            "phone": "+1",
        }
        for i in range(1, 6)
    ]
)
EVENT_TYPES = ["page_view", "form_submit", "email_open", "unsubscribe", "product_login"]
URLS = ["/pricing", "/blog/a", "/PRICING/team", None]
MINUTES = 24 * 60
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

events_strategy = st.lists(
    st.tuples(
        st.integers(1, 5),
        st.sampled_from(EVENT_TYPES),
        st.integers(-20 * MINUTES, 40 * MINUTES),  # minutes before AS_OF (negative: after)
        st.sampled_from(URLS),
    ),
    max_size=60,
)
# each lead's own moment, in minutes before AS_OF (negative: after it)
moments_strategy = st.lists(st.integers(-15 * MINUTES, 15 * MINUTES), min_size=5, max_size=5)


def events_frame(rows: list[tuple[int, str, int, str | None]]) -> pl.DataFrame:
    return make_events(
        [(lead, kind, AS_OF - timedelta(minutes=m), url) for lead, kind, m, url in rows]
    )


def with_moments(moments: list[datetime], leads: pl.DataFrame = LEADS) -> pl.DataFrame:
    return leads.with_columns(pl.Series("decided_at", moments, dtype=pl.Datetime("us", "UTC")))


def sorted_ledger(ledger: pl.DataFrame) -> pl.DataFrame:
    return ledger.sort(["lead_id", "rule_kind", "rule_id"])


def assert_same_ledger(left: pl.DataFrame, right: pl.DataFrame) -> None:
    # decay factors are ratios of float sums and may differ in the last bit when Polars
    # groups differently; points are rounded to cents and must agree exactly
    assert_frame_equal(sorted_ledger(left), sorted_ledger(right), check_exact=False, rel_tol=1e-12)
    assert sorted_ledger(left)["points"].equals(sorted_ledger(right)["points"])


@FAST
@given(rows=events_strategy, offsets=moments_strategy)
def test_per_lead_moments_equal_scoring_each_lead_alone(small_model, rows, offsets):
    moments = [AS_OF - timedelta(minutes=m) for m in offsets]
    leads = with_moments(moments)
    events = events_frame(rows)
    together = score(leads, ACCOUNTS, events, small_model, as_of="decided_at")
    alone = [
        score(
            leads.slice(i, 1),
            ACCOUNTS,
            events.filter(pl.col("lead_id") == i + 1),
            small_model,
            as_of=moment,
        )
        for i, moment in enumerate(moments)
    ]
    assert together.as_of == "decided_at"
    assert together.leads.equals(pl.concat([r.leads for r in alone]))
    assert_same_ledger(together.ledger, pl.concat([r.ledger for r in alone]))


@FAST
@given(rows=events_strategy, future=events_strategy, offsets=moments_strategy)
def test_events_after_a_leads_own_moment_never_change_it(small_model, rows, future, offsets):
    moments = [AS_OF - timedelta(minutes=m) for m in offsets]
    leads = with_moments(moments)
    past = [r for r in rows if AS_OF - timedelta(minutes=r[2]) <= moments[r[0] - 1]]
    later = [
        (lead, kind, offsets[lead - 1] - abs(m) - 1, url) for lead, kind, m, url in future
    ]  # strictly after the lead's own moment
    without = score(leads, ACCOUNTS, events_frame(past), small_model, as_of="decided_at")
    with_later = score(leads, ACCOUNTS, events_frame(past + later), small_model, as_of="decided_at")
    assert without.leads.equals(with_later.leads)
    assert without.accounts.equals(with_later.accounts)
    assert_same_ledger(without.ledger, with_later.ledger)


@FAST
@given(rows=events_strategy, offset=st.integers(-15 * MINUTES, 15 * MINUTES))
def test_one_shared_moment_equals_a_literal_as_of(small_model, rows, offset):
    moment = AS_OF - timedelta(minutes=offset)
    events = events_frame(rows)
    by_column = score(with_moments([moment] * 5), ACCOUNTS, events, small_model, as_of="decided_at")
    literal = score(LEADS, ACCOUNTS, events, small_model, as_of=moment)
    assert by_column.leads.equals(literal.leads)
    assert by_column.accounts.equals(literal.accounts)
    assert_same_ledger(by_column.ledger, literal.ledger)


def test_each_lead_sees_only_its_own_past(small_model):
    # lead 1 decided on the 21st: only the demo request of the 20th counts, at age 1;
    # lead 2 decided on the 31st: its demo request of the 30th counts at age 1 too
    events = make_events(
        [
            (1, "form_submit", ts(20), None),
            (1, "form_submit", ts(28), None),
            (2, "form_submit", ts(30), None),
        ]
    )
    leads = with_moments([ts(21, 12), ts(31, 12)], LEADS.head(2))
    out = score(leads, ACCOUNTS, events, small_model, as_of="decided_at")
    assert out.leads["engagement_score"].to_list() == [30.0, 30.0]
    assert out.leads["as_of"].to_list() == [ts(21, 12), ts(31, 12)]
    demo = out.ledger.filter(pl.col("rule_id") == "demo").sort("lead_id")
    assert demo["event_count"].to_list() == [1, 1]


def test_moments_in_another_time_zone_are_read_as_utc(small_model):
    leads = with_moments([AS_OF] * 5).with_columns(
        pl.col("decided_at").dt.convert_time_zone("Europe/Berlin")
    )
    out = score(leads, ACCOUNTS, None, small_model, as_of="decided_at")
    assert out.leads["as_of"].dtype == pl.Datetime("us", "UTC")
    assert out.leads["as_of"].to_list() == [AS_OF] * 5


@pytest.mark.parametrize(
    ("leads", "code", "words"),
    [
        (LEADS, "missing_as_of_column", "no column 'decided_at'"),
        (
            LEADS.with_columns(pl.lit("2026-03-01").alias("decided_at")),
            "bad_type",
            "not a timestamp",
        ),
        (
            LEADS.with_columns(pl.lit(datetime(2026, 3, 1)).alias("decided_at")),
            "naive_timestamp",
            "no time zone",
        ),
        (
            with_moments([AS_OF, None, AS_OF, None, AS_OF]),
            "null_as_of",
            "2 null as-of moment(s)",
        ),
        (pl.concat([with_moments([AS_OF] * 5)] * 2), "duplicate_lead_id", "not unique"),
    ],
)
def test_bad_moment_columns_are_refused_with_a_hint(small_model, leads, code, words):
    with pytest.raises(InputDataError) as info:
        score(leads, ACCOUNTS, None, small_model, as_of="decided_at")
    (problem,) = info.value.problems
    assert problem.code == code
    assert words in problem.message
    assert problem.hint


def test_a_close_column_name_is_suggested(small_model):
    leads = with_moments([AS_OF] * 5).rename({"decided_at": "decided_on"})
    with pytest.raises(InputDataError) as info:
        score(leads, ACCOUNTS, None, small_model, as_of="decided_at")
    assert "decided_on" in info.value.problems[0].hint
