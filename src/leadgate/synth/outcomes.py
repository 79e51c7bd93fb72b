"""Opportunities and the discovery answers sales recorded for the leads it talked to."""

from __future__ import annotations

import numpy as np
import polars as pl

from leadgate.model import columns as c
from leadgate.synth._common import (
    BoolArray,
    FloatArray,
    IntArray,
    datetimes,
    numbers,
    sigmoid,
    strings,
)
from leadgate.synth.contacts import People
from leadgate.synth.journeys import Plan

BOOLEAN_ANSWERS: tuple[str, ...] = (
    "budget",
    "authority",
    "metrics",
    "economic_buyer",
    "decision_criteria",
    "decision_process",
    "identified_pain",
    "champion",
)
NEED, TIMELINE = "need", "timeline"
DISCOVERY_COLUMNS: tuple[str, ...] = (
    "budget",
    "authority",
    NEED,
    TIMELINE,
    "metrics",
    "economic_buyer",
    "decision_criteria",
    "decision_process",
    "identified_pain",
    "champion",
)
TIMELINES: tuple[str, ...] = ("this quarter", "next quarter", "6-12 months", "12+ months")
# Offsets on the answer-quality logit, per question.
_OFFSET = {
    "budget": -0.2,
    "authority": 0.0,
    "metrics": -0.4,
    "economic_buyer": -0.5,
    "decision_criteria": 0.0,
    "decision_process": -0.5,
    "identified_pain": 0.5,
    "champion": -0.1,
}
# How much say a title's seniority gives: c_level, vp, director, manager, senior_ic, ic,
# entry, no title.
_SAY = np.array([1.2, 1.2, 0.6, -0.2, -0.8, -1.2, -2.0, -0.6])


def talked_to(rng: np.random.Generator, plan: Plan) -> BoolArray:
    """Leads sales held a discovery call with: every opportunity plus accepted leads."""
    u = rng.random(len(plan.fit))
    accepted = ~plan.excluded & ((plan.in_market & (u < 0.35)) | (u < 0.025))
    return plan.has_opp | accepted


def discovery_answers(
    rng: np.random.Generator, people: People, plan: Plan, talked: BoolArray
) -> list[pl.Series]:
    """BANT / MEDDIC answers, null unless sales talked to the lead (~10-15% of leads).

    Won deals mostly have budget, authority, need >= 4 and a near timeline; leads that
    never became an opportunity mostly do not.
    """
    n = len(plan.fit)
    status = np.select([plan.won, plan.closed, plan.has_opp], [1.6, -0.1, 0.6], -0.9)
    quality = status + 0.3 * np.clip(plan.fit, -3, 3) + rng.normal(0.0, 0.6, n)
    say = _SAY[people.seniority]
    out: dict[str, pl.Series] = {}
    for name in BOOLEAN_ANSWERS:
        logit = quality + _OFFSET[name] + (say if name in ("authority", "economic_buyer") else 0)
        known = talked & (rng.random(n) >= 0.08)
        out[name] = numbers(rng.random(n) < sigmoid(logit), name, pl.Boolean(), mask=known)
    need = np.clip(np.round(3.0 + 0.9 * quality + rng.normal(0.0, 0.7, n)), 1, 5)
    out[NEED] = numbers(
        need.astype(np.int64), NEED, pl.Int64(), mask=talked & (rng.random(n) >= 0.05)
    )
    urgency = quality + rng.normal(0.0, 0.8, n)
    horizon = np.digitize(-urgency, [-1.3, -0.5, 0.0, 0.4])  # 4 = no timeline given
    out[TIMELINE] = strings(
        TIMELINES, np.minimum(horizon, 3), TIMELINE, mask=talked & (horizon < 4)
    )
    return [out[name] for name in DISCOVERY_COLUMNS]


def build_outcomes(plan: Plan) -> pl.DataFrame:
    """One row per lead with an opportunity: when, how big, won / lost / open."""
    rows: IntArray = np.flatnonzero(plan.has_opp)
    closed = plan.closed[rows]
    amount: FloatArray = plan.amount[rows]
    return pl.DataFrame(
        [
            pl.Series(c.LEAD_ID, rows + 1, dtype=pl.Int64),
            datetimes(plan.opp_us[rows], c.OPPORTUNITY_CREATED_AT),
            pl.Series(c.AMOUNT, amount, dtype=pl.Float64),
            numbers(plan.won[rows], c.WON, pl.Boolean(), mask=closed),
            datetimes(plan.closed_us[rows], c.CLOSED_AT, mask=closed),
        ]
    )
