"""Text tests resolved against the values seen so far: same rows as the tests themselves,
and a plan built again only when a frame brings a value not classified yet."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_series_equal

from leadgate.engine.conditions import ExprContext, to_expr
from leadgate.engine.resolution import Resolved, ResolvedPlans, distinct_values
from leadgate.model.compiled import FieldTest

URL_TESTS = [
    FieldTest(field="url", op="contains", value="/pricing"),
    FieldTest(field="url", op="matches", value="^/blog/"),
    FieldTest(field="url", op="ne", value="/careers"),
]
FORM_TESTS = [FieldTest(field="form", op="in", value=("Demo", "contact"))]
TESTS = URL_TESTS + FORM_TESTS
URLS = ["/pricing", "/PRICING?x=1", "/blog/a", "/careers", "/about", "/blog/pricing", ""]
FORMS = ["demo", "Contact", "trial"]


class Recorder:
    """A build function that keeps what it was given."""

    def __init__(self) -> None:
        self.built: list[Resolved] = []

    def __call__(self, resolved: Resolved) -> Resolved:
        self.built.append(resolved)
        return resolved


def frame(urls: list[str | None], forms: list[str | None] | None = None) -> pl.DataFrame:
    forms = forms if forms is not None else [None] * len(urls)
    return pl.DataFrame({"url": urls, "form": forms}, schema={"url": pl.String, "form": pl.String})


def assert_same_rows(resolved: Resolved, data: pl.DataFrame) -> None:
    """Each test, resolved, holds for exactly the rows the test itself holds for."""
    for test in TESTS:
        direct = data.select(to_expr(test, ExprContext())).to_series()
        fast = data.select(to_expr(test, ExprContext(resolved=resolved))).to_series()
        assert_series_equal(fast, direct)


def test_a_plan_is_kept_while_no_new_value_arrives():
    build = Recorder()
    memo = ResolvedPlans(TESTS, build)
    first = frame(["/pricing", "/about", None], ["demo", None, "trial"])
    plan = memo.plan(distinct_values(first, ["url", "form"]))
    assert len(build.built) == 1
    again = frame(["/about", "/about", "/pricing"], ["trial", None, None])
    assert memo.plan(distinct_values(again, ["url", "form"])) is plan  # nothing new
    assert len(build.built) == 1
    assert_same_rows(plan, again)


def test_a_new_value_builds_a_plan_that_still_knows_the_old_ones():
    build = Recorder()
    memo = ResolvedPlans(TESTS, build)
    memo.plan(distinct_values(frame(["/pricing", "/about"]), ["url", "form"]))
    newer = frame(["/blog/a", "/PRICING?x=1", "/careers", None])
    plan = memo.plan(distinct_values(newer, ["url", "form"]))
    assert len(build.built) == 2
    pricing = plan["url"][URL_TESTS[0]].to_list()
    assert sorted(pricing) == ["/PRICING?x=1", "/pricing"]  # the first frame's value is kept
    assert_same_rows(plan, newer)
    # an earlier frame is served by the newer plan, with the same answers
    earlier = frame(["/pricing", "/about", "/blog/a"])
    assert memo.plan(distinct_values(earlier, ["url", "form"])) is plan
    assert_same_rows(plan, earlier)


@settings(max_examples=60, deadline=None)
@given(
    frames=st.lists(
        st.lists(
            st.tuples(st.sampled_from([*URLS, None]), st.sampled_from([*FORMS, None])),
            max_size=12,
        ),
        min_size=1,
        max_size=6,
    ),
    limit=st.sampled_from([2, 4, 100]),
)
def test_any_sequence_of_frames_gets_the_rows_of_the_tests_themselves(frames, limit):
    """Whatever came before (and however small the memo), a frame's resolved tests hold
    for exactly the rows the tests hold for; the known values never exceed the limit."""
    memo = ResolvedPlans(TESTS, Recorder(), limit=limit)
    for rows in frames:
        data = frame([u for u, _ in rows], [f for _, f in rows])
        assert_same_rows(memo.plan(distinct_values(data, ["url", "form"])), data)
        known = memo._known
        assert known is None or all(len(v) <= limit for v in known.values.values())


def test_a_frame_with_more_values_than_the_limit_gets_its_own_plan():
    build = Recorder()
    memo = ResolvedPlans(TESTS, build, limit=3)
    data = frame(URLS)
    first = memo.plan(distinct_values(data, ["url", "form"]))
    second = memo.plan(distinct_values(data, ["url", "form"]))
    assert first is not second  # not kept: every such frame resolves its own values
    assert memo._known is None
    assert_same_rows(second, data)


def test_categorical_columns_resolve_in_their_own_type():
    data = frame(URLS, [*FORMS, *FORMS, None]).with_columns(pl.col("url").cast(pl.Categorical))
    memo = ResolvedPlans(TESTS, Recorder())
    plan = memo.plan(distinct_values(data, ["url", "form"]))
    assert plan["url"][URL_TESTS[0]].dtype == pl.Categorical
    assert_same_rows(plan, data)


def test_another_set_of_resolved_fields_builds_afresh():
    build = Recorder()
    memo = ResolvedPlans(TESTS, build)
    data = frame(["/pricing"], ["demo"])
    both = memo.plan(distinct_values(data, ["url", "form"]))
    url_only = memo.plan(distinct_values(data, ["url"]))
    assert set(both) == {"url", "form"}
    assert set(url_only) == {"url"}  # the form tests run as they are
    assert len(build.built) == 2
    assert_same_rows(url_only, data)


def test_distinct_values_reads_text_columns_and_dictionaries():
    data = pl.DataFrame(
        {
            "url": ["/a", None, "/b", "/a"],
            "form": pl.Series(["x", "y", None, "x"], dtype=pl.Enum(["x", "y", "z"])),
            "seats": [1, 2, 3, 4],
        }
    )
    found = distinct_values(data, ["url", "form", "seats", "absent"])
    assert sorted(found["url"].to_list()) == ["/a", "/b"]
    assert found["form"].to_list() == ["x", "y", "z"]  # an Enum's whole dictionary
    assert set(found) == {"url", "form"}
