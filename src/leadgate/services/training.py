"""Training a predictor from files: decision moments, rule-engine and engagement features as of
each moment, labels from outcomes, then ``leadgate.learn``.

The rule engine's features (segment, persona, fit score and grade, seniority, ...) are computed
here, by calling :func:`leadgate.engine.score` with each lead's decision moment, because
``learn`` may not import the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from leadgate.engine import score
from leadgate.exceptions import UsageError
from leadgate.io import ACCOUNTS, EVENTS, LEADS, OUTCOMES, align_id_types, read_frame
from leadgate.learn import (
    DECISION_AT,
    DEFAULT_NEVER_FEATURES,
    LABEL,
    WINDOWS,
    DealSizes,
    Predictor,
    TrainingConfig,
    TrainingReport,
    TrainingSet,
    learn_deal_sizes,
    save_predictor,
    train,
)
from leadgate.learn.features import (
    COMPLETENESS,
    TIME_TREND_FEATURES,
    calendar_features,
    candidate_features,
    engagement_features,
    event_types_of,
    with_completeness,
)
from leadgate.model import columns as c
from leadgate.model import load_model
from leadgate.model.compiled import QualificationModel
from leadgate.services.durations import parse_duration

Step = Callable[[str], None]
DEFAULT_DELAY = timedelta(days=7)

#: Rule-engine outputs offered to the learner as features (all known at the decision moment).
ENGINE_FEATURES = (
    c.SEGMENT, c.PERSONA, c.BUYING_ROLE, c.FIT_SCORE, c.ENGAGEMENT_SCORE, c.PRODUCT_SCORE,
    c.POTENTIAL_VALUE, c.FIT_GRADE, c.ENGAGEMENT_GRADE, c.GRADE, c.SENIORITY, c.DEPARTMENT,
    c.IS_FREE_EMAIL, c.IS_EXCLUDED,
)  # fmt: skip
#: Account columns that are identifiers or written after contact, never features.
ACCOUNT_NEVER = (c.ACCOUNT_ID, c.ACCOUNT_NAME, c.DOMAIN, "owner", c.CREATED_AT)


def _quiet(_: str) -> None:
    return None


def parse_delay(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m`` or ``0`` (a bare number is days) → a timedelta.

    Raises:
        UsageError: the text is not a duration.
    """
    return parse_duration(
        text, what="--decision-delay", bare_unit="d", hint="use e.g. 7d, 36h or 0"
    )


@dataclass(frozen=True)
class LeadData:
    """The frames a training or prediction run reads."""

    leads: pl.DataFrame
    events: pl.DataFrame | None = None
    accounts: pl.DataFrame | None = None
    outcomes: pl.DataFrame | None = None


def read_lead_data(
    leads: Path,
    *,
    events: Path | None = None,
    accounts: Path | None = None,
    outcomes: Path | None = None,
) -> LeadData:
    """Read and type-check the files, with linked id columns of one dtype.

    Raises:
        InputDataError: a file is missing or has bad rows.
    """
    frame = read_frame(leads, LEADS).frame
    ev = None if events is None else read_frame(events, EVENTS).frame
    ac = None if accounts is None else read_frame(accounts, ACCOUNTS).frame
    oc = None if outcomes is None else read_frame(outcomes, OUTCOMES).frame
    if ev is not None:
        frame, ev = align_id_types((frame, c.LEAD_ID), (ev, c.LEAD_ID))
    if oc is not None:
        frame, oc = align_id_types((frame, c.LEAD_ID), (oc, c.LEAD_ID))
    if ac is not None and c.ACCOUNT_ID in frame.columns:
        frame, ac = align_id_types((frame, c.ACCOUNT_ID), (ac, c.ACCOUNT_ID))
    return LeadData(frame, ev, ac, oc)


def with_decision_moments(leads: pl.DataFrame, delay: timedelta) -> pl.DataFrame:
    """Add ``decision_at`` = ``created_at`` + delay.

    Raises:
        UsageError: the leads have no ``created_at`` or it has empty values.
    """
    if c.CREATED_AT not in leads.columns or leads.get_column(c.CREATED_AT).null_count():
        raise UsageError(
            "every lead needs a created_at to place its decision moment.",
            hint="add created_at to the leads file (for data without timestamps use one "
            "constant date, see docs/predictive.md)",
        )
    return leads.with_columns((pl.col(c.CREATED_AT) + delay).alias(DECISION_AT))


def feature_frame(
    data: LeadData,
    model: QualificationModel | None,
    *,
    event_types: Sequence[str],
    windows: Sequence[int] = WINDOWS,
) -> pl.DataFrame:
    """Lead fields, account fields, rule-engine outputs and engagement aggregates, all as of
    each lead's ``decision_at`` (a column the leads must already have)."""
    leads = data.leads
    if data.accounts is not None and c.ACCOUNT_ID in leads.columns:
        extra = data.accounts.drop([n for n in ACCOUNT_NEVER if n in data.accounts.columns])
        extra = extra.rename({n: c.account_column(n) for n in extra.columns})
        accounts = data.accounts.select(c.ACCOUNT_ID).hstack(extra)
        leads = leads.join(accounts, on=c.ACCOUNT_ID, how="left", maintain_order="left")
    if model is not None:
        # Stage/temperature conditions may read the predictor's own output; stages are never
        # features, so an empty placeholder lets the engine run while training.
        placeholders = [
            pl.lit(None, pl.Float64).alias(n)
            for n in (c.P_CONVERT, c.EXPECTED_VALUE)
            if n in model.lead_fields and n not in data.leads.columns
        ]
        result = score(
            data.leads.with_columns(placeholders),
            data.accounts,
            data.events,
            model,
            as_of=DECISION_AT,
            explain_points=False,
        )
        wanted = [n for n in ENGINE_FEATURES if n in result.leads.columns]
        engine = result.leads.select(c.LEAD_ID, *wanted)
        leads = leads.drop([n for n in wanted if n in leads.columns]).join(
            engine, on=c.LEAD_ID, how="left", maintain_order="left"
        )
    moments = leads.select(c.LEAD_ID, DECISION_AT)
    engaged = engagement_features(moments, data.events, event_types, windows)
    return calendar_features(leads.hstack(engaged.drop(c.LEAD_ID)))


def labels(leads: pl.DataFrame, outcomes: pl.DataFrame) -> pl.Series:
    """1 for a lead with a won outcome, 0 for every other lead."""
    if c.WON not in outcomes.columns:
        raise UsageError(
            "the outcomes file has no 'won' column.",
            hint="add won (true/false) per opportunity; leads without one count as not converted",
        )
    won = outcomes.filter(pl.col(c.WON).fill_null(value=False)).get_column(c.LEAD_ID)
    return leads.get_column(c.LEAD_ID).is_in(won.implode()).cast(pl.Int8).alias(LABEL)


def never_features(model: QualificationModel | None, exclude: Sequence[str]) -> tuple[str, ...]:
    """The default list, the model's discovery-answer fields (readiness frameworks are answered
    in sales conversations), its ``learning.never_features`` and ``--exclude``."""
    if model is None:
        return (*DEFAULT_NEVER_FEATURES, *exclude)
    discovery = tuple(cr.field for fw in model.frameworks for cr in fw.criteria)
    return (*DEFAULT_NEVER_FEATURES, *discovery, *model.learning.never_features, *exclude)


@dataclass(frozen=True)
class TrainRequest:
    """What to train on and how."""

    leads: Path
    outcomes: Path
    events: Path | None = None
    accounts: Path | None = None
    model: Path | None = None
    decision_delay: timedelta = DEFAULT_DELAY
    exclude: tuple[str, ...] = ()
    #: Offer the decision month (a cohort trend) as a feature; see ``learn.features``.
    time_trend: bool = False
    config: TrainingConfig = field(default_factory=TrainingConfig)


@dataclass(frozen=True)
class TrainRun:
    report: TrainingReport
    excluded: tuple[str, ...]

    @property
    def predictor(self) -> Predictor:
        return self.report.predictor


def build_training_set(
    data: LeadData,
    model: QualificationModel | None,
    *,
    delay: timedelta,
    exclude: Sequence[str] = (),
    time_trend: bool = False,
) -> tuple[TrainingSet, tuple[str, ...]]:
    """The learner's input: features as of each decision moment, labels and exclusions.

    ``time_trend`` adds the decision month as a feature (off by default: see
    :data:`leadgate.learn.features.DECISION_MONTH`)."""
    if data.outcomes is None:
        raise UsageError("training needs outcomes.", hint="pass --outcomes")
    leads = with_decision_moments(data.leads, delay)
    types = () if data.events is None else event_types_of(data.events)
    frame = feature_frame(LeadData(leads, data.events, data.accounts), model, event_types=types)
    frame = frame.with_columns(labels(leads, data.outcomes))
    never = never_features(model, exclude)
    if not time_trend:
        never = (*never, *TIME_TREND_FEATURES)
    unknown = [n for n in exclude if n not in frame.columns]
    if unknown:
        raise UsageError(
            f"--exclude names columns that do not exist: {', '.join(unknown)}.",
            hint="use the column names of the leads file (case-sensitive)",
        )
    features = candidate_features(frame, never)
    if features:
        frame = with_completeness(frame, features)
        features.append(COMPLETENESS)
    segment = c.SEGMENT if model is not None and c.SEGMENT in frame.columns else None
    training = TrainingSet(
        frame, tuple(features), types, WINDOWS, delay.total_seconds() / 86400, segment
    )
    excluded = tuple(n for n in frame.columns if n not in features and n not in (LABEL,))
    return training, excluded


def train_files(request: TrainRequest, step: Step = _quiet) -> TrainRun:
    """Read the files, build the training set, train, and learn deal sizes.

    Raises:
        InputDataError, ModelError, UsageError: bad files, model or options; a leaky feature.
    """
    step("Reading files")
    data = read_lead_data(
        request.leads, events=request.events, accounts=request.accounts, outcomes=request.outcomes
    )
    model = None if request.model is None else load_model(request.model)
    step("Building features as of each decision moment")
    training, excluded = build_training_set(
        data,
        model,
        delay=request.decision_delay,
        exclude=request.exclude,
        time_trend=request.time_trend,
    )
    report = train(training, request.config, step)
    sizes = _deal_sizes(training.frame, data.outcomes)
    if sizes is not None:
        from dataclasses import replace

        from leadgate.learn.predictor import with_version

        report = replace(
            report, predictor=with_version(replace(report.predictor, deal_sizes=sizes))
        )
    return TrainRun(report, excluded)


def _deal_sizes(frame: pl.DataFrame, outcomes: pl.DataFrame | None) -> DealSizes | None:
    if outcomes is None or c.AMOUNT not in outcomes.columns:
        return None
    wins = outcomes.filter(pl.col(c.WON).fill_null(value=False)).select(c.LEAD_ID, c.AMOUNT)
    keys = [n for n in (c.SEGMENT, c.FIT_GRADE) if n in frame.columns]
    wins = wins.join(frame.select(c.LEAD_ID, *keys), on=c.LEAD_ID, how="inner")
    both = len(keys) == 2
    return learn_deal_sizes(
        wins,
        amount=c.AMOUNT,
        segment=c.SEGMENT if both else None,
        grade=c.FIT_GRADE if both else None,
    )


def write_predictor(run: TrainRun, out: Path) -> str:
    """Save the predictor artifact; returns its version."""
    return save_predictor(run.predictor, out)


def metrics_table(predictor: Predictor) -> pl.DataFrame:
    """One row per validation: AUC (with its 95% interval), PR AUC, log loss, ECE, top lift."""
    names = {"cross_validation": "k-fold", "time_ordered": "time-ordered"}
    rows = []
    for name, m in predictor.metrics.items():
        interval = "" if np.isnan(m.auc_low) else f"{m.auc_low:.3f}–{m.auc_high:.3f}"
        rows.append(
            {
                "check": names.get(name, name),
                "leads": m.rows,
                "won": m.positives,
                "AUC": f"{m.roc_auc:.3f}",
                "AUC 95%": interval,
                "PR AUC": f"{m.pr_auc:.3f}",
                "log loss": f"{m.log_loss:.3f}",
                "ECE": f"{m.ece:.3f}",
                "lift@10%": round(m.lift[0], 2),
            }
        )
    return pl.DataFrame(rows)
