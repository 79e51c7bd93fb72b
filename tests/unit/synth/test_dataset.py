"""The synthetic B2B generator: deterministic, consistent, and carrying a real signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from leadgate.engine.freemail import FREE_EMAIL_DOMAINS
from leadgate.engine.score import score
from leadgate.exceptions import UsageError
from leadgate.model.loader import load_model
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def data():
    return generate_dataset(accounts=400, leads_per_account=5, events_per_lead=15, as_of=AS_OF)


def test_same_seed_gives_identical_frames_and_another_seed_does_not(data):
    again = generate_dataset(accounts=400, leads_per_account=5, events_per_lead=15, as_of=AS_OF)
    for name in ("accounts", "leads", "events", "outcomes"):
        assert getattr(again, name).equals(getattr(data, name)), name
    other = generate_dataset(
        accounts=400, leads_per_account=5, events_per_lead=15, as_of=AS_OF, seed=8
    )
    assert not other.leads.equals(data.leads)


def test_sizes_follow_the_arguments(data):
    assert data.accounts.height == 400
    assert data.leads.height == 2000
    assert 0.6 * 15 * 2000 < data.events.height < 1.4 * 15 * 2000
    assert data.as_of == AS_OF


def test_ids_are_unique_and_references_resolve(data):
    assert data.accounts["account_id"].is_unique().all()
    assert data.leads["lead_id"].is_unique().all()
    assert data.events["event_id"].is_unique().all()
    linked = data.leads.filter(pl.col("account_id").is_not_null())
    assert linked["account_id"].is_in(data.accounts["account_id"].implode()).all()
    assert data.events["lead_id"].is_in(data.leads["lead_id"].implode()).all()
    assert data.outcomes["lead_id"].is_in(data.leads["lead_id"].implode()).all()


def test_free_mail_signups_have_no_account_and_company_mail_matches_the_account(data):
    leads = data.leads.with_columns(
        pl.col("email").str.to_lowercase().str.extract(r"@(.+)$").alias("domain")
    )
    free = leads.filter(pl.col("domain").is_in(sorted(FREE_EMAIL_DOMAINS)))
    assert 0.03 * leads.height < free.height < 0.2 * leads.height
    assert free["account_id"].null_count() == free.height
    company = leads.filter(pl.col("account_id").is_not_null()).join(
        data.accounts.select("account_id", pl.col("domain").alias("account_domain")),
        on="account_id",
    )
    matches = (company["domain"] == company["account_domain"]).mean()
    assert matches is not None
    assert matches > 0.95  # a few addresses are deliberately dirty


def test_time_is_consistent(data):
    assert data.leads["created_at"].max() <= AS_OF
    assert data.leads["created_at"].min() >= AS_OF - timedelta(days=370)
    joined = data.events.join(data.leads.select("lead_id", "created_at"), on="lead_id")
    assert joined["occurred_at"].max() <= AS_OF
    early = joined.filter(pl.col("occurred_at") < pl.col("created_at") - timedelta(days=120))
    assert early.height == 0
    closed = data.outcomes.filter(pl.col("closed_at").is_not_null())
    assert (closed["closed_at"] >= closed["opportunity_created_at"]).all()
    assert closed["closed_at"].max() <= AS_OF
    assert (data.outcomes["amount"].drop_nulls() > 0).all()


def test_won_deals_only_among_closed_and_realistic_rates(data):
    opp_rate = data.outcomes.height / data.leads.height
    assert 0.01 < opp_rate < 0.2
    won = data.outcomes.filter(pl.col("won"))
    assert won["closed_at"].null_count() == 0
    win_rate = won.height / max(1, data.outcomes["won"].drop_nulls().len())
    assert 0.1 < win_rate < 0.6


def test_the_example_model_ranks_future_opportunities_higher(data):
    """Outcomes follow fit and intent, so a sensible rule model must find the signal."""
    model = load_model(EXAMPLE_MODEL)
    result = score(data.leads, data.accounts, data.events, model, as_of=AS_OF)
    opp = data.outcomes.select("lead_id", pl.lit(True).alias("converted"))
    scored = result.leads.join(opp, on="lead_id", how="left").with_columns(
        pl.col("converted").fill_null(False),
        (pl.col("fit_score") + pl.col("engagement_score")).alias("total"),
    )
    # ROC AUC from ranks: the chance a converted lead outscores a non-converted one.
    ranks = scored["total"].rank()
    pos = scored["converted"]
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    auc = (ranks.filter(pos).sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    assert auc > 0.7
    assert set(result.leads["stage"]) >= {"new", "mql", "sql", "disqualified"}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"accounts": 0}, "accounts must be at least 1"),
        ({"leads_per_account": 0}, "leads_per_account must be positive"),
        ({"months": 0}, "months must be at least 1"),
        ({"as_of": datetime(2026, 1, 1)}, "as_of must be timezone-aware"),
    ],
)
def test_bad_arguments_are_refused_with_a_hint(kwargs, fragment):
    with pytest.raises(UsageError) as info:
        generate_dataset(**kwargs)
    assert fragment in str(info.value)
    assert info.value.hint
