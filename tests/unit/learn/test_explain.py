import numpy as np
import polars as pl
import pytest

from leadgate.learn import TrainingConfig, TrainingSet, explain_rows, reason_columns, train
from leadgate.learn.explain import P_REASONS_DOWN, P_REASONS_UP
from learnkit import planted


@pytest.fixture(scope="module")
def trained():
    frame = planted(700, seed=2)
    report = train(
        TrainingSet(frame, ("visits", "channel", "noise")), TrainingConfig(evaluate=False)
    )
    return frame, report.predictor


def test_contributions_plus_base_equal_the_raw_score(trained) -> None:
    frame, predictor = trained
    contrib, base = predictor.blend.contributions(frame)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, predictor.raw(frame), atol=1e-9)


def test_linear_shortcut_equals_the_design_matrix(trained) -> None:
    frame, predictor = trained
    blend = predictor.blend
    inputs = blend.linear_inputs(frame, blend.booster_matrix(frame))
    design, _ = blend.linear_matrix(inputs)
    direct = design @ np.asarray(blend.coef) + blend.intercept
    shortcut = (
        blend.linear_parts(inputs).sum(axis=1) + blend.intercept + np.dot(blend.coef, blend.means)
    )
    np.testing.assert_allclose(shortcut, direct, atol=1e-9)


def test_top_reasons_name_the_planted_drivers(trained) -> None:
    frame, predictor = trained
    webinar_busy = frame.filter((pl.col("channel") == "webinar") & (pl.col("visits") > 14)).head(1)
    ads_idle = frame.filter((pl.col("channel") == "ads") & (pl.col("visits") < 6)).head(1)
    good, bad = explain_rows(predictor, pl.concat([webinar_busy, ads_idle]))
    assert {c.feature for c in good.up[:2]} == {"channel", "visits"}
    assert good.probability > 0.7
    assert {c.feature for c in bad.down[:2]} == {"channel", "visits"}
    assert str(bad.down[0]).endswith(")")
    assert "lowers the odds" in str(bad.down[0])
    assert good.raw == pytest.approx(
        good.base + sum(x.log_odds for x in predictor_contribs(predictor, webinar_busy)), abs=1e-9
    )


def predictor_contribs(predictor, frame):
    contrib, _ = predictor.blend.contributions(frame)
    from leadgate.learn.explain import Contribution

    return [
        Contribution(n, "", float(v))
        for n, v in zip(predictor.blend.names, contrib[0], strict=True)
    ]


def test_reason_columns_match_the_per_lead_explanation(trained) -> None:
    frame, predictor = trained
    rows = frame.head(20)
    columns = reason_columns(predictor, rows)
    assert columns.columns == [P_REASONS_UP, P_REASONS_DOWN]
    for i, item in enumerate(explain_rows(predictor, rows)):
        up = columns[P_REASONS_UP][i] or ""
        assert [p.split(" = ")[0] for p in up.split("; ") if p] == [c.feature for c in item.up]


def test_global_importances_rank_noise_last(trained) -> None:
    _, predictor = trained
    assert [n for n, _ in predictor.importances][-1] == "noise"


def test_reason_words_carry_the_value_and_the_signed_amount(trained) -> None:
    frame, predictor = trained
    rows = frame.head(30)
    columns = reason_columns(predictor, rows)
    for i, item in enumerate(explain_rows(predictor, rows)):
        expected_up = "; ".join(f"{x.feature} = {x.value} ({x.log_odds:+.2f})" for x in item.up)
        expected_down = "; ".join(f"{x.feature} = {x.value} ({x.log_odds:+.2f})" for x in item.down)
        assert (columns[P_REASONS_UP][i] or "") == expected_up
        assert (columns[P_REASONS_DOWN][i] or "") == expected_down


def test_reasons_in_chunks_equal_reasons_in_one_go(trained, monkeypatch) -> None:
    import leadgate.learn.explain as explain

    frame, predictor = trained
    whole = reason_columns(predictor, frame)
    monkeypatch.setattr(explain, "REASON_CHUNK", 64)
    assert reason_columns(predictor, frame).equals(whole)


def test_reasons_for_some_rows_only_leave_the_others_empty(trained) -> None:
    frame, predictor = trained
    whole = reason_columns(predictor, frame)
    wanted = np.zeros(frame.height, dtype=np.bool_)
    wanted[[3, 10, 11, 400]] = True
    some = reason_columns(predictor, frame, rows=wanted)
    assert some.height == frame.height
    assert some.filter(pl.Series(wanted)).equals(whole.filter(pl.Series(wanted)))
    rest = some.filter(~pl.Series(wanted))
    assert rest[P_REASONS_UP].null_count() == rest.height
    assert rest[P_REASONS_DOWN].null_count() == rest.height
    none = reason_columns(predictor, frame, rows=np.zeros(frame.height, dtype=np.bool_))
    assert none.columns == [P_REASONS_UP, P_REASONS_DOWN]
    assert none[P_REASONS_UP].null_count() == frame.height


@pytest.mark.parametrize("weight", [0.0, 0.35, 1.0])
def test_a_part_with_no_weight_is_skipped_without_changing_the_score(trained, weight) -> None:
    from dataclasses import replace

    frame, predictor = trained
    blend = replace(predictor.blend, weight=weight)
    boosted, linear = blend.parts(frame)
    np.testing.assert_allclose(blend.raw(frame), weight * boosted + (1 - weight) * linear)
    contrib, base = blend.contributions(frame)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, blend.raw(frame), atol=1e-9)
