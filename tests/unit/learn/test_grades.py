import numpy as np
import polars as pl
import pytest

from leadgate.exceptions import ModelError
from leadgate.learn.grades import (
    blended_grade_expr,
    blended_letter_expr,
    p_grade_expr,
    probability_bounds,
)
from leadgate.model.compiler import compile_spec
from leadgate.model.loader import parse_spec
from testkit import SMALL_MODEL

BOUNDS = (("A", 0.5), ("B", 0.3), ("C", 0.1))


def letters(p: list[float | None], bounds=BOUNDS) -> list[str | None]:
    frame = pl.DataFrame({"p": p}, schema={"p": pl.Float64})
    return frame.select(p_grade_expr(pl.col("p"), bounds).alias("g"))["g"].to_list()


def blend(fit: list[str | None], prob: list[str | None], weight: float) -> list[str | None]:
    frame = pl.DataFrame({"fit": fit, "prob": prob}, schema={"fit": pl.String, "prob": pl.String})
    expr = blended_letter_expr(pl.col("fit"), pl.col("prob"), weight).alias("b")
    return frame.select(expr)["b"].to_list()


def test_probability_letter_uses_lower_bounds_and_keeps_missing_missing() -> None:
    assert letters([0.9, 0.5, 0.49, 0.3, 0.1, 0.0999, 0.0, None]) == [
        "A", "A", "B", "B", "C", "D", "D", None,
    ]  # fmt: skip


def test_default_bounds_put_the_top_tenth_in_a_and_the_bottom_forty_percent_in_d() -> None:
    p = np.random.default_rng(0).random(10_000)
    bounds = probability_bounds(p)
    assert [letter for letter, _ in bounds] == ["A", "B", "C"]
    shares = pl.Series("g", letters(list(p), bounds)).value_counts(normalize=True)
    share = dict(zip(shares["g"], shares["proportion"], strict=True))
    assert share == pytest.approx({"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4}, abs=0.002)


def test_weight_zero_keeps_the_rule_letter_and_weight_one_takes_the_probability() -> None:
    fit = ["A", "B", "C", "D", "D"]
    prob = ["D", "A", "C", "A", "B"]
    assert blend(fit, prob, 0.0) == fit
    assert blend(fit, prob, 1.0) == prob


def test_half_way_rounds_towards_the_probability_letter() -> None:
    # A(1) vs D(4) at 0.5: 2.5 → the side of D, i.e. C; D vs A → B.
    assert blend(["A", "D", "B", "C"], ["D", "A", "A", "D"], 0.5) == ["C", "B", "A", "D"]
    # A quarter of a three-letter gap (0.75) rounds to one letter; a quarter of one to none.
    assert blend(["A", "A"], ["D", "B"], 0.25) == ["B", "A"]


def test_blended_grade_keeps_the_engagement_digit_and_is_missing_without_p() -> None:
    frame = pl.DataFrame({"fit": ["C", "A", "B"], "eng": ["2", "4", "1"], "prob": ["A", "C", None]})
    expr = blended_grade_expr(pl.col("fit"), pl.col("eng"), pl.col("prob"), 0.5).alias("g")
    assert frame.select(expr)["g"].to_list() == ["B2", "B4", None]


def test_the_model_can_set_the_weight_and_bounds() -> None:
    text = SMALL_MODEL + (
        "learning:\n"
        "  blended_grade: {predictor_weight: 0.25, probability: {A: 0.6, B: 0.3, C: 0.1}}\n"
    )
    learning = compile_spec(parse_spec(text)).learning
    assert learning.predictor_weight == 0.25
    assert learning.probability_grades == (("A", 0.6), ("B", 0.3), ("C", 0.1))


def test_default_learning_blends_half_and_half_with_the_predictors_bounds() -> None:
    learning = compile_spec(parse_spec(SMALL_MODEL)).learning
    assert learning.predictor_weight == 0.5
    assert learning.probability_grades == ()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("{probability: {A: 0.2, B: 0.3, C: 0.1}}", "A > B > C"),
        ("{probability: {A: 0.5}}", "all three"),
        ("{predictor_weight: 2}", "less than or equal to 1"),
        ("{probability: {A: 1.5, B: 0.3, C: 0.1}}", "less than 1"),
    ],
)
def test_bad_blended_grade_settings_are_located_model_errors(section: str, message: str) -> None:
    with pytest.raises(ModelError) as error:
        parse_spec(SMALL_MODEL + f"learning:\n  blended_grade: {section}\n")
    problem = error.value.problems[0]
    assert problem.code == "bad_value"
    assert message in problem.message
    assert problem.location.line is not None
