"""Technographics: which tools a company runs, as a comma-separated ``tech_stack`` string."""

from __future__ import annotations

import numpy as np
import polars as pl

from leadgate.synth._common import BoolArray, FloatArray, IntArray, choose, strings

# Adoption probability by size band: < 50, 50-999, 1,000+ employees.
_CRM: dict[str, tuple[float, float, float]] = {
    "salesforce": (0.15, 0.40, 0.65),
    "hubspot": (0.33, 0.27, 0.12),
    "dynamics365": (0.03, 0.07, 0.12),
    "pipedrive": (0.10, 0.04, 0.01),
    "zoho": (0.07, 0.04, 0.01),
}
_MARKETING: dict[str, tuple[float, float, float]] = {
    "marketo": (0.02, 0.12, 0.30),
    "pardot": (0.02, 0.08, 0.12),
    "mailchimp": (0.30, 0.10, 0.02),
    "braze": (0.00, 0.03, 0.06),
}
_TOOLS: dict[str, tuple[float, float, float]] = {
    "snowflake": (0.02, 0.12, 0.30),
    "bigquery": (0.04, 0.10, 0.15),
    "databricks": (0.01, 0.05, 0.15),
    "redshift": (0.01, 0.05, 0.10),
    "segment": (0.04, 0.12, 0.15),
    "google_analytics": (0.55, 0.60, 0.55),
    "mixpanel": (0.03, 0.07, 0.05),
    "amplitude": (0.02, 0.07, 0.08),
    "outreach": (0.01, 0.10, 0.20),
    "salesloft": (0.01, 0.07, 0.15),
    "apollo": (0.08, 0.08, 0.03),
    "gong": (0.02, 0.12, 0.25),
    "zendesk": (0.10, 0.20, 0.25),
    "intercom": (0.12, 0.12, 0.05),
    "slack": (0.45, 0.50, 0.40),
    "microsoft_teams": (0.15, 0.35, 0.60),
    "rivalscore": (0.04, 0.08, 0.10),
    "leadlytics": (0.02, 0.03, 0.03),
}
WAREHOUSES = ("snowflake", "bigquery", "databricks", "redshift")


def _exclusive(
    rng: np.random.Generator, table: dict[str, tuple[float, float, float]], band: IntArray
) -> IntArray:
    """One pick per company from ``table`` (or ``len(table)`` for none), by size band."""
    out = np.zeros(len(band), dtype=np.int64)
    for b in range(3):
        where = np.flatnonzero(band == b)
        probs = [p[b] for p in table.values()]
        out[where] = choose(rng, [*probs, max(0.0, 1.0 - sum(probs))], len(where))
    return out


def tech_stack(
    rng: np.random.Generator, employees: IntArray, affinity: FloatArray
) -> tuple[pl.Series, BoolArray, BoolArray]:
    """Tech stack strings plus whether each company runs a CRM and a rival's product.

    Args:
        rng: Random generator.
        employees: Company sizes.
        affinity: Per-company multiplier on tool adoption (tech-heavy industries > 1).
    """
    n = len(employees)
    band = np.digitize(employees, [50, 1000])
    crm = _exclusive(rng, _CRM, band)
    mkt = _exclusive(rng, _MARKETING, band)
    parts = [
        strings(list(_CRM), np.minimum(crm, len(_CRM) - 1), "crm", mask=crm < len(_CRM)),
        strings(
            list(_MARKETING),
            np.minimum(mkt, len(_MARKETING) - 1),
            "mkt",
            mask=mkt < len(_MARKETING),
        ),
    ]
    flags: dict[str, BoolArray] = {}
    for tool, probs in _TOOLS.items():
        p = np.minimum(np.asarray(probs)[band] * affinity, 0.95)
        flags[tool] = rng.random(n) < p
        parts.append(strings([tool], np.zeros(n, dtype=np.int64), tool, mask=flags[tool]))
    known = rng.random(n) >= 0.07  # enrichment found nothing for ~7% of companies
    frame = pl.DataFrame(parts)
    joined = frame.select(
        pl.concat_str(pl.all(), separator=",", ignore_nulls=True).alias("tech_stack")
    )["tech_stack"]
    stack = pl.select(
        pl.when(pl.Series(known) & (joined != "")).then(joined).alias("tech_stack")
    ).to_series()
    has_crm = known & (crm < len(_CRM))
    uses_rival = known & (flags["rivalscore"] | flags["leadlytics"])
    return stack, has_crm, uses_rival
