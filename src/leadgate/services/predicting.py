"""Using a trained predictor: probabilities, expected value and reasons next to the rule
scores; and point suggestions for the rule model from outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from leadgate.engine import score
from leadgate.exceptions import UsageError
from leadgate.learn import (
    DECISION_AT,
    PointSuggestions,
    Predictor,
    load_predictor,
    reason_columns,
    suggest_points,
)
from leadgate.learn.explain import LeadExplanation, explain_rows
from leadgate.learn.features import COMPLETENESS, with_completeness
from leadgate.learn.grades import BLENDED_GRADE, P_GRADE, blended_grade_expr, p_grade_expr
from leadgate.model import columns as c
from leadgate.model import load_model
from leadgate.model.compiled import QualificationModel
from leadgate.services.training import (
    LeadData,
    feature_frame,
    labels,
    read_lead_data,
    with_decision_moments,
)

Step = Callable[[str], None]
P_CONVERT = c.P_CONVERT
EXPECTED_VALUE = c.EXPECTED_VALUE
DEAL_SIZE = "expected_deal_size"
PREDICTOR_VERSION = "predictor_version"


def _quiet(_: str) -> None:
    return None


def prediction_features(
    predictor: Predictor, data: LeadData, model: QualificationModel | None, as_of: datetime
) -> pl.DataFrame:
    """Features as the predictor saw them in training: as of ``created_at`` + the training
    delay, but never later than ``as_of`` (a lead younger than the delay is seen as it is now).
    """
    delay = timedelta(days=predictor.decision_delay_days)
    leads = data.leads
    if c.CREATED_AT in leads.columns:
        moment = pl.min_horizontal(pl.col(c.CREATED_AT) + delay, pl.lit(as_of))
        leads = leads.with_columns(moment.fill_null(pl.lit(as_of)).alias(DECISION_AT))
    else:
        leads = leads.with_columns(pl.lit(as_of).alias(DECISION_AT))
    needs_model = any(n in predictor.features for n in (c.FIT_SCORE, c.SEGMENT, c.FIT_GRADE))
    if needs_model and model is None:
        raise UsageError(
            "this predictor was trained with rule-model features.",
            hint="pass the same --model it was trained with",
        )
    frame = feature_frame(
        LeadData(leads, data.events, data.accounts),
        model if needs_model else None,
        event_types=predictor.event_types,
        windows=predictor.windows or (7,),
    )
    if COMPLETENESS in predictor.features:
        frame = with_completeness(frame, predictor.features)
    missing = [n for n in predictor.features if n not in frame.columns]
    if missing:
        raise UsageError(
            f"the leads lack columns the predictor needs: {', '.join(missing)}.",
            hint="predict from files shaped like the training files",
        )
    return frame


def predict_frame(
    predictor: Predictor,
    data: LeadData,
    model: QualificationModel | None,
    *,
    as_of: datetime,
    reasons: bool = True,
    reasons_top: int | None = None,
) -> pl.DataFrame:
    """``lead_id``, ``p_convert``, its letter ``p_grade``, expected deal size and value, the
    predictor's reasons and, when the features hold the rule grades (a predictor trained
    with ``--model``), the rule ``grade`` the predictor saw and the ``blended_grade``.

    ``reasons_top`` words reasons only for the leads with the highest ``p_convert`` (the top
    of the queue); the others get none. ``reasons=False`` skips them entirely.
    """
    features = prediction_features(predictor, data, model, as_of)
    p = predictor.predict(features)
    out = features.select(c.LEAD_ID).with_columns(pl.Series(P_CONVERT, np.round(p, 6)))
    out = out.with_columns(
        p_grade_expr(pl.col(P_CONVERT), probability_grades(predictor, model)).alias(P_GRADE)
    )
    if model is not None and {c.FIT_GRADE, c.ENGAGEMENT_GRADE, c.GRADE} <= set(features.columns):
        out = out.hstack(features.select(c.FIT_GRADE, c.ENGAGEMENT_GRADE, c.GRADE))
        out = with_blended_grade(out, model).drop(c.FIT_GRADE, c.ENGAGEMENT_GRADE)
    if predictor.deal_sizes is not None:
        seg = c.SEGMENT if c.SEGMENT in features.columns else None
        grade = c.FIT_GRADE if c.FIT_GRADE in features.columns else None
        size = features.select(predictor.deal_sizes.expr(seg, grade).alias(DEAL_SIZE))
        out = out.hstack(size).with_columns(
            (pl.col(P_CONVERT) * pl.col(DEAL_SIZE)).round(2).alias(EXPECTED_VALUE)
        )
    if reasons and reasons_top != 0:
        rows = None
        if reasons_top is not None and reasons_top < len(p):
            rows = np.zeros(len(p), dtype=np.bool_)
            rows[np.argsort(-p, kind="stable")[:reasons_top]] = True
        out = out.hstack(reason_columns(predictor, features, rows=rows))
    return out.with_columns(pl.lit(predictor.version).alias(PREDICTOR_VERSION))


def probability_grades(
    predictor: Predictor, model: QualificationModel | None
) -> tuple[tuple[str, float], ...]:
    """The model's probability-letter bounds if it declares them, else the predictor's own."""
    if model is not None and model.learning.probability_grades:
        return model.learning.probability_grades
    return predictor.probability_grades


def with_blended_grade(frame: pl.DataFrame, model: QualificationModel) -> pl.DataFrame:
    """Add ``blended_grade`` from ``fit_grade``, ``engagement_grade`` and ``p_grade``
    (see :mod:`leadgate.learn.grades`), placed right after ``grade``."""
    blended = blended_grade_expr(
        pl.col(c.FIT_GRADE),
        pl.col(c.ENGAGEMENT_GRADE),
        pl.col(P_GRADE),
        model.learning.predictor_weight,
    ).alias(BLENDED_GRADE)
    extended = frame.with_columns(blended)
    if c.GRADE not in frame.columns:
        return extended
    order = [n for n in frame.columns if n != BLENDED_GRADE]
    at = order.index(c.GRADE) + 1
    return extended.select([*order[:at], BLENDED_GRADE, *order[at:]])


def merge_predictions(
    scored: pl.DataFrame, predictions: pl.DataFrame, model: QualificationModel
) -> pl.DataFrame:
    """The engine's lead scores with the prediction columns joined on, and the blended grade
    (the rule grade as of the scoring moment, blended with ``p_grade``)."""
    merged = scored.drop([n for n in predictions.columns if n != c.LEAD_ID], strict=False).join(
        predictions, on=c.LEAD_ID, how="left", maintain_order="left"
    )
    if {c.FIT_GRADE, c.ENGAGEMENT_GRADE, P_GRADE} <= set(merged.columns):
        return with_blended_grade(merged, model)
    return merged


def predict_files(
    predictor: Path,
    leads: Path,
    *,
    events: Path | None = None,
    accounts: Path | None = None,
    model: Path | None = None,
    as_of: datetime,
    reasons_top: int | None = None,
    step: Step = _quiet,
) -> pl.DataFrame:
    """Read the files and predict (see :func:`predict_frame`)."""
    step("Loading the predictor")
    loaded = load_predictor(predictor)
    step("Reading files")
    data = read_lead_data(leads, events=events, accounts=accounts)
    compiled = None if model is None else load_model(model)
    step(f"Predicting {data.leads.height:,} leads")
    return predict_frame(loaded, data, compiled, as_of=as_of, reasons_top=reasons_top)


def explain_predictions(
    predictor: Predictor, data: LeadData, model: QualificationModel | None, *, as_of: datetime
) -> list[tuple[object, LeadExplanation]]:
    """(lead id, explanation) for each lead of ``data`` (a handful, for ``explain``)."""
    features = prediction_features(predictor, data, model, as_of)
    ids = features.get_column(c.LEAD_ID).to_list()
    return list(zip(ids, explain_rows(predictor, features), strict=True))


def rule_indicators(
    model: QualificationModel, data: LeadData
) -> tuple[pl.DataFrame, dict[str, float], dict[str, str]]:
    """Per lead, 1 if each fit/engagement rule contributed as of the decision moment."""
    result = score(data.leads, data.accounts, data.events, model, as_of=DECISION_AT)
    rules = {r.id: ("fit", r.points) for r in model.fit_rules}
    rules |= {r.id: ("engagement", r.points) for r in model.engagement.rules}
    ledger = result.ledger if result.ledger is not None else pl.DataFrame()
    hits = (
        ledger.filter(pl.col(c.RULE_KIND).cast(pl.String).is_in(["fit", "engagement"]))
        .with_columns(pl.col(c.RULE_ID).cast(pl.String))
        .filter(pl.col(c.RULE_ID).is_in(list(rules)) & (pl.col(c.POINTS) != 0))
        .select(c.LEAD_ID, c.RULE_ID)
        .unique()
    )
    ids = data.leads.select(c.LEAD_ID)
    columns = {
        rule: ids.get_column(c.LEAD_ID).is_in(
            hits.filter(pl.col(c.RULE_ID) == rule).get_column(c.LEAD_ID).implode()
        )
        for rule in rules
    }
    frame = pl.DataFrame(columns)
    used = [r for r in rules if frame.get_column(r).any()]
    return (frame.select(used), {r: rules[r][1] for r in used}, {r: rules[r][0] for r in used})


def suggest_points_files(
    model: Path,
    leads: Path,
    outcomes: Path,
    *,
    events: Path | None = None,
    accounts: Path | None = None,
    delay: timedelta = timedelta(days=7),
    step: Step = _quiet,
) -> PointSuggestions:
    """Read the files, find which rules matched each lead at its decision moment, and fit."""
    step("Reading files and scoring as of each decision moment")
    compiled = load_model(model)
    data = read_lead_data(leads, events=events, accounts=accounts, outcomes=outcomes)
    outcomes_frame = data.outcomes
    assert outcomes_frame is not None
    data = LeadData(with_decision_moments(data.leads, delay), data.events, data.accounts)
    indicators, current, kinds = rule_indicators(compiled, data)
    if not indicators.columns:
        raise UsageError(
            "no fit or engagement rule matched any lead.",
            hint="check that the leads file has the fields the model reads",
        )
    y = labels(data.leads, outcomes_frame).cast(pl.Float64).to_numpy()
    if y.min() == y.max():
        raise UsageError("the outcomes have only one class; nothing to learn.")
    step("Fitting rule weights")
    return suggest_points(indicators, y, current, kinds)


def attach_predictions(
    predictor_path: Path,
    model: QualificationModel,
    leads: pl.DataFrame,
    accounts: pl.DataFrame | None,
    events: pl.DataFrame | None,
    as_of: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Predict, then add ``p_convert`` and ``expected_value`` to the leads so that stage and
    temperature conditions can read them; also returns the full prediction columns."""
    predictor = load_predictor(predictor_path)
    needs_model = any(n in predictor.features for n in (c.FIT_SCORE, c.SEGMENT, c.FIT_GRADE))
    data = LeadData(leads, events, accounts)
    predictions = predict_frame(predictor, data, model if needs_model else None, as_of=as_of)
    # The engine grades the leads as of ``as_of`` itself; the blended grade follows from those.
    # The probability letter follows the model's bounds even when no rule features were used.
    predictions = predictions.drop(c.GRADE, BLENDED_GRADE, strict=False).with_columns(
        p_grade_expr(pl.col(P_CONVERT), probability_grades(predictor, model)).alias(P_GRADE)
    )
    readable = [n for n in (P_CONVERT, EXPECTED_VALUE) if n in predictions.columns]
    extended = leads.drop([n for n in readable if n in leads.columns]).join(
        predictions.select(c.LEAD_ID, *readable),
        on=c.LEAD_ID,
        how="left",
        maintain_order="left",
    )
    return extended, predictions


def require_predictor(model: QualificationModel) -> None:
    """Refuse a model whose conditions read ``p_convert`` when no predictor was given."""
    read = [n for n in (c.P_CONVERT, c.EXPECTED_VALUE) if n in model.lead_fields]
    if read:
        raise UsageError(
            f"the model's conditions read {', '.join(read)}, which only a predictor provides.",
            hint="pass --predictor predictor.json (train one with `leadgate train`)",
        )


def explain_files(
    predictor: Path,
    leads: Path,
    lead_ids: tuple[str, ...],
    *,
    model: Path | None = None,
    events: Path | None = None,
    accounts: Path | None = None,
    as_of: datetime,
) -> list[tuple[object, LeadExplanation]]:
    """The predictor's explanation of a few leads, read from files.

    Raises:
        UsageError: an id is not in the leads file.
    """
    loaded = load_predictor(predictor)
    data = read_lead_data(leads, events=events, accounts=accounts)
    wanted = data.leads.filter(pl.col(c.LEAD_ID).cast(pl.String).is_in(list(lead_ids)))
    unknown = sorted(set(lead_ids) - set(map(str, wanted.get_column(c.LEAD_ID).to_list())))
    if unknown:
        raise UsageError(
            f"no lead with id {', '.join(unknown)} in the leads file.",
            hint="pass the lead_id exactly as it appears in the leads file",
        )
    compiled = None if model is None else load_model(model)
    subset = LeadData(wanted, data.events, data.accounts)
    return explain_predictions(loaded, subset, compiled, as_of=as_of)
