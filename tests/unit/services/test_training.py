from datetime import timedelta

import polars as pl
import pytest

from leadgate.exceptions import UsageError
from leadgate.learn import DECISION_AT, LABEL
from leadgate.model import load_model
from leadgate.services.training import (
    LeadData,
    build_training_set,
    labels,
    never_features,
    parse_delay,
    with_decision_moments,
)
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(accounts=80, seed=11)


@pytest.fixture(scope="module")
def model():
    return load_model(EXAMPLE_MODEL)


def test_parse_delay() -> None:
    assert parse_delay("7d") == timedelta(days=7)
    assert parse_delay("36h") == timedelta(hours=36)
    assert parse_delay("0") == timedelta(0)
    with pytest.raises(UsageError, match="not a duration"):
        parse_delay("a week")


def test_leads_without_created_at_are_refused() -> None:
    with pytest.raises(UsageError, match="created_at"):
        with_decision_moments(pl.DataFrame({"lead_id": [1]}), timedelta(days=7))


def test_labels_are_won_outcomes_only() -> None:
    leads = pl.DataFrame({"lead_id": [1, 2, 3, 4]})
    outcomes = pl.DataFrame({"lead_id": [2, 3, 3], "won": [True, False, None]})
    assert labels(leads, outcomes).to_list() == [0, 1, 0, 0]


def test_never_features_combine_defaults_model_and_exclude(model) -> None:
    names = never_features(model, ("tags",))
    assert {"email", "lead_id", "owner", "tags"} <= set(names)
    # discovery answers are captured in sales conversations: never features
    assert {"budget", "authority", "need", "timeline"} <= set(names)


def test_training_set_has_rule_engine_and_engagement_features(dataset, model) -> None:
    data = LeadData(dataset.leads, dataset.events, dataset.accounts, dataset.outcomes)
    training, excluded = build_training_set(data, model, delay=timedelta(days=7))
    frame = training.frame
    assert frame.height == dataset.leads.height
    won = set(dataset.outcomes.filter(pl.col("won"))["lead_id"].to_list())
    assert set(frame.filter(pl.col(LABEL) == 1)["lead_id"].to_list()) == won
    assert frame[LABEL].sum() == len(won)
    assert {"fit_score", "segment", "fit_grade", "engagement_score"} <= set(training.features)
    assert "events_30d" in training.features
    assert {"email", "first_name", "phone", "lead_id", DECISION_AT} <= set(excluded)
    assert training.segment_column == "segment"
    moments = dataset.leads["created_at"] + timedelta(days=7)
    assert frame[DECISION_AT].to_list() == moments.to_list()


def test_events_after_the_decision_moment_change_no_feature(dataset, model) -> None:
    data = LeadData(dataset.leads, dataset.events, dataset.accounts, dataset.outcomes)
    training, _ = build_training_set(data, model, delay=timedelta(days=7))
    late = (
        dataset.events.join(
            dataset.leads.select("lead_id", "created_at"), on="lead_id", how="inner"
        )
        .with_columns(
            (pl.col("created_at") + timedelta(days=7, hours=1)).alias("occurred_at"),
            (pl.col("event_id").cast(pl.Int64) + 10_000_000).alias("event_id"),
        )
        .select(dataset.events.columns)
    )
    more = pl.concat([dataset.events, late.cast(dataset.events.schema)])
    again, _ = build_training_set(
        LeadData(dataset.leads, more, dataset.accounts, dataset.outcomes),
        model,
        delay=timedelta(days=7),
    )
    columns = list(training.features)
    assert again.frame.select(columns).equals(training.frame.select(columns))


def test_unknown_exclude_is_refused(dataset) -> None:
    data = LeadData(dataset.leads, outcomes=dataset.outcomes)
    with pytest.raises(UsageError, match="do not exist"):
        build_training_set(data, None, delay=timedelta(0), exclude=("nope",))


def test_the_decision_month_is_a_feature_only_with_a_time_trend(dataset) -> None:
    data = LeadData(dataset.leads, outcomes=dataset.outcomes)
    plain, excluded = build_training_set(data, None, delay=timedelta(days=7))
    assert "decision_month" not in plain.features
    assert "decision_month" in excluded
    assert "decision_weekday" in plain.features
    trend, _ = build_training_set(data, None, delay=timedelta(days=7), time_trend=True)
    assert "decision_month" in trend.features
