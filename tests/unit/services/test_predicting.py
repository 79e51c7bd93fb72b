"""Predictions next to the rule scores: probability letter, blended grade, reasons for the
top of the queue."""

from dataclasses import replace
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from leadgate.engine import score
from leadgate.learn import TrainingConfig, train
from leadgate.model import load_model
from leadgate.services.predicting import merge_predictions, predict_frame
from leadgate.services.training import LeadData, build_training_set
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL


@pytest.fixture(scope="module")
def setup():
    dataset = generate_dataset(accounts=150, seed=5)
    model = load_model(EXAMPLE_MODEL)
    data = LeadData(dataset.leads, dataset.events, dataset.accounts, dataset.outcomes)
    training, _ = build_training_set(data, model, delay=timedelta(days=7))
    predictor = train(training, TrainingConfig(evaluate=False)).predictor
    return dataset, model, predictor


def test_predictions_carry_the_probability_letter_and_the_blended_grade(setup) -> None:
    dataset, model, predictor = setup
    data = LeadData(dataset.leads, dataset.events, dataset.accounts)
    out = predict_frame(predictor, data, model, as_of=dataset.as_of, reasons=False)
    bounds = dict(predictor.probability_grades)
    expected = np.select(
        [out["p_convert"] >= bounds[k] for k in ("A", "B", "C")], ["A", "B", "C"], "D"
    )
    assert out["p_grade"].to_list() == expected.tolist()
    assert out.columns.index("blended_grade") == out.columns.index("grade") + 1
    assert (out["blended_grade"].str.slice(1) == out["grade"].str.slice(1)).all()
    assert "p_reasons_up" not in out.columns


def test_the_models_bounds_and_weight_drive_the_blended_grade(setup) -> None:
    dataset, model, predictor = setup
    learning = replace(
        model.learning,
        predictor_weight=1.0,
        probability_grades=(("A", 0.9), ("B", 0.5), ("C", 0.2)),
    )
    strict = replace(model, learning=learning)
    data = LeadData(dataset.leads, dataset.events, dataset.accounts)
    out = predict_frame(predictor, data, strict, as_of=dataset.as_of, reasons=False)
    # weight 1: the blended letter is the probability letter, with the model's bounds
    assert (out["blended_grade"].str.slice(0, 1) == out["p_grade"]).all()
    low = out.filter(pl.col("p_convert") < 0.2)
    assert low.height > 0
    assert (low["p_grade"] == "D").all()


def test_score_results_get_the_blended_grade_from_the_engines_grades(setup) -> None:
    dataset, model, predictor = setup
    data = LeadData(dataset.leads, dataset.events, dataset.accounts)
    predictions = predict_frame(predictor, data, model, as_of=dataset.as_of, reasons=False)
    predictions = predictions.drop("grade", "blended_grade")
    scored = score(dataset.leads, dataset.accounts, dataset.events, model, as_of=dataset.as_of)
    merged = merge_predictions(scored.leads, predictions, model)
    assert merged.height == scored.leads.height
    assert merged.columns.index("blended_grade") == merged.columns.index("grade") + 1
    same = merged.filter(pl.col("p_grade") == pl.col("fit_grade"))
    assert same.height > 0
    assert (same["blended_grade"] == same["grade"]).all()
    # fit D, probability B: half of two letters is one, towards B → C
    d_fit_b_p = merged.filter((pl.col("fit_grade") == "D") & (pl.col("p_grade") == "B"))
    assert d_fit_b_p.height > 0
    assert (d_fit_b_p["blended_grade"].str.slice(0, 1) == "C").all()


def test_reasons_for_the_top_of_the_queue_only(setup) -> None:
    dataset, model, predictor = setup
    data = LeadData(dataset.leads, dataset.events, dataset.accounts)
    out = predict_frame(predictor, data, model, as_of=dataset.as_of, reasons_top=25)
    explained = out.filter(
        pl.col("p_reasons_up").is_not_null() | pl.col("p_reasons_down").is_not_null()
    )
    assert explained.height == 25
    assert explained["p_convert"].min() >= out["p_convert"].sort(descending=True)[24]
    every = predict_frame(predictor, data, model, as_of=dataset.as_of)
    top = every.join(explained.select("lead_id"), on="lead_id", how="semi")
    assert top["p_reasons_up"].to_list() == explained["p_reasons_up"].to_list()
    none = predict_frame(predictor, data, model, as_of=dataset.as_of, reasons_top=0)
    assert "p_reasons_up" not in none.columns
