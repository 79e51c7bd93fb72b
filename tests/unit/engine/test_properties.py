"""Properties that must hold for any data: no look-ahead, ledger = scores, decay is monotone."""

from __future__ import annotations

import itertools
from datetime import timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.engine import score
from leadgate.engine.engagement import decay_factor
from leadgate.model.compiled import Decay
from testkit import AS_OF, make_accounts, make_leads

ACCOUNTS = make_accounts([{"account_id": 1, "industry": "Software", "employees": 2000}])
LEADS = make_leads(
    [
        {
            "lead_id": i,
            "account_id": 1 if i % 2 else None,
            "email": f"p{i}@acme.com",
            "title": "VP Sales" if i % 3 == 0 else "Analyst",
            "phone": "+1",
        }
        for i in range(1, 6)
    ]
)
EVENT_TYPES = ["page_view", "form_submit", "email_open", "unsubscribe", "product_login"]
URLS = ["/pricing", "/blog/a", "/PRICING/team", None]

events_strategy = st.lists(
    st.tuples(
        st.integers(1, 5),
        st.sampled_from(EVENT_TYPES),
        st.integers(-3 * 24 * 60, 60 * 24 * 60),  # minutes before as_of (negative: after)
        st.sampled_from(URLS),
    ),
    max_size=60,
)


def frame(rows: list[tuple[int, str, int, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": list(range(len(rows))),
            "lead_id": [r[0] for r in rows],
            "event_type": [r[1] for r in rows],
            "occurred_at": [AS_OF - timedelta(minutes=r[2]) for r in rows],
            "url": [r[3] for r in rows],
        },
        schema={
            "event_id": pl.Int64,
            "lead_id": pl.Int64,
            "event_type": pl.String,
            "occurred_at": pl.Datetime("us", "UTC"),
            "url": pl.String,
        },
    )


SCORES = ["fit_score", "engagement_score", "product_score", "stage", "grade", "temperature"]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(past=events_strategy, future=events_strategy)
def test_events_after_as_of_never_change_a_score(small_model, past, future):
    past = [r for r in past if r[2] >= 0]
    future = [(lead, kind, -abs(m) - 1, url) for lead, kind, m, url in future]
    without = score(LEADS, ACCOUNTS, frame(past), small_model, as_of=AS_OF)
    with_future = score(LEADS, ACCOUNTS, frame(past + future), small_model, as_of=AS_OF)
    assert without.leads.select(SCORES).equals(with_future.leads.select(SCORES))
    assert without.ledger.sort(["lead_id", "rule_id"]).equals(
        with_future.ledger.sort(["lead_id", "rule_id"])
    )


@FAST
@given(rows=events_strategy)
def test_ledger_sums_equal_scores(small_model, rows):
    result = score(LEADS, ACCOUNTS, frame(rows), small_model, as_of=AS_OF)
    sums = result.ledger.group_by("lead_id", "rule_kind").agg(pl.col("points").sum().round(2))
    wide = sums.pivot(on="rule_kind", index="lead_id", values="points")
    joined = result.leads.join(wide, on="lead_id", how="left")
    for kind in ("fit", "engagement", "product"):
        expected = joined[f"{kind}_score"].to_list()
        actual = joined[kind].fill_null(0.0).to_list() if kind in joined.columns else [0.0] * 5
        assert actual == expected, kind


@given(
    kind=st.sampled_from(["half_life", "linear"]),
    days=st.floats(0.5, 365),
    ages=st.lists(st.integers(0, 2000), min_size=2, max_size=30),
)
def test_decay_is_monotone_and_bounded(kind, days, ages):
    factor = decay_factor(Decay(kind, days), pl.col("age"))
    assert factor is not None
    out = pl.DataFrame({"age": sorted(ages)}).select(factor.alias("f"))["f"].to_list()
    assert all(0.0 <= f <= 1.0 for f in out)
    assert all(a >= b for a, b in itertools.pairwise(out))
    assert pl.DataFrame({"age": [0]}).select(factor.alias("f"))["f"].item() == 1.0


@settings(max_examples=25, deadline=None)
@given(rows=events_strategy, days=st.integers(1, 30))
def test_later_as_of_with_no_new_events_never_raises_engagement(small_model, rows, days):
    rows = [r for r in rows if r[2] >= 0 and r[1] != "unsubscribe"]
    now = score(LEADS, ACCOUNTS, frame(rows), small_model, as_of=AS_OF)
    later = score(LEADS, ACCOUNTS, frame(rows), small_model, as_of=AS_OF + timedelta(days=days))
    for a, b in zip(now.leads["engagement_score"], later.leads["engagement_score"], strict=True):
        assert b <= a + 1e-9
