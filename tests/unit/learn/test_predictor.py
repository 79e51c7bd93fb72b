import json
from pathlib import Path

import numpy as np
import pytest

from leadgate.exceptions import ArtifactError
from leadgate.learn import TrainingConfig, TrainingSet, load_predictor, save_predictor, train
from learnkit import planted


@pytest.fixture(scope="module")
def trained():
    frame = planted(700, seed=5)
    return frame, train(TrainingSet(frame, ("visits", "channel")), TrainingConfig(folds=2))


def test_artifact_round_trips_to_identical_predictions(trained, tmp_path: Path) -> None:
    frame, report = trained
    path = tmp_path / "predictor.json"
    version = save_predictor(report.predictor, path)
    loaded = load_predictor(path)
    assert version == report.predictor.version == loaded.version
    np.testing.assert_array_equal(loaded.predict(frame), report.predictor.predict(frame))
    assert loaded.metrics == report.predictor.metrics
    assert loaded.probability_grades == report.predictor.probability_grades
    assert loaded.blend.encodings == report.predictor.blend.encodings
    assert save_predictor(loaded, tmp_path / "again.json") == version


def test_unseen_and_missing_categories_still_predict(trained) -> None:
    frame, report = trained
    odd = frame.head(3).with_columns(channel=np.array(["podcast", None, "webinar"], dtype=object))
    p = report.predictor.predict(odd)
    assert np.all((p > 0) & (p < 1))


def test_an_edited_artifact_is_refused(trained, tmp_path: Path) -> None:
    _, report = trained
    path = tmp_path / "predictor.json"
    save_predictor(report.predictor, path)
    data = json.loads(path.read_text())
    data["calibration"]["intercept"] += 1
    path.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="changed after training"):
        load_predictor(path)


def test_something_else_is_not_a_predictor(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text('{"format": "leadgate-model"}')
    with pytest.raises(ArtifactError, match="not a leadgate predictor"):
        load_predictor(path)
    path.write_text("{oops")
    with pytest.raises(ArtifactError, match="not JSON"):
        load_predictor(path)


def test_an_older_format_is_refused_with_a_hint_to_retrain(trained, tmp_path: Path) -> None:
    from leadgate.learn.predictor import content_version

    _, report = trained
    path = tmp_path / "predictor.json"
    save_predictor(report.predictor, path)
    data = json.loads(path.read_text())
    data["format_version"] = 1
    data["version"] = content_version({k: v for k, v in data.items() if k != "version"})
    path.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="format v1") as error:
        load_predictor(path)
    assert "retrain" in (error.value.hint or "")
