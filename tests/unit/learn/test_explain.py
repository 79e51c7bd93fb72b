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
    b = blend.booster_matrix(frame)
    design, _ = blend.linear_matrix(b)
    direct = design @ np.asarray(blend.coef) + blend.intercept
    shortcut = blend.linear_parts(b).sum(axis=1) + blend.intercept + np.dot(blend.coef, blend.means)
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
