"""``generate_dataset``: accounts, leads, events and outcomes that tell one consistent story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

from leadgate.exceptions import UsageError
from leadgate.synth._common import to_epoch_us
from leadgate.synth.accounts import generate_accounts
from leadgate.synth.contacts import build_leads, draw_people
from leadgate.synth.events import generate_events
from leadgate.synth.journeys import plan_journeys
from leadgate.synth.outcomes import build_outcomes, discovery_answers, talked_to

DEFAULT_AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SyntheticDataset:
    """A generated B2B funnel: four frames and the moment they end."""

    accounts: pl.DataFrame
    leads: pl.DataFrame
    events: pl.DataFrame
    outcomes: pl.DataFrame
    as_of: datetime  # tz-aware UTC; end of the generated period


def _check(
    accounts: int, leads_per_account: float, events_per_lead: float, months: int, as_of: datetime
) -> None:
    problems = []
    if accounts < 1:
        problems.append("accounts must be at least 1")
    if not leads_per_account > 0:
        problems.append("leads_per_account must be positive")
    if not events_per_lead >= 0:
        problems.append("events_per_lead must not be negative")
    if months < 1:
        problems.append("months must be at least 1")
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        problems.append("as_of must be timezone-aware")
    if problems:
        raise UsageError(
            "Cannot generate synthetic data: " + "; ".join(problems) + ".",
            hint="e.g. generate_dataset(accounts=2000, as_of=datetime(2026, 10, 1, tzinfo=UTC))",
        )


def generate_dataset(
    *,
    accounts: int = 2000,
    leads_per_account: float = 6.0,
    events_per_lead: float = 20.0,
    months: int = 12,
    as_of: datetime = DEFAULT_AS_OF,
    seed: int = 7,
) -> SyntheticDataset:
    """Generate a realistic, deterministic synthetic B2B lead dataset.

    Args:
        accounts: Number of companies.
        leads_per_account: Average leads per company (about 8% more sign up with free e-mail).
        events_per_lead: Average behavioural events per lead (heavy-tailed).
        months: Length of the period leads are created in, ending at ``as_of``.
        as_of: End of the period (tz-aware); no lead or event is later.
        seed: Seed; the same arguments always give identical frames.

    Returns:
        The accounts, leads, events and outcomes frames.

    Raises:
        UsageError: If an argument is out of range or ``as_of`` is naive.
    """
    _check(accounts, leads_per_account, events_per_lead, months, as_of)
    as_of = as_of.astimezone(UTC)
    as_of_us = to_epoch_us(as_of)
    streams = np.random.SeedSequence(seed).spawn(7)
    acc_rng, people_rng, plan_rng, lead_rng, answer_rng, talk_rng, event_rng = (
        np.random.Generator(np.random.PCG64(s)) for s in streams
    )
    n_leads = max(1, round(accounts * leads_per_account))

    account_frame, traits = generate_accounts(acc_rng, accounts)
    people = draw_people(people_rng, traits, n_leads, as_of_us, months)
    plan = plan_journeys(plan_rng, people, traits, as_of_us)

    seats_known = lead_rng.random(n_leads) < (0.28 + 0.25 * plan.in_market + 0.1 * plan.trial)
    typed = np.maximum(plan.seats * lead_rng.lognormal(0.0, 0.4, n_leads), 1.0)
    leads = build_leads(lead_rng, people, account_frame["domain"], typed, seats_known)
    talked = talked_to(talk_rng, plan)
    leads = leads.with_columns(discovery_answers(answer_rng, people, plan, talked))

    events = generate_events(event_rng, plan, people.created_us, as_of_us, events_per_lead)
    return SyntheticDataset(
        accounts=account_frame,
        leads=leads,
        events=events,
        outcomes=build_outcomes(plan),
        as_of=as_of,
    )
