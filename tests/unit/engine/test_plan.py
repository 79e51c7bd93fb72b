"""The plan cache: a cached plan scores exactly like a fresh one, and never for another model."""

from __future__ import annotations

import dataclasses
import importlib
from datetime import datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from leadgate.engine import score
from leadgate.engine.inputs import check_inputs
from leadgate.engine.normalize import TitleMemo, title_classes
from leadgate.model.compiler import compile_spec
from leadgate.model.loader import parse_spec
from testkit import AS_OF, SMALL_MODEL, make_accounts, make_events, make_leads, ts

plan_module = importlib.import_module("leadgate.engine.plan")

ACCOUNTS = make_accounts(
    [
        {"account_id": 1, "industry": "Software", "employees": 2000, "revenue": 5e6},
        {"account_id": 2, "industry": "Government", "employees": 50, "revenue": 50_000.0},
    ]
)
LEADS = make_leads(
    [
        {
            "lead_id": 1,
            "account_id": 1,
            "email": "ann@acme.com",
            "title": "VP of Sales",
            "phone": "+1 415",
            "country": "US",
            "seats": 10,
            "budget": True,
            "authority": True,
            "need": 4,
            "timeline": "Q2",
            "pain_known": True,
            "team_size": 12,
        },
        {"lead_id": 2, "account_id": 1, "email": "bob@acme.com", "title": "Director"},
        {"lead_id": 3, "account_id": 2, "email": "c@gmail.com", "title": "Engineer"},
        {"lead_id": 4, "email": "x@rival.com", "title": "Chief Executive Officer"},
    ]
)
EVENTS = make_events(
    [
        (1, "page_view", ts(31, 8), "/pricing"),
        (1, "page_view", ts(31, 9), "/pricing?plan=team"),
        (1, "page_view", ts(31, 10), "/PRICING"),
        (1, "page_view", ts(21, 9), "/pricing"),
        (1, "form_submit", ts(28), None),
        (1, "email_open", ts(30), None),
        (1, "email_open", ts(26), None),
        *[(1, "product_login", ts(d), None) for d in (1, 5, 9, 12, 20)],
        (2, "email_open", ts(31, 6), None),
        (2, "unsubscribe", ts(15), None),
        (3, "page_view", ts(29), "/pricing"),
        (3, "email_open", ts(31, 11), None),
    ]
)
# before every event, on a day boundary, mid-month, the scenario's moment, long after
MOMENTS = [
    ts(1, 0) - timedelta(days=3),
    ts(21, 0),
    ts(26, 17),
    AS_OF,
    AS_OF + timedelta(days=45),
]


def fresh(
    model: object, leads: pl.DataFrame, accounts: pl.DataFrame | None, events, as_of, explain
):
    """Score through a plan built for this call alone (never from the cache)."""
    column = as_of if isinstance(as_of, str) else None
    inputs = check_inputs(model, leads, accounts, events, as_of_column=column)
    shape = plan_module.Shape.of(model, inputs, column)
    plan = plan_module.ScorePlan(model, shape, explain_points=explain)
    return plan.run(inputs, as_of)


def assert_same(result, expected) -> None:
    leads, ledger, accounts = expected
    assert_frame_equal(result.leads, leads)
    assert_frame_equal(result.accounts, accounts)
    if ledger is None:
        assert result.ledger is None
    else:
        order = ["lead_id", "rule_kind", "rule_id"]
        assert_frame_equal(result.ledger.sort(order), ledger.sort(order))


@pytest.fixture(autouse=True)
def empty_cache():
    plan_module.clear_plans()
    yield
    plan_module.clear_plans()


@pytest.fixture(scope="module")
def other_model():
    """The small model with other points: same shape of inputs, another version."""
    text = SMALL_MODEL.replace(
        "points: 20, when: {field: account.industry", "points: 7, when: {field: account.industry"
    )
    assert text != SMALL_MODEL
    return compile_spec(parse_spec(text, "other.yaml"))


@pytest.mark.parametrize("explain", [True, False])
def test_cached_plan_scores_every_moment_like_a_fresh_one(small_model, explain):
    score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=MOMENTS[0], explain_points=explain)
    for moment in MOMENTS:
        cached = score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=moment, explain_points=explain)
        assert_same(cached, fresh(small_model, LEADS, ACCOUNTS, EVENTS, moment, explain))
    assert plan_module.cached_plans() == 1  # one plan served every moment


def test_moments_change_the_scores(small_model):
    """The plan holds no moment: scoring at other moments gives other answers."""
    early, late = (score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=m) for m in MOMENTS[1:4:2])
    assert early.leads["engagement_score"].to_list() != late.leads["engagement_score"].to_list()
    assert early.leads["as_of"].to_list() == [MOMENTS[1]] * LEADS.height
    assert late.leads["as_of"].to_list() == [MOMENTS[3]] * LEADS.height


@pytest.mark.parametrize(
    "variant",
    [
        "extra_columns",
        "no_email",
        "categorical_text",
        "no_accounts",
        "no_events",
        "string_ids",
        "per_lead_moments",
    ],
)
def test_each_input_shape_gets_a_plan_that_scores_like_a_fresh_one(small_model, variant):
    leads, accounts, events, as_of = LEADS, ACCOUNTS, EVENTS, AS_OF
    if variant == "extra_columns":
        leads = leads.with_columns(pl.lit("x").alias("crm_note"), pl.lit(3).alias("score_v1"))
        events = events.with_columns(pl.lit(1).alias("session"))
    elif variant == "no_email":  # an optional column the model does not read itself
        leads = leads.drop("email")
    elif variant == "categorical_text":
        leads = leads.with_columns(pl.col("title", "country").cast(pl.Categorical))
        events = events.with_columns(pl.col("url", "event_type").cast(pl.Categorical))
    elif variant == "no_accounts":
        accounts = None
    elif variant == "no_events":
        events = None
    elif variant == "string_ids":
        leads = leads.with_columns(pl.col("lead_id", "account_id").cast(pl.String))
        accounts = accounts.with_columns(pl.col("account_id").cast(pl.String))
        events = events.with_columns(pl.col("lead_id").cast(pl.String))
    elif variant == "per_lead_moments":
        moments = [AS_OF - timedelta(days=d) for d in (0, 3, 10, 40)]
        leads = leads.with_columns(pl.Series("decided_at", moments).dt.cast_time_unit("us"))
        as_of = "decided_at"
    # warm the cache with the plain shape first: the variant must not be served its plan
    score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    for _ in range(2):  # built, then from the cache
        cached = score(leads, accounts, events, small_model, as_of=as_of)
        assert_same(cached, fresh(small_model, leads, accounts, events, as_of, True))
    # columns the model does not read make no new shape
    assert plan_module.cached_plans() == (1 if variant == "extra_columns" else 2)


def test_extra_columns_share_the_plan_of_the_columns_read(small_model):
    score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    score(LEADS.with_columns(pl.lit(1).alias("unused")), ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    assert plan_module.cached_plans() == 1


def test_a_plan_is_never_served_for_another_model_version(small_model, other_model):
    assert other_model.version != small_model.version
    first = score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    other = score(LEADS, ACCOUNTS, EVENTS, other_model, as_of=AS_OF)
    assert_same(other, fresh(other_model, LEADS, ACCOUNTS, EVENTS, AS_OF, True))
    assert other.leads["fit_score"].to_list() != first.leads["fit_score"].to_list()
    assert set(other.leads["model_version"]) == {other_model.version}
    again = score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    assert_same(again, (first.leads, first.ledger, first.accounts))


def test_a_plan_is_never_served_for_other_content_under_the_same_version(small_model):
    """A model whose content differs from its version string still gets its own plan."""
    rules = tuple(dataclasses.replace(r, points=r.points + 1) for r in small_model.fit_rules)
    forged = dataclasses.replace(small_model, fit_rules=rules)
    assert forged.version == small_model.version
    score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    out = score(LEADS, ACCOUNTS, EVENTS, forged, as_of=AS_OF)
    assert_same(out, fresh(forged, LEADS, ACCOUNTS, EVENTS, AS_OF, True))


def test_an_equal_model_object_reuses_the_plan(small_model):
    copy = compile_spec(parse_spec(SMALL_MODEL, "small.yaml"))
    assert copy is not small_model
    assert copy == small_model
    first = plan_module.plan_for(
        small_model,
        check_inputs(small_model, LEADS, ACCOUNTS, EVENTS),
        as_of_column=None,
        explain_points=True,
    )
    second = plan_module.plan_for(
        copy, check_inputs(copy, LEADS, ACCOUNTS, EVENTS), as_of_column=None, explain_points=True
    )
    assert second is first


def test_explain_flag_and_cache_bound(small_model, monkeypatch):
    score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF, explain_points=True)
    score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF, explain_points=False)
    assert plan_module.cached_plans() == 2
    monkeypatch.setattr(plan_module._plans, "size", 2)
    score(LEADS.drop("email"), ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    assert plan_module.cached_plans() == 2  # the least recently used plan made room


@pytest.mark.parametrize("explain", [True, False])
@pytest.mark.parametrize("path", ["staged", "fused"])
def test_large_inputs_score_like_small_ones(small_model, monkeypatch, explain, path):
    """The staged path of large inputs (dictionary-resolved text tests, streaming event
    queries, daily-capped rules collected one at a time), the single query of mid-size ones
    (resolved text tests) and the single query of small ones give the same answers, with
    and without the ledger."""
    small = score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF, explain_points=explain)
    monkeypatch.setattr(plan_module, "RESOLVE_MIN_ROWS", 1)
    if path == "staged":
        monkeypatch.setattr(plan_module, "FUSED_MAX_EVENTS", 0)
    runs = spy_runs(monkeypatch)
    large = score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF, explain_points=explain)
    assert runs == ["_run_large" if path == "staged" else "_run_fused"]
    assert_same(large, (small.leads, small.ledger, small.accounts))


def spy_runs(monkeypatch) -> list[str]:
    """The names of the plan's run methods called from now on."""
    calls: list[str] = []
    for name in ("_run_fused", "_run_large"):
        method = getattr(plan_module.ScorePlan, name)

        def spy(self, *args, _name=name, _method=method):
            calls.append(_name)
            return _method(self, *args)

        monkeypatch.setattr(plan_module.ScorePlan, name, spy)
    return calls


@pytest.fixture(scope="module")
def synthetic():
    from leadgate.synth import generate_dataset

    return generate_dataset(accounts=60, leads_per_account=6, events_per_lead=10, seed=5)


@pytest.fixture(scope="module")
def example_model():
    from leadgate.model.loader import load_model
    from testkit import EXAMPLE_MODEL

    return load_model(EXAMPLE_MODEL)


@pytest.mark.parametrize("explain", [True, False])
@pytest.mark.parametrize("variant", ["as_given", "text_properties", "per_lead_moments"])
def test_mid_size_inputs_score_like_small_and_staged_ones(
    example_model, synthetic, monkeypatch, explain, variant
):
    """Mid-size inputs run in one query with resolved text tests (on the leads too once
    they are many); the answers are those of the small query and of the staged path."""
    leads, events, as_of = synthetic.leads, synthetic.events, synthetic.as_of
    if variant == "text_properties":
        events = events.with_columns(pl.col(pl.Categorical).cast(pl.String))
    elif variant == "per_lead_moments":
        moments = pl.lit(as_of) - pl.duration(days=pl.col("lead_id") % 50)
        leads = leads.with_columns(moments.dt.cast_time_unit("us").alias("decided_at"))
        as_of = "decided_at"
    args = (leads, synthetic.accounts, events, example_model)
    small = score(*args, as_of=as_of, explain_points=explain)
    expected = (small.leads, small.ledger, small.accounts)
    monkeypatch.setattr(plan_module, "RESOLVE_MIN_ROWS", 100)  # leads and events are "large"
    assert leads.height >= 100
    runs = spy_runs(monkeypatch)
    for _ in range(2):  # resolved plans built, then kept
        assert_same(score(*args, as_of=as_of, explain_points=explain), expected)
    monkeypatch.setattr(plan_module, "FUSED_MAX_LEADS", 0)
    assert_same(score(*args, as_of=as_of, explain_points=explain), expected)
    assert runs == ["_run_fused", "_run_fused", "_run_large"]


def test_growing_events_with_new_values_score_like_a_fresh_plan(
    example_model, synthetic, monkeypatch
):
    """A service keeps scoring with one plan while events bring new property values (a new
    page, a new form): every call answers like a plan built for it alone."""
    monkeypatch.setattr(plan_module, "RESOLVE_MIN_ROWS", 100)
    events = synthetic.events.with_columns(pl.col(pl.Categorical).cast(pl.String))
    urls = events.get_column("url").drop_nulls().unique().sort()
    steps = [urls.head(0), urls.head(urls.len() // 2), urls]
    for step, seen in enumerate(steps):
        # events whose url is not seen yet are left out (their other properties stay)
        part = events.filter(pl.col("url").is_null() | pl.col("url").is_in(seen.implode()))
        if step == len(steps) - 1:  # and a value no rule has met before
            extra = part.head(3).with_columns(pl.lit("/pricing/enterprise").alias("url"))
            part = pl.concat([part, extra])
        args = (synthetic.leads, synthetic.accounts, part, example_model)
        cached = score(*args, as_of=synthetic.as_of)
        assert_same(cached, fresh(example_model, *args[:3], synthetic.as_of, True))
    assert plan_module.cached_plans() == 1


def test_title_memo_gives_the_query_s_classification():
    titles = pl.Series(["VP of Sales", "Chief Executive Officer", None, "  ", "Data Analyst"])
    expected = title_classes(pl.DataFrame({"title": titles}).lazy()).collect().sort("title")
    memo = TitleMemo()
    assert_frame_equal(memo.classes(titles).sort("title"), expected)
    assert len(memo) == 4
    assert_frame_equal(memo.classes(titles).sort("title"), expected)  # from the memo
    assert_frame_equal(
        memo.classes(titles.head(1)), expected.filter(pl.col("title") == "VP of Sales")
    )


def test_title_memo_stays_bounded():
    memo = TitleMemo(limit=3)
    memo.classes(pl.Series(["Engineer", "Director", "Analyst"]))
    memo.classes(pl.Series(["Founder", "Intern"]))
    assert len(memo) <= 3


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    minutes=st.lists(st.integers(-40 * 24 * 60, 60 * 24 * 60), min_size=2, max_size=4),
    explain=st.booleans(),
)
def test_cached_plan_equals_fresh_plan_for_any_moments(small_model, minutes, explain):
    for offset in minutes:
        moment: datetime = AS_OF - timedelta(minutes=offset)
        cached = score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=moment, explain_points=explain)
        assert_same(cached, fresh(small_model, LEADS, ACCOUNTS, EVENTS, moment, explain))
