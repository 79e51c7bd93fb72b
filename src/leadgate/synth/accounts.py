"""Fake companies: names, unique domains, industry, size, revenue, country and tech stack."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from leadgate.model import columns as c
from leadgate.synth._common import BoolArray, IntArray, choose, strings
from leadgate.synth.naming import company_names, unique_domains, university_names
from leadgate.synth.techstack import tech_stack
from leadgate.synth.vocab import (
    COMPETITORS,
    COUNTRY_CODES,
    COUNTRY_WEIGHTS,
    EDUCATION,
    INDUSTRIES,
    INDUSTRY_NAMES,
)

NORMAL, UNIVERSITY, COMPETITOR = 0, 1, 2
TECH_STACK = "tech_stack"


@dataclass(frozen=True)
class AccountTraits:
    """Hidden per-account facts the lead, event and outcome generators build on."""

    industry: IntArray
    employees: IntArray
    country: IntArray
    kind: IntArray
    has_crm: BoolArray
    uses_rival: BoolArray


def _kinds(rng: np.random.Generator, n: int) -> IntArray:
    kind = np.full(n, NORMAL, dtype=np.int64)
    n_comp = min(len(COMPETITORS), max(1, round(0.003 * n))) if n >= 100 else 0
    n_univ = round(0.01 * n)
    perm = rng.permutation(n)
    kind[perm[:n_comp]] = COMPETITOR
    kind[perm[n_comp : n_comp + n_univ]] = UNIVERSITY
    return kind


_AFFINITY = {"Software": 1.4, "Financial Services": 1.2, "Government": 0.6, "Non-profit": 0.6}


def generate_accounts(rng: np.random.Generator, n: int) -> tuple[pl.DataFrame, AccountTraits]:
    """Generate ``n`` accounts and their hidden traits.

    Args:
        rng: Random generator.
        n: Number of accounts.

    Returns:
        The accounts frame and the traits the other generators use.
    """
    kind = _kinds(rng, n)
    is_univ, is_comp = kind == UNIVERSITY, kind == COMPETITOR
    industry = choose(rng, [i.weight for i in INDUSTRIES], n)
    industry[is_univ] = EDUCATION
    industry[is_comp] = INDUSTRY_NAMES.index("Software")
    country = choose(rng, COUNTRY_WEIGHTS, n)
    country[is_univ] = COUNTRY_CODES.index("US")
    median = np.array([i.median_employees for i in INDUSTRIES])[industry]
    size = median * rng.lognormal(0.0, 1.45, n)
    size = np.where(is_univ, rng.lognormal(np.log(2500), 0.8, n), size)
    employees = np.clip(np.round(size), 5, 100_000).astype(np.int64)
    comp_code = np.cumsum(is_comp) - 1  # 0, 1, ... along the competitor rows
    comp_rows = np.flatnonzero(is_comp)
    country[comp_rows] = [COUNTRY_CODES.index(COMPETITORS[i][2]) for i in range(len(comp_rows))]
    employees[comp_rows] = [COMPETITORS[i][3] for i in range(len(comp_rows))]
    per_employee = np.array([i.revenue_per_employee for i in INDUSTRIES])[industry]
    revenue = np.round(employees * per_employee * rng.lognormal(0.0, 0.4, n), -3)

    ordinary = company_names(rng, industry, country)
    univ = university_names(rng, n)
    comp_names = strings([r[0] for r in COMPETITORS], comp_code, "name", mask=is_comp)
    comp_domains = strings([r[1] for r in COMPETITORS], comp_code, "domain", mask=is_comp)
    pick_univ = pl.Series(is_univ)
    named = pl.DataFrame(
        {
            "name": pl.select(pl.when(pick_univ).then(univ["name"]).otherwise(ordinary["name"])),
            "base": pl.select(pl.when(pick_univ).then(univ["base"]).otherwise(ordinary["base"])),
            "tld": pl.select(pl.when(pick_univ).then(univ["tld"]).otherwise(ordinary["tld"])),
        }
    )
    domain = unique_domains(named)
    affinity = np.array([_AFFINITY.get(name, 1.0) for name in INDUSTRY_NAMES])[industry]
    stack, has_crm, uses_rival = tech_stack(rng, employees, affinity)
    frame = pl.DataFrame(
        [
            pl.Series(c.ACCOUNT_ID, np.arange(1, n + 1, dtype=np.int64)),
            comp_names.fill_null(named["name"]).alias(c.ACCOUNT_NAME),
            comp_domains.fill_null(domain).alias(c.DOMAIN),
            strings(INDUSTRY_NAMES, industry, c.INDUSTRY),
            pl.Series(c.EMPLOYEES, employees, dtype=pl.Int64),
            pl.Series(c.ANNUAL_REVENUE, revenue, dtype=pl.Float64),
            strings(COUNTRY_CODES, country, c.COUNTRY),
            stack.alias(TECH_STACK),
        ]
    )
    traits = AccountTraits(industry, employees, country, kind, has_crm, uses_rival)
    return frame, traits
