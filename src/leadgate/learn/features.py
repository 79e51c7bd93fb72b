"""Features as of each lead's decision moment: engagement aggregates from events strictly
before the moment, and which lead columns may be features at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from leadgate.model import columns as c

DECISION_AT = "decision_at"
LABEL = "converted"
#: Recency windows (days) of the engagement counts.
WINDOWS = (7, 30, 90)
#: At most this many event types get their own count columns (the most frequent ones).
MAX_EVENT_TYPES = 30

#: Never features by default: identifiers, personal data and fields written by sales or by
#: leadgate itself after contact. The model file and ``--exclude`` add to this list.
DEFAULT_NEVER_FEATURES = (
    c.LEAD_ID,
    c.ACCOUNT_ID,
    c.EMAIL,
    c.FIRST_NAME,
    c.LAST_NAME,
    c.PHONE,
    "company",
    "company_domain",
    "owner",
    "crm_status",
    "lifecycle_stage",
    c.STAGE,
    c.TEMPERATURE,
    c.MISSING_FIELDS,
    c.TOP_REASONS,
    c.MODEL_VERSION,
    c.AS_OF,
    c.OPPORTUNITY_CREATED_AT,
    c.AMOUNT,
    c.WON,
    c.CLOSED_AT,
    c.EXCLUSION_REASON,
    DECISION_AT,
    LABEL,
    c.P_CONVERT,
    c.EXPECTED_VALUE,
    "expected_deal_size",
    "p_reasons_up",
    "p_reasons_down",
    "predictor_version",
)


def decision_moments(leads: pl.DataFrame, delay: timedelta) -> pl.Expr:
    """``created_at + delay``: the moment a team would decide about the lead."""
    return (pl.col(c.CREATED_AT) + delay).alias(DECISION_AT)


def event_types_of(events: pl.DataFrame, limit: int = MAX_EVENT_TYPES) -> tuple[str, ...]:
    """The most frequent event types (ties by name), the ones that get their own columns."""
    counts = (
        events.group_by(c.EVENT_TYPE).len().sort(["len", c.EVENT_TYPE], descending=[True, False])
    )
    return tuple(str(v) for v in counts.get_column(c.EVENT_TYPE).head(limit).to_list())


def engagement_feature_names(types: Sequence[str], windows: Sequence[int] = WINDOWS) -> list[str]:
    names = [f"events_{w}d" for w in windows]
    names += [f"{t}_{w}d" for t in types for w in windows]
    return [*names, "days_since_last_event", "days_since_first_event"]


def engagement_features(
    moments: pl.DataFrame,
    events: pl.DataFrame | None,
    types: Sequence[str],
    windows: Sequence[int] = WINDOWS,
) -> pl.DataFrame:
    """Counts by event type × recency window and days since the last/first event, per lead.

    Only events strictly before each lead's ``decision_at`` count, so an event logged after the
    moment can never leak into a feature. ``moments`` holds ``lead_id`` and ``decision_at``;
    the result has one row per lead in the same order.
    """
    names = engagement_feature_names(types, windows)
    base = moments.select(c.LEAD_ID, DECISION_AT)
    if events is None or events.is_empty():
        zeros = [pl.lit(0.0).alias(n) for n in names[:-2]]
        return base.select(
            c.LEAD_ID,
            *zeros,
            pl.lit(None, pl.Float64).alias(names[-2]),
            pl.lit(None, pl.Float64).alias(names[-1]),
        )
    seen = (
        events.lazy()
        .select(c.LEAD_ID, pl.col(c.EVENT_TYPE).cast(pl.String), c.OCCURRED_AT)
        .with_columns(pl.col(c.LEAD_ID).cast(base.schema[c.LEAD_ID]))
        .join(base.lazy(), on=c.LEAD_ID, how="inner")
        .filter(pl.col(c.OCCURRED_AT) < pl.col(DECISION_AT))
        .with_columns(
            ((pl.col(DECISION_AT) - pl.col(c.OCCURRED_AT)).dt.total_seconds() / 86400.0).alias(
                "age"
            )
        )
    )
    aggs = [(pl.col("age") < w).sum().cast(pl.Float64).alias(f"events_{w}d") for w in windows]
    aggs += [
        ((pl.col(c.EVENT_TYPE) == t) & (pl.col("age") < w))
        .sum()
        .cast(pl.Float64)
        .alias(f"{t}_{w}d")
        for t in types
        for w in windows
    ]
    aggs += [pl.col("age").min().alias(names[-2]), pl.col("age").max().alias(names[-1])]
    per_lead = seen.group_by(c.LEAD_ID).agg(aggs)
    return (
        base.lazy()
        .join(per_lead, on=c.LEAD_ID, how="left", maintain_order="left")
        .with_columns(pl.col(n).fill_null(0.0) for n in names[:-2])
        .select(c.LEAD_ID, *names)
        .collect()
    )


def candidate_features(frame: pl.DataFrame, never: Sequence[str]) -> list[str]:
    """Columns usable as features: numbers, booleans and text; never datetimes or excluded."""
    blocked = {n.lower() for n in never}
    usable = []
    for name, dtype in frame.schema.items():
        if name.lower() in blocked or dtype.is_temporal() or isinstance(dtype, pl.List | pl.Struct):
            continue
        if frame.get_column(name).n_unique() <= 1:
            continue
        usable.append(name)
    return usable


#: The month index of the decision moment: a *trend* (cohort) feature, off by default.
#: On live data the newest leads have not had time to close, so a trend learns "new leads do
#: not convert" and scores every new lead as the newest (worst) cohort; and a month after the
#: training window can only be treated as the last month seen. Turn it on (``--time-trend``)
#: only for outcomes that are complete and a cohort effect you expect to persist.
DECISION_MONTH = "decision_month"
DECISION_WEEKDAY = "decision_weekday"
TIME_TREND_FEATURES = (DECISION_MONTH,)


def calendar_features(frame: pl.DataFrame) -> pl.DataFrame:
    """Month index and weekday of the decision moment. The weekday (cyclic) is a feature by
    default; the month index only with a time trend (see :data:`DECISION_MONTH`)."""
    moment = pl.col(DECISION_AT)
    return frame.with_columns(
        (moment.dt.year() * 12 + moment.dt.month() - 1).cast(pl.Float64).alias(DECISION_MONTH),
        moment.dt.weekday().cast(pl.Float64).alias(DECISION_WEEKDAY),
    )


#: How many of the lead's feature fields are filled in (form completeness is a signal).
COMPLETENESS = "filled_fields"


def with_completeness(frame: pl.DataFrame, features: Sequence[str]) -> pl.DataFrame:
    """Add ``filled_fields``: the number of non-empty values among ``features``."""
    counted = [pl.col(n).is_not_null().cast(pl.Float64) for n in features if n != COMPLETENESS]
    total = pl.sum_horizontal(counted) if counted else pl.lit(0.0)
    return frame.with_columns(total.alias(COMPLETENESS))
