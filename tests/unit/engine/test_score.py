"""The engine on a small hand-checked scenario: every number below was computed by hand."""

from __future__ import annotations

import math

import polars as pl
import pytest

from leadgate.engine import score
from leadgate.exceptions import InputDataError, UsageError
from testkit import AS_OF, make_accounts, make_events, make_leads, ts

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
            "email": "Ann@Acme.com",
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
        {
            "lead_id": 2,
            "account_id": 1,
            "email": "bob@acme.com",
            "title": "Director of Marketing",
            "country": "DE",
        },
        {
            "lead_id": 3,
            "account_id": 2,
            "email": "carl@gmail.com",
            "title": "Engineer",
            "phone": "+49",
            "country": "CA",
        },
        {"lead_id": 4, "email": "x@rival.com", "title": "Chief Executive Officer"},
        {
            "lead_id": 5,
            "account_id": 1,
            "email": "e@acme.com",
            "title": "Data Analyst",
            "budget": True,
            "authority": True,
            "need": 5,
            "timeline": "now",
        },
    ]
)
EVENTS = make_events(
    [
        (1, "page_view", ts(31, 8), "/pricing"),
        (1, "page_view", ts(31, 9), "/pricing?plan=team"),
        (1, "page_view", ts(31, 10), "/PRICING"),
        (1, "page_view", ts(21, 9), "/pricing"),
        (1, "page_view", ts(31, 13), "/pricing"),  # after as_of: ignored
        (1, "page_view", ts(30), "/blog/x"),
        (1, "form_submit", ts(28), None),
        (1, "form_submit", ts(20), None),  # 11 days old: outside the 7-day window
        (1, "email_open", ts(30), None),
        (1, "email_open", ts(26), None),
        (1, "email_open", ts(21), None),  # age 10: linear decay reached 0
        *[(1, "product_login", ts(d), None) for d in (1, 5, 9, 12, 20)],
        (2, "email_open", ts(31, 6), None),
        (2, "unsubscribe", ts(15), None),
        (3, "page_view", ts(29), "/pricing"),
        (3, "email_open", ts(30), None),
        (4, "form_submit", ts(31, 10), None),
        *[(5, "product_login", ts(d), None) for d in (2, 3, 4)],
    ]
)


@pytest.fixture(scope="module")
def result(small_model):
    return score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)


def row(result, lead_id: int) -> dict[str, object]:
    return result.leads.filter(pl.col("lead_id") == lead_id).row(0, named=True)


@pytest.mark.parametrize(
    ("lead_id", "fit", "engagement", "product"),
    [
        (1, 59.0, 56.4, 20.0),
        (2, 42.0, -5.0, 0.0),
        (3, -7.0, 9.61, 0.0),
        (4, 12.0, 30.0, 0.0),
        (5, 36.0, 0.0, 15.0),
    ],
)
def test_scores_match_hand_computation(result, lead_id, fit, engagement, product):
    r = row(result, lead_id)
    assert (r["fit_score"], r["engagement_score"], r["product_score"]) == (fit, engagement, product)


@pytest.mark.parametrize(
    ("lead_id", "segment", "persona", "role", "grade", "temperature", "stage", "value"),
    [
        (1, "ent", "buyer", "decision_maker", "A1", "hot", "sql", 1000.0),
        (2, "ent", "champ", "champion", "A4", "warm", "new", 50000.0),
        (3, "smb", None, None, "D3", "warm", "iql", 1000.0),
        (4, "smb", "buyer", "decision_maker", "C1", "hot", "disqualified", 1000.0),
        (5, "ent", None, None, "B4", "cold", "pql", 50000.0),
    ],
)
def test_labels_match_hand_computation(
    result, lead_id, segment, persona, role, grade, temperature, stage, value
):
    r = row(result, lead_id)
    assert (r["segment"], r["persona"], r["buying_role"]) == (segment, persona, role)
    assert (r["grade"], r["temperature"], r["stage"]) == (grade, temperature, stage)
    assert r["potential_value"] == value


def test_exclusion_reason_and_normalised_fields(result):
    r = row(result, 4)
    assert r["is_excluded"] is True
    assert r["exclusion_reason"] == "competitor"
    assert r["email_domain"] == "rival.com"
    assert row(result, 1)["email_domain"] == "acme.com"
    assert row(result, 3)["is_free_email"] is True
    assert row(result, 1)["seniority"] == "vp"
    assert row(result, 1)["department"] == "sales"


def test_crm_seniority_and_department_win_over_the_title(small_model, result):
    given = ["intern", None, "", None, None, None][: LEADS.height]
    leads = LEADS.with_columns(
        pl.Series("seniority", given, dtype=pl.String),
        pl.Series("department", ["Finance", *[None] * (LEADS.height - 1)], dtype=pl.String),
    )
    crm = score(leads, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    first = crm.leads.filter(pl.col("lead_id") == 1).row(0, named=True)
    assert (first["seniority"], first["department"]) == ("intern", "finance")
    assert first["persona"] != row(result, 1)["persona"]  # no longer the vp "buyer"
    others = pl.col("lead_id") != 1
    columns = ["lead_id", "seniority", "department", "persona", "fit_score"]
    assert (
        crm.leads.filter(others).select(columns).equals(result.leads.filter(others).select(columns))
    )


def test_numbers_given_as_text_score_the_same(small_model, result):
    text = LEADS.with_columns(
        pl.col("seats").cast(pl.String).fill_null(""),
        pl.col("lead_id").cast(pl.String),
    )
    events = EVENTS.with_columns(pl.col("lead_id").cast(pl.String))
    accounts = ACCOUNTS.with_columns(pl.col("employees").cast(pl.String))
    again = score(text, accounts, events, small_model, as_of=AS_OF)
    columns = ["fit_score", "segment", "grade", "stage"]
    assert again.leads.select(columns).equals(result.leads.select(columns))


def test_text_that_is_not_a_number_is_reported_with_its_row(small_model):
    text = LEADS.with_columns(pl.col("seats").cast(pl.String))
    text = text.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("lots")).otherwise("seats").alias("seats")
    )
    with pytest.raises(InputDataError) as raised:
        score(text, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    (problem,) = raised.value.problems
    assert problem.code == "bad_type"
    assert (problem.location.file, problem.location.row, problem.location.field) == (
        "leads",
        3,
        "seats",
    )
    assert "'lots'" in problem.message


def test_missing_required_field_blocks_the_higher_stage(result):
    r = row(result, 5)  # passes BANT but has no phone: SQL is blocked, PQL holds
    assert r["stage"] == "pql"
    assert r["missing_fields"] == "phone"
    assert row(result, 1)["missing_fields"] is None


def test_framework_status(result):
    r1, r2 = row(result, 1), row(result, 2)
    assert (r1["fw_bant_met"], r1["fw_bant_missing"], r1["fw_bant_passed"]) == (4, None, True)
    assert (r1["fw_custom_met"], r1["fw_custom_passed"]) == (2, True)
    assert r2["fw_bant_met"] == 0
    assert r2["fw_bant_missing"] == "budget,authority,need,timeline"
    assert r2["fw_bant_passed"] is False
    assert r2["fw_custom_passed"] is False


def test_ledger_rows_for_decay_daily_cap_and_rule_cap(result):
    ledger = result.ledger.filter(pl.col("lead_id") == 1)
    pricing = ledger.filter(pl.col("rule_id") == "pricing").row(0, named=True)
    # day 0: 3 views, 2 counted x 10; day -10: 1 view x 10 x 0.5 => 25 (at the cap)
    assert pricing["event_count"] == 3
    assert pricing["raw_points"] == 30.0
    assert math.isclose(pricing["decay_factor"], 2.5 / 3)
    assert pricing["points"] == 25.0
    demo = ledger.filter(pl.col("rule_id") == "demo").row(0, named=True)
    assert (demo["event_count"], demo["points"]) == (1, 30.0)
    opens = ledger.filter(pl.col("rule_id") == "opens").row(0, named=True)
    assert (opens["event_count"], opens["points"]) == (2, 1.4)
    logins = ledger.filter(pl.col("rule_id") == "logins").row(0, named=True)
    assert (logins["raw_points"], logins["points"]) == (25.0, 20.0)


def test_floor_adjustment_row(result):
    ledger = result.ledger.filter((pl.col("lead_id") == 2) & (pl.col("rule_kind") == "engagement"))
    points = dict(zip(ledger["rule_id"], ledger["points"], strict=True))
    assert points == {"opens": 1.0, "unsubscribed": -15.0, "engagement_floor": 9.0}


def test_ledger_sums_equal_scores(result):
    sums = result.ledger.group_by("lead_id").agg(
        [
            pl.col("points").filter(pl.col("rule_kind") == kind).sum().round(2).alias(kind)
            for kind in ("fit", "engagement", "product")
        ]
    )
    joined = result.leads.join(sums, on="lead_id", how="left").fill_null(0.0)
    assert joined["fit_score"].to_list() == joined["fit"].to_list()
    assert joined["engagement_score"].to_list() == joined["engagement"].to_list()
    assert joined["product_score"].to_list() == joined["product"].to_list()


def test_top_reasons_in_words(result):
    reasons = row(result, 1)["top_reasons"]
    assert reasons.split("; ")[:2] == ["+30.0 demo (1 event)", "+25.0 pricing (3 events)"]


def test_account_rollup_and_coverage(result):
    acc = result.accounts.sort("account_id").rows_by_key("account_id", named=True, unique=True)
    a1 = acc[1]
    assert (a1["contact_count"], a1["engaged_contacts"]) == (3, 1)
    assert a1["account_score"] == 28.2  # mean of the top 2 of [56.4, 0, -5]
    assert (a1["roles_present"], a1["roles_missing"], a1["role_coverage"]) == (
        "decision_maker",
        "champion",
        0.5,
    )
    assert a1["is_mqa"] is False
    assert (acc[2]["account_score"], acc[2]["role_coverage"]) == (9.61, 0.0)


def test_mqa_when_buying_group_is_covered(small_model):
    events = pl.concat([EVENTS, make_events([(2, "form_submit", ts(30), None)])])
    out = score(LEADS, ACCOUNTS, events, small_model, as_of=AS_OF)
    a1 = out.accounts.filter(pl.col("account_id") == 1).row(0, named=True)
    assert a1["role_coverage"] == 1.0
    assert a1["is_mqa"] is True


def test_inputs_are_not_mutated(small_model):
    before = (LEADS.clone(), EVENTS.clone(), ACCOUNTS.clone())
    score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    assert LEADS.equals(before[0])
    assert EVENTS.equals(before[1])
    assert ACCOUNTS.equals(before[2])


def test_without_explanation_scores_are_identical(small_model, result):
    quick = score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF, explain_points=False)
    assert quick.ledger is None
    cols = ["lead_id", "fit_score", "engagement_score", "product_score", "stage", "grade"]
    assert quick.leads.select(cols).equals(result.leads.select(cols))


def test_result_carries_model_version(result, small_model):
    assert result.leads["model_version"].unique().to_list() == [small_model.version]
    assert result.accounts["model_version"].unique().to_list() == [small_model.version]


def test_naive_as_of_is_refused(small_model):
    with pytest.raises(UsageError, match="time zone"):
        score(LEADS, ACCOUNTS, EVENTS, small_model, as_of=AS_OF.replace(tzinfo=None))


def test_missing_column_is_reported_with_suggestion(small_model):
    leads = LEADS.rename({"phone": "phone_number"})
    with pytest.raises(InputDataError) as info:
        score(leads, ACCOUNTS, EVENTS, small_model, as_of=AS_OF)
    (problem,) = info.value.problems
    assert problem.location.field == "phone"
    assert "phone_number" in problem.hint


def test_naive_event_timestamps_are_refused(small_model):
    events = EVENTS.with_columns(pl.col("occurred_at").dt.replace_time_zone(None))
    with pytest.raises(InputDataError, match="problem"):
        score(LEADS, ACCOUNTS, events, small_model, as_of=AS_OF)


def test_categorical_event_properties_score_the_same(small_model, result):
    events = EVENTS.with_columns(
        pl.col("url").cast(pl.Categorical), pl.col("event_type").cast(pl.Categorical)
    )
    out = score(LEADS, ACCOUNTS, events, small_model, as_of=AS_OF)
    assert out.leads["engagement_score"].to_list() == result.leads["engagement_score"].to_list()


def test_no_events_and_no_accounts(small_model):
    out = score(LEADS, None, None, small_model, as_of=AS_OF)
    assert out.leads["engagement_score"].to_list() == [0.0] * 5
    assert out.accounts.height == 0


def test_dictionary_resolution_of_text_tests_changes_no_result(monkeypatch):
    """Text tests run once per distinct value on big frames; the answers must be identical."""
    import importlib

    from leadgate.engine.inputs import check_inputs
    from leadgate.model.loader import load_model
    from leadgate.synth import generate_dataset
    from testkit import EXAMPLE_MODEL

    engine_plan = importlib.import_module("leadgate.engine.plan")
    monkeypatch.setattr(engine_plan, "RESOLVE_MIN_ROWS", 100)  # resolve on this small frame
    data = generate_dataset(accounts=150, leads_per_account=6, events_per_lead=8)
    model = load_model(EXAMPLE_MODEL)
    args = (data.leads, data.accounts, data.events, model)
    inputs = check_inputs(model, data.leads, data.accounts, data.events)
    plan = engine_plan.ScorePlan(
        model, engine_plan.Shape.of(model, inputs, None), explain_points=True
    )
    base = plan.base(plan.lead_input(inputs.leads, data.as_of), inputs.accounts.lazy())
    resolved_fields = engine_plan.lead_strings(model, base.collect())
    assert {"country", "seniority", "department"} <= set(resolved_fields)
    fast = score(*args, as_of=data.as_of)
    monkeypatch.setattr(engine_plan, "lead_strings", lambda _model, _frame: {})
    monkeypatch.setattr(engine_plan.ScorePlan, "event_plan", lambda plan, _events: plan.events)
    plain = score(*args, as_of=data.as_of)
    assert fast.leads.equals(plain.leads)
    assert fast.accounts.equals(plain.accounts)
