"""What is built from a model is kept per key, and served only for the model it came from."""

from __future__ import annotations

import copy
import dataclasses

from leadgate.model.cache import ModelCache
from leadgate.model.compiled import QualificationModel


class Builds:
    """A builder that counts its calls and returns a fresh object each time."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return object()


def test_the_same_or_an_equal_model_is_served_what_was_built(
    small_model: QualificationModel,
) -> None:
    cache: ModelCache[object] = ModelCache(4)
    build = Builds()
    first = cache.get(small_model.version, small_model, build)
    assert cache.get(small_model.version, small_model, build) is first
    assert cache.get(small_model.version, copy.deepcopy(small_model), build) is first
    assert build.calls == 1


def test_other_content_under_the_same_version_is_built_again(
    small_model: QualificationModel,
) -> None:
    cache: ModelCache[object] = ModelCache(4)
    build = Builds()
    first = cache.get(small_model.version, small_model, build)
    changed = dataclasses.replace(small_model, description="another model, same version")
    second = cache.get(small_model.version, changed, build)
    assert second is not first
    assert build.calls == 2
    assert cache.get(small_model.version, changed, build) is second
    assert len(cache) == 1


def test_the_least_recently_used_key_makes_room(small_model: QualificationModel) -> None:
    cache: ModelCache[object] = ModelCache(2)
    build = Builds()
    a = cache.get("a", small_model, build)
    cache.get("b", small_model, build)
    assert cache.get("a", small_model, build) is a  # "a" is now the most recent
    cache.get("c", small_model, build)  # "b" makes room
    assert len(cache) == 2
    assert cache.get("a", small_model, build) is a
    assert build.calls == 3
    cache.get("b", small_model, build)
    assert build.calls == 4
    cache.clear()
    assert len(cache) == 0
