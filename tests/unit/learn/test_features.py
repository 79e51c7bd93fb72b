from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from leadgate.learn import DECISION_AT
from leadgate.learn.features import (
    COMPLETENESS,
    calendar_features,
    candidate_features,
    engagement_feature_names,
    engagement_features,
    event_types_of,
    with_completeness,
)

T0 = datetime(2026, 3, 10, tzinfo=UTC)


def moments() -> pl.DataFrame:
    return pl.DataFrame({"lead_id": [1, 2, 3], DECISION_AT: [T0, T0 + timedelta(days=5), T0]})


def events(rows: list[tuple[int, str, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "event_type": [r[1] for r in rows],
            "occurred_at": [r[2] for r in rows],
        },
        schema={
            "lead_id": pl.Int64,
            "event_type": pl.String,
            "occurred_at": pl.Datetime("us", "UTC"),
        },
    )


BEFORE = [
    (1, "demo", T0 - timedelta(days=2)),
    (1, "visit", T0 - timedelta(days=20)),
    (1, "visit", T0 - timedelta(days=60)),
    (2, "visit", T0 + timedelta(days=4)),  # before lead 2's own moment (T0 + 5 d)
]


def test_counts_by_type_and_window_and_recency_by_hand() -> None:
    out = engagement_features(moments(), events(BEFORE), ("demo", "visit"))
    row = out.row(0, named=True)
    assert (row["events_7d"], row["events_30d"], row["events_90d"]) == (1, 2, 3)
    assert (row["demo_7d"], row["visit_7d"], row["visit_30d"], row["visit_90d"]) == (0 + 1, 0, 1, 2)
    assert row["days_since_last_event"] == pytest.approx(2)
    assert row["days_since_first_event"] == pytest.approx(60)
    lead2 = out.row(1, named=True)
    assert lead2["visit_7d"] == 1
    assert lead2["days_since_last_event"] == pytest.approx(1)
    lead3 = out.row(2, named=True)
    assert lead3["events_90d"] == 0
    assert lead3["days_since_last_event"] is None


def test_no_event_at_or_after_the_decision_moment_enters_a_feature() -> None:
    clean = engagement_features(moments(), events(BEFORE), ("demo", "visit"))
    late = [
        (1, "demo", T0),  # exactly at the moment: not before it
        (1, "demo", T0 + timedelta(minutes=1)),
        (1, "visit", T0 + timedelta(days=3)),
        (2, "demo", T0 + timedelta(days=5, seconds=1)),
        (3, "visit", T0 + timedelta(days=400)),
    ]
    planted = engagement_features(moments(), events(BEFORE + late), ("demo", "visit"))
    assert planted.equals(clean)


def test_no_events_gives_zero_counts() -> None:
    out = engagement_features(moments(), None, ("demo",))
    assert out.columns == ["lead_id", *engagement_feature_names(("demo",))]
    assert out["events_90d"].to_list() == [0, 0, 0]


def test_event_types_most_frequent_first() -> None:
    assert event_types_of(events(BEFORE), limit=1) == ("visit",)


def test_candidates_skip_never_features_datetimes_and_constants() -> None:
    frame = pl.DataFrame(
        {
            "lead_id": [1, 2],
            "email": ["a@x.io", "b@y.io"],
            "source": ["ads", "seo"],
            "constant": ["x", "x"],
            DECISION_AT: [T0, T0],
            "Tags": ["won", "lost"],
        }
    )
    assert candidate_features(frame, ["lead_id", "email", "tags"]) == ["source"]


def test_calendar_features_from_the_decision_moment() -> None:
    out = calendar_features(moments())
    assert out["decision_month"].to_list()[0] == 2026 * 12 + 2
    assert out["decision_weekday"].to_list()[0] == 2  # a Tuesday


def test_completeness_counts_filled_feature_fields() -> None:
    frame = pl.DataFrame({"a": [1, None, None], "b": ["x", "y", None], "c": [1, 2, 3]})
    out = with_completeness(frame, ["a", "b", COMPLETENESS])
    assert out[COMPLETENESS].to_list() == [2.0, 1.0, 0.0]
