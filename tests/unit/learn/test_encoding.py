import numpy as np
import polars as pl

from leadgate.learn.encoding import (
    FeatureEncoding,
    booster_column,
    fit_encoding,
    level_codes,
    linear_columns,
    linear_input,
    linear_part,
    linear_width,
)


def test_categories_match_without_case_or_spaces_and_empty_is_missing() -> None:
    train = pl.Series("source", ["Google"] * 6 + ["Direct"] * 6)
    enc = fit_encoding("source", train, np.zeros(12))
    assert enc.levels == ("direct", "google")
    codes = level_codes(
        enc, pl.Series("source", ["google ", "GOOGLE", "Direct", "Olark", "", None])
    )
    # other (a level seen fewer than 5 times or never) = 2, missing = 3: its own level
    assert codes.tolist() == [1.0, 1.0, 0.0, 2.0, 3.0, 3.0]


def test_missing_is_a_level_of_its_own_for_both_learners() -> None:
    enc = fit_encoding("city", pl.Series("city", ["Mumbai"] * 5 + ["Pune"] * 5), np.zeros(10))
    values = booster_column(enc, pl.Series("city", [None, "Mumbai"]))
    design, names = linear_columns(enc, values)
    assert names[int(np.argmax(design[0]))] == "city missing"
    assert names[int(np.argmax(design[1]))] == "city = mumbai"


def test_the_linear_model_does_not_extrapolate_beyond_the_training_range() -> None:
    rng = np.random.default_rng(0)
    enc = fit_encoding("visits", pl.Series("visits", rng.uniform(0, 10, 200)), np.zeros(200))
    assert enc.bounds[0] >= 0
    assert enc.bounds[1] <= 10
    coef = rng.normal(size=linear_width(enc))
    at_max = linear_part(enc, np.array([enc.bounds[1]]), coef)
    far = linear_part(enc, np.array([1e6]), coef)
    np.testing.assert_allclose(far, at_max)
    inside = linear_part(enc, np.array([5.0]), coef)
    assert not np.allclose(inside, at_max)


def test_a_number_with_few_values_gets_one_bin_per_value() -> None:
    enc = fit_encoding("weekday", pl.Series("weekday", [1.0, 2.0, 3.0, 5.0] * 10), np.zeros(40))
    assert enc.edges == (1.5, 2.5, 4.0)
    many = fit_encoding("x", pl.Series("x", np.arange(1000.0)), np.zeros(1000))
    assert len(many.edges) == 9  # deciles


def test_a_target_encoded_category_is_one_hot_in_the_linear_model() -> None:
    pages = [f"page{i}" for i in range(60)]
    series = pl.Series("page", pages * 6)
    y = np.array([1.0 if p in ("page0", "page1") else 0.0 for p in pages * 6])
    enc = fit_encoding("page", series, y)
    assert enc.kind == "target_encoded"
    booster = booster_column(enc, series)
    assert booster[0] > booster[2]  # page0 converts, page2 does not: a higher rate
    codes = linear_input(enc, series, booster)
    assert linear_width(enc) == len(enc.levels) + 2
    design, names = linear_columns(enc, codes)
    assert names[int(np.argmax(design[0]))] == "page = page0"
    coef = np.arange(linear_width(enc), dtype=np.float64)
    np.testing.assert_allclose(linear_part(enc, codes, coef), design @ coef)


def test_encodings_round_trip_through_json_including_open_bounds() -> None:
    import json

    closed = fit_encoding("v", pl.Series("v", [1.0, 2.0, None]), np.zeros(3))
    open_ = FeatureEncoding("c", "categorical", levels=("a",))
    for enc in (closed, open_):
        again = FeatureEncoding.from_dict(json.loads(json.dumps(enc.to_dict())))
        assert again == enc
