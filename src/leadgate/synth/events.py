"""Behavioural events rendered from the hidden journeys, fully vectorised.

Four parts: ordinary engagement for every lead (heavy-tailed counts, front-loaded after
sign-up, e-mail events on weekly campaign sends), buying bursts (pricing, demo and compare
pages over a few weeks), hand-raises and trials, and product usage for trial leads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from leadgate.model import columns as c
from leadgate.synth import catalog as k
from leadgate.synth._common import (
    DAY_US,
    HOUR_US,
    BoolArray,
    FloatArray,
    IntArray,
    categorical,
    choose,
    datetimes,
)
from leadgate.synth.journeys import Plan

URL, FORM, ASSET, FEATURE = "url", "form", "asset", "feature"
ByteArray = npt.NDArray[np.uint8]
_Part = tuple[IntArray, IntArray, IntArray, ByteArray]  # lead index, type, time, detail code
BURST_SHARE, PRODUCT_SHARE = 0.08, 0.205  # ordinary engagement fills the rest
_MAX_PER_LEAD = 1500


def _counts(rng: np.random.Generator, weight: FloatArray, total: float) -> IntArray:
    """Poisson counts whose expectations are ``weight`` scaled to sum to ``total``."""
    mass = weight.sum()
    if mass <= 0 or total <= 0:
        return np.zeros(len(weight), dtype=np.int64)
    counts: IntArray = np.minimum(rng.poisson(weight * (total / mass)), _MAX_PER_LEAD)
    return counts


def _details(
    rng: np.random.Generator,
    etype: IntArray,
    urls: Sequence[float],
    forms: Sequence[float],
    assets: Sequence[float],
) -> ByteArray:
    """The url / form / asset / feature code of each event (0 where it has none)."""
    detail = np.zeros(len(etype), dtype=np.uint8)
    for code, weights in (
        (k.PAGE_VIEW, urls),
        (k.FORM_SUBMIT, forms),
        (k.CONTENT_DOWNLOAD, assets),
        (k.FEATURE_USED, k.FEATURE_WEIGHTS),
    ):
        where = np.flatnonzero(etype == code)
        detail[where] = choose(rng, weights, len(where))
    return detail


def _campaign_snap(rng: np.random.Generator, t: IntArray, as_of_us: int) -> IntArray:
    """Move e-mail events to the first weekly send (Tuesday 15:00 UTC) after ``t``."""
    first_tuesday = (int(t.min()) // DAY_US) // 7 * 7 + 5  # day 5 after a Thursday epoch week
    sends = np.arange(first_tuesday, as_of_us // DAY_US + 8, 7) * DAY_US + 15 * HOUR_US
    nxt = sends[np.minimum(np.searchsorted(sends, t), len(sends) - 1)]
    snapped = nxt + (rng.exponential(6.0, len(t)) * HOUR_US).astype(np.int64)
    return np.where((nxt >= t) & (snapped <= as_of_us), snapped, t)


def _base(
    rng: np.random.Generator, plan: Plan, created: IntArray, total: float, as_of: int
) -> _Part:
    n = len(created)
    weight = rng.lognormal(0.0, 1.3, n) * np.exp(0.15 * np.clip(plan.fit, -3, 3))
    counts = np.maximum(_counts(rng, weight, total), 1)
    lead = np.repeat(np.arange(n), counts)
    etype = choose(rng, k.TYPE_WEIGHTS_BASE, len(lead))
    u = rng.random(len(lead))
    u = np.where(rng.random(len(lead)) < 0.5, u**2.5, u)  # half front-loaded after sign-up
    start = created[lead]
    t = start + ((as_of - start) * u).astype(np.int64)
    t[np.cumsum(counts) - counts] = created  # the first touch is the sign-up itself
    mail = np.flatnonzero(np.isin(etype, k.EMAIL_TYPES))
    if len(mail):
        t[mail] = _campaign_snap(rng, t[mail], as_of)
    detail = _details(rng, etype, k.URL_WEIGHTS_BASE, k.FORM_WEIGHTS_BASE, k.ASSET_WEIGHTS_BASE)
    return lead, etype, t, detail


def _burst(rng: np.random.Generator, plan: Plan, total: float) -> _Part:
    weight = np.where(plan.in_market, plan.burst_strength, 0.0)
    counts = _counts(rng, weight, total)
    lead = np.repeat(np.arange(len(counts)), counts)
    etype = choose(rng, k.TYPE_WEIGHTS_BURST, len(lead))
    start = plan.burst_start_us[lead]
    length = plan.burst_end_us[lead] - start
    t = start + (length * rng.random(len(lead))).astype(np.int64)
    urls, forms, assets = k.URL_WEIGHTS_BURST, k.FORM_WEIGHTS_BURST, k.ASSET_WEIGHTS_BURST
    return lead, etype, t, _details(rng, etype, urls, forms, assets)


def _milestones(rng: np.random.Generator, plan: Plan, created: IntArray) -> _Part:
    """Hand-raise forms, trial sign-up forms and ``trial_started`` events."""
    raised = np.flatnonzero(plan.hand_raise)
    form = np.where(rng.random(len(raised)) < 0.7, k.DEMO_REQUEST, k.CONTACT_SALES)
    trial = np.flatnonzero(plan.trial)
    trial_form = trial[rng.random(len(trial)) < 0.7]
    minutes = (rng.random(len(trial_form)) * 10 * 60_000_000).astype(np.int64)
    form_t = np.maximum(plan.trial_us[trial_form] - minutes, created[trial_form])
    lead = np.concatenate([raised, trial_form, trial])
    etype = np.concatenate(
        [
            np.full(len(raised) + len(trial_form), k.FORM_SUBMIT),
            np.full(len(trial), k.TRIAL_STARTED),
        ]
    )
    t = np.concatenate([plan.hand_raise_us[raised], form_t, plan.trial_us[trial]])
    detail = np.concatenate([form, np.full(len(trial_form), k.FREE_TRIAL), np.zeros(len(trial))])
    return lead, etype, t, detail.astype(np.uint8)


def _product(rng: np.random.Generator, plan: Plan, total: float) -> _Part:
    days = (plan.trial_end_us - plan.trial_us) / DAY_US
    weight = np.where(plan.trial, rng.lognormal(0.0, 1.0, len(days)) * (1.0 + days), 0.0)
    weight *= np.where(plan.has_opp, 1.5, 1.0)
    counts = _counts(rng, weight, total)
    lead = np.repeat(np.arange(len(counts)), counts)
    etype = choose(rng, k.TYPE_WEIGHTS_PRODUCT, len(lead))
    start = plan.trial_us[lead]
    span = plan.trial_end_us[lead] - start
    t = start + (span * rng.random(len(lead)) ** 1.7).astype(np.int64)
    no_weights: tuple[float, ...] = (1.0,)
    return lead, etype, t, _details(rng, etype, no_weights, no_weights, no_weights)


def generate_events(
    rng: np.random.Generator,
    plan: Plan,
    created_us: IntArray,
    as_of_us: int,
    events_per_lead: float,
) -> pl.DataFrame:
    """Render the events frame (ids ``1..n`` in generation order, not sorted by time)."""
    n = len(created_us)
    total = n * events_per_lead
    parts = [
        _milestones(rng, plan, created_us),
        _burst(rng, plan, BURST_SHARE * total),
        _product(rng, plan, PRODUCT_SHARE * total),
    ]
    fixed = sum(len(p[0]) for p in parts)
    parts.insert(0, _base(rng, plan, created_us, max(total - fixed, 0.0), as_of_us))
    lead = np.concatenate([p[0] for p in parts])
    etype = np.concatenate([p[1] for p in parts]).astype(np.uint8)
    t = np.concatenate([p[2] for p in parts])
    detail = np.concatenate([p[3] for p in parts])
    del parts
    t = np.clip(t, created_us[lead], as_of_us)
    is_type: dict[int, BoolArray] = {
        code: etype == code
        for code in (k.PAGE_VIEW, k.FORM_SUBMIT, k.CONTENT_DOWNLOAD, k.FEATURE_USED)
    }
    return pl.DataFrame(
        [
            pl.Series(c.EVENT_ID, np.arange(1, len(lead) + 1, dtype=np.int64)),
            pl.Series(c.LEAD_ID, lead + 1, dtype=pl.Int64),
            categorical(k.EVENT_TYPES, etype, c.EVENT_TYPE),
            datetimes(t, c.OCCURRED_AT),
            categorical(k.URLS, detail, URL, mask=is_type[k.PAGE_VIEW]),
            categorical(k.FORMS, detail, FORM, mask=is_type[k.FORM_SUBMIT]),
            categorical(k.ASSETS, detail, ASSET, mask=is_type[k.CONTENT_DOWNLOAD]),
            categorical(k.FEATURES, detail, FEATURE, mask=is_type[k.FEATURE_USED]),
        ]
    )
