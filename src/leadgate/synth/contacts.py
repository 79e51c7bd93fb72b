"""Leads (contacts): who signed up, from which company, when and through which channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from leadgate.model import columns as c
from leadgate.synth._common import (
    DAY_US,
    HOUR_US,
    BoolArray,
    FloatArray,
    IntArray,
    choose,
    datetimes,
    numbers,
    strings,
)
from leadgate.synth.accounts import COMPETITOR, UNIVERSITY, AccountTraits
from leadgate.synth.names import FIRST_EMAIL, FIRST_NAMES, LAST_EMAIL, LAST_NAMES
from leadgate.synth.titles import TITLE_DEPARTMENT, TITLE_SENIORITY, TITLES, pick_titles
from leadgate.synth.vocab import COUNTRIES, COUNTRY_WEIGHTS, FREE_MAIL

SEATS = "seats"
SOURCES: tuple[tuple[str, float], ...] = (
    ("organic_search", 24.0),
    ("paid_search", 14.0),
    ("paid_social", 10.0),
    ("direct", 12.0),
    ("referral", 6.0),
    ("email", 7.0),
    ("event", 7.0),
    ("partner", 4.0),
    ("webinar", 8.0),
    ("content_syndication", 8.0),
)
SOURCE_NAMES: tuple[str, ...] = tuple(s for s, _ in SOURCES)
FREE_MAIL_SHARE = 0.08
# Lead sign-ups by UTC hour: European afternoons and American mornings.
_HOURS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 10, 11, 11, 10, 9, 7, 6, 5, 3, 2, 1.0])


@dataclass(frozen=True)
class People:
    """Per-lead facts drawn before any behaviour: ids are ``index + 1``, ordered by creation."""

    account: IntArray  # index into the accounts, -1 for a free e-mail sign-up
    created_us: IntArray
    title: IntArray  # index into TITLE_TABLE, -1 when missing
    seniority: IntArray  # index into SENIORITIES, -1 when the title is missing
    department: IntArray
    first: IntArray
    last: IntArray
    country: IntArray
    source: IntArray
    employees: FloatArray  # the account's size, NaN without an account
    is_free: BoolArray
    is_student: BoolArray
    is_competitor: BoolArray
    is_university: BoolArray


def _assign_accounts(rng: np.random.Generator, acc: AccountTraits, n: int) -> IntArray:
    """Account index per lead: bigger companies get more leads; ~8% have no account."""
    n_acc = len(acc.employees)
    n_linked = n - round(FREE_MAIL_SHARE * n) if n_acc else 0
    weight = acc.employees**0.4 * rng.lognormal(0.0, 0.6, n_acc)
    weight *= np.where(acc.kind == UNIVERSITY, 2.5, 1.0) * np.where(acc.kind == COMPETITOR, 3, 1)
    base = np.arange(n_acc) if n_linked >= n_acc else np.empty(0, dtype=np.int64)
    rest = choose(rng, weight, n_linked - len(base)) if n_acc else np.empty(0, dtype=np.int64)
    account = np.concatenate([base, rest, np.full(n - n_linked, -1)]).astype(np.int64)
    return rng.permutation(account)


def _created(rng: np.random.Generator, n: int, as_of_us: int, months: int) -> IntArray:
    """Sorted sign-up times over ``months``: growing volume, weekdays, business hours."""
    span_days = int(months * 30.44)
    k = 0.7  # lead volume doubles over the period
    age = -np.log1p(-rng.random(n) * (1.0 - np.exp(-k))) / k
    day = as_of_us // DAY_US - np.floor(age * span_days).astype(np.int64)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weekend = (weekday >= 5) & (rng.random(n) < 0.7)
    day = np.where(weekend, day - weekday + rng.integers(0, 5, n), day)  # most -> a weekday
    hour = choose(rng, _HOURS, n)
    us = day * DAY_US + hour * HOUR_US + (rng.random(n) * HOUR_US).astype(np.int64)
    us = np.minimum(us, as_of_us - (rng.random(n) * HOUR_US).astype(np.int64))
    return np.sort(us)


def draw_people(
    rng: np.random.Generator, acc: AccountTraits, n: int, as_of_us: int, months: int
) -> People:
    """Draw ``n`` leads' hidden and visible attributes (before any behaviour)."""
    account = _assign_accounts(rng, acc, n)
    linked = account >= 0
    safe = np.maximum(account, 0)
    kind = np.where(linked, acc.kind[safe], -1)
    employees = np.where(linked, acc.employees[safe].astype(np.float64), np.nan)
    context = np.select(
        [~linked, kind == UNIVERSITY, employees < 50, employees < 1000], [4, 3, 0, 1], 2
    )
    context = np.where(kind == COMPETITOR, 1, context)
    title = pick_titles(rng, context)
    title = np.where(rng.random(n) < 0.03, -1, title)
    seniority = np.where(title >= 0, TITLE_SENIORITY[np.maximum(title, 0)], -1)
    department = np.where(title >= 0, TITLE_DEPARTMENT[np.maximum(title, 0)], -1)
    own_country = rng.random(n) < 0.9
    country = choose(rng, COUNTRY_WEIGHTS, n)
    country = np.where(linked & own_country, acc.country[safe], country)
    source = choose(rng, [w for _, w in SOURCES], n)
    return People(
        account=account,
        created_us=_created(rng, n, as_of_us, months),
        title=title,
        seniority=seniority,
        department=department,
        first=choose(rng, np.ones(len(FIRST_NAMES)), n),
        last=choose(rng, np.ones(len(LAST_NAMES)), n),
        country=country,
        source=source,
        employees=employees,
        is_free=~linked,
        is_student=seniority == 6,  # "entry": students and interns
        is_competitor=kind == COMPETITOR,
        is_university=kind == UNIVERSITY,
    )


def _emails(rng: np.random.Generator, people: People, domains: pl.Series) -> pl.Series:
    """``first.last@company`` or a free-mail variant; repeats get a number; ~1% dirty."""
    n = len(people.first)
    free_domain = choose(rng, [w for _, w in FREE_MAIL], n)
    digits = np.where(rng.random(n) < 0.5, rng.integers(1, 100, n), rng.integers(1965, 2004, n))
    frame = pl.DataFrame(
        {
            "first": strings(FIRST_EMAIL, people.first, "first"),
            "last": strings(LAST_EMAIL, people.last, "last"),
            "sep": strings([".", "", "_"], choose(rng, [5, 3, 1], n), "sep"),
            "digits": numbers(digits, "digits", pl.String(), mask=rng.random(n) < 0.6),
            "company": domains,
            "free": strings([d for d, _ in FREE_MAIL], free_domain, "free"),
            "dirt": choose(rng, [0.99, 0.004, 0.002, 0.004], n),
        }
    )
    company = pl.col("first") + "." + pl.col("last")
    free = pl.concat_str("first", "sep", "last", pl.col("digits").fill_null(""))
    local = pl.when(pl.col("company").is_null()).then(free).otherwise(company)
    domain = pl.col("company").fill_null(pl.col("free"))
    address = frame.select(local=local, domain=domain).with_columns(
        nth=pl.int_range(pl.len()).over("local", "domain")
    )
    numbered = pl.col("local") + pl.when(pl.col("nth") > 0).then(
        (pl.col("nth") + 1).cast(pl.String)
    ).otherwise(pl.lit(""))
    clean = address.select(email=numbered + "@" + pl.col("domain"))["email"]
    dirt = pl.col("dirt")
    return frame.with_columns(email=clean).select(
        pl.when(dirt == 1)
        .then(pl.col("email").str.to_uppercase())
        .when(dirt == 2)
        .then(pl.col("email").str.to_titlecase())
        .when(dirt == 3)
        .then(pl.concat_str(pl.lit(" "), pl.col("email"), pl.lit("  ")))
        .otherwise(pl.col("email"))
        .alias(c.EMAIL)
    )[c.EMAIL]


def _phones(rng: np.random.Generator, people: People, present: BoolArray) -> pl.Series:
    """``+1 415 555 0134``-style numbers (555-01xx is reserved for fiction)."""
    n = len(people.country)
    frame = pl.DataFrame(
        {
            "dial": strings([ctry.dial for ctry in COUNTRIES], people.country, "dial"),
            "area": rng.integers(201, 990, n),
            "line": rng.integers(100, 200, n),
        }
    )
    phone = pl.format(
        "{} {} 555 {}", "dial", pl.col("area"), pl.col("line").cast(pl.String).str.zfill(4)
    )
    return frame.select(pl.when(pl.Series(present)).then(phone).alias(c.PHONE))[c.PHONE]


def build_leads(
    rng: np.random.Generator,
    people: People,
    account_domains: pl.Series,
    seats: FloatArray,
    seats_known: BoolArray,
) -> pl.DataFrame:
    """The visible leads frame (without discovery answers)."""
    n = len(people.first)
    linked = people.account >= 0
    account_ids = numbers(people.account + 1, c.ACCOUNT_ID, pl.Int64(), mask=linked)
    domains = account_domains.gather(pl.Series(np.maximum(people.account, 0)))
    domains = pl.select(pl.when(pl.Series(linked)).then(domains)).to_series()
    phone_known = rng.random(n) < np.where(people.is_free, 0.45, 0.62)
    return pl.DataFrame(
        [
            pl.Series(c.LEAD_ID, np.arange(1, n + 1, dtype=np.int64)),
            account_ids,
            _emails(rng, people, domains),
            strings(FIRST_NAMES, people.first, c.FIRST_NAME),
            strings(LAST_NAMES, people.last, c.LAST_NAME),
            strings(TITLES, people.title, c.TITLE, mask=people.title >= 0),
            _phones(rng, people, phone_known),
            strings([ctry.code for ctry in COUNTRIES], people.country, c.COUNTRY),
            strings(SOURCE_NAMES, people.source, c.SOURCE),
            datetimes(people.created_us, c.CREATED_AT),
            numbers(np.round(seats), SEATS, pl.Int64(), mask=seats_known),
        ]
    )
