"""The hidden story of every lead: how well it fits, whether and when it is in market,
whether it starts a trial, gets an opportunity and wins it.

Events and outcomes are rendered from this plan, so they agree with each other: intent
comes in a burst of a few weeks, an opportunity follows the burst, and the chance of both
rises with a "true propensity" (fit x intent) that carries unobserved noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.synth._common import DAY_US, BoolArray, FloatArray, IntArray, sigmoid
from leadgate.synth.accounts import AccountTraits
from leadgate.synth.contacts import SOURCE_NAMES, People
from leadgate.synth.titles import DEPARTMENTS
from leadgate.synth.vocab import COUNTRY_CODES, INDUSTRY_NAMES

_INDUSTRY_FIT = {
    "Software": 0.9,
    "Financial Services": 0.7,
    "Professional Services": 0.6,
    "Media": 0.2,
    "Telecommunications": 0.2,
    "Insurance": 0.2,
    "Healthcare": 0.1,
    "Retail": -0.1,
    "Real Estate": -0.2,
    "Energy": -0.2,
    "Education": -0.7,
    "Government": -0.9,
    "Non-profit": -1.0,
}
# c_level, vp, director, manager, senior_ic, ic, entry; the last entry is "no title"
_SENIORITY_FIT = np.array([0.5, 0.9, 0.8, 0.4, 0.0, -0.4, -3.0, -0.2])
_DEPARTMENT_FIT = {
    "executive": 0.4,
    "sales": 0.5,
    "marketing": 0.5,
    "revenue_operations": 0.6,
    "customer_success": 0.0,
    "data": 0.0,
    "product": 0.0,
    "engineering": -0.2,
    "it": -0.2,
    "education": -1.0,
}
_SOURCE_INTENT = {
    "referral": 0.5,
    "partner": 0.4,
    "direct": 0.3,
    "event": 0.2,
    "webinar": 0.2,
    "organic_search": 0.1,
    "paid_search": 0.1,
    "paid_social": -0.3,
    "content_syndication": -0.6,
}
_CORE_COUNTRIES = ("US", "CA", "GB", "DE", "NL", "SE", "AU", "FR")


@dataclass(frozen=True)
class Plan:
    """Per-lead hidden state; times are epoch microseconds, meaningful where flagged."""

    fit: FloatArray  # observable fit + latent noise (logit scale)
    excluded: BoolArray  # competitors and students never get an opportunity
    in_market: BoolArray
    burst_start_us: IntArray
    burst_end_us: IntArray
    burst_strength: FloatArray  # how many tracked burst events, relative
    hand_raise: BoolArray  # a demo request / contact-sales form before the opportunity
    hand_raise_us: IntArray
    trial: BoolArray
    trial_us: IntArray
    trial_end_us: IntArray
    has_opp: BoolArray
    opp_us: IntArray
    closed: BoolArray
    won: BoolArray
    closed_us: IntArray
    seats: FloatArray  # how many seats the company would really buy
    amount: FloatArray


def observable_fit(people: People, acc: AccountTraits) -> FloatArray:
    """The part of a lead's propensity that its attributes reveal (logit scale)."""
    linked = people.account >= 0
    safe = np.maximum(people.account, 0)
    industry = np.array([_INDUSTRY_FIT.get(name, 0.0) for name in INDUSTRY_NAMES])
    emp = np.nan_to_num(people.employees, nan=0.0)
    size = np.select(
        [emp < 1, emp < 20, emp < 50, emp < 200, emp <= 5000, emp <= 20000],
        [0.0, -0.8, -0.4, 0.1, 0.8, 0.3],
        -0.1,
    )
    department = np.array([_DEPARTMENT_FIT.get(d, -0.5) for d in DEPARTMENTS] + [0.0])
    core = np.isin(np.array(COUNTRY_CODES), _CORE_COUNTRIES)
    fit: FloatArray = size + _SENIORITY_FIT[people.seniority] + department[people.department]
    fit += np.where(core[people.country], 0.2, -0.1) - 1.0 * people.is_free
    fit += np.where(linked, industry[acc.industry[safe]], 0.0)
    fit += np.where(linked, 0.35 * acc.has_crm[safe] + 0.15 * acc.uses_rival[safe], 0.0)
    return fit


def _days(rng: np.random.Generator, shape: float, scale: float, n: int) -> IntArray:
    return (rng.gamma(shape, scale, n) * DAY_US).astype(np.int64)


def plan_journeys(
    rng: np.random.Generator, people: People, acc: AccountTraits, as_of_us: int
) -> Plan:
    """Decide every lead's hidden journey."""
    n = len(people.created_us)
    created = people.created_us
    life = as_of_us - created
    fit = observable_fit(people, acc) + rng.normal(0.0, 0.8, n)
    excluded = people.is_competitor | people.is_student
    source = np.array([_SOURCE_INTENT.get(s, 0.0) for s in SOURCE_NAMES])[people.source]

    p_market = sigmoid(-2.4 + 0.75 * fit + source)
    p_market = np.where(people.is_competitor, 0.6, p_market)
    in_market = rng.random(n) < p_market
    at_signup = rng.random(n) < 0.4  # many sign up because they are already shopping
    start = created + np.where(at_signup, rng.random(n) * 2 * DAY_US, rng.random(n) * life)
    start = np.minimum(start.astype(np.int64), as_of_us)
    end = start + (7 * DAY_US) + _days(rng, 2.0, 7.0, n)
    strength = rng.lognormal(0.0, 0.8, n) * np.exp(0.25 * np.clip(fit, -2, 3))
    dark = rng.random(n) < 0.35  # researches on review sites and peers: few tracked events

    noise = rng.normal(0.0, 1.0, n)
    p_opp = sigmoid(-3.8 + 0.8 * fit + 0.6 * np.log(strength) + noise)
    opp_in_market = in_market & (rng.random(n) < p_opp)
    outbound = ~in_market & (rng.random(n) < 0.007 * np.exp(0.6 * np.clip(fit, -3, 3)))
    opp_us = np.where(
        in_market,
        start + ((end - start) * rng.uniform(0.5, 1.0, n)).astype(np.int64),
        created + (rng.random(n) * life).astype(np.int64),
    ) + _days(rng, 1.5, 3.0, n)
    has_opp = (opp_in_market | outbound) & ~excluded & (opp_us <= as_of_us)

    raise_hand = rng.random(n) < np.where(has_opp, np.where(in_market, 0.5, 0.15), 0.2)
    hand_raise = raise_hand & (has_opp | in_market)
    hand_raise_us = np.where(has_opp, opp_us, end) - _days(rng, 1.0, 2.0, n)
    hand_raise_us = np.clip(hand_raise_us, np.where(in_market, start, created), as_of_us)

    p_trial = sigmoid(-4.0 + 0.4 * fit + 1.4 * in_market + 0.6 * has_opp)
    p_trial = np.where(people.is_student, 0.05, np.where(people.is_competitor, 0.3, p_trial))
    trial = rng.random(n) < p_trial
    trial_us = np.where(
        in_market,
        start + ((end - start) * rng.random(n)).astype(np.int64),
        created + (rng.random(n) * life).astype(np.int64),
    )
    trial_us = np.minimum(trial_us, as_of_us)
    trial_len = (3 * DAY_US) + _days(rng, 1.5, 12.0, n) * np.where(has_opp, 2, 1)
    trial_end = np.minimum(trial_us + trial_len, as_of_us)

    seats = _true_seats(rng, people)
    cycle = (14 * DAY_US) + (_days(rng, 2.0, 16.0, n) * (1 + 0.2 * np.log10(seats))).astype(
        np.int64
    )
    closed_us = opp_us + cycle
    closed = has_opp & (closed_us <= as_of_us)
    p_win = sigmoid(-3.9 + 0.7 * fit + 0.5 * np.log(strength) + 0.8 * trial + 0.4 * noise)
    won = closed & (rng.random(n) < p_win)
    price = 900.0 * rng.lognormal(0.0, 0.25, n)
    amount = np.round(np.maximum(seats * price, 3000.0), -2).astype(np.float64)
    return Plan(
        fit=fit,
        excluded=excluded,
        in_market=in_market,
        burst_start_us=start,
        burst_end_us=np.minimum(end, as_of_us),
        burst_strength=strength * np.where(dark, 0.15, 1.0),
        hand_raise=hand_raise,
        hand_raise_us=hand_raise_us,
        trial=trial,
        trial_us=trial_us,
        trial_end_us=trial_end,
        has_opp=has_opp,
        opp_us=opp_us,
        closed=closed,
        won=won,
        closed_us=closed_us,
        seats=seats,
        amount=amount,
    )


def _true_seats(rng: np.random.Generator, people: People) -> FloatArray:
    """Seats the company would license: a few percent of head-count, a handful if unknown."""
    n = len(people.employees)
    share = rng.lognormal(np.log(0.04), 0.6, n)
    company = np.clip(np.nan_to_num(people.employees, nan=0.0) * share, 3, 5000)
    solo = rng.integers(1, 11, n).astype(np.float64)
    return np.where(people.is_free, solo, np.round(company))
