"""Canonical column names of the frames every part of leadgate exchanges.

Input frames may carry any extra columns (custom lead fields, discovery answers, event
properties); the names below are the ones leadgate itself reads or writes.
"""

from __future__ import annotations

from typing import Final

# --- leads (contacts) -------------------------------------------------------------------
LEAD_ID: Final = "lead_id"
ACCOUNT_ID: Final = "account_id"
EMAIL: Final = "email"
FIRST_NAME: Final = "first_name"
LAST_NAME: Final = "last_name"
TITLE: Final = "title"
PHONE: Final = "phone"
COUNTRY: Final = "country"
SOURCE: Final = "source"
CREATED_AT: Final = "created_at"
LEAD_REQUIRED: Final = (LEAD_ID,)

# --- accounts ---------------------------------------------------------------------------
ACCOUNT_NAME: Final = "name"
DOMAIN: Final = "domain"
INDUSTRY: Final = "industry"
EMPLOYEES: Final = "employees"
ANNUAL_REVENUE: Final = "annual_revenue"
ACCOUNT_REQUIRED: Final = (ACCOUNT_ID,)
ACCOUNT_PREFIX: Final = "account."

# --- events -----------------------------------------------------------------------------
EVENT_ID: Final = "event_id"
EVENT_TYPE: Final = "event_type"
OCCURRED_AT: Final = "occurred_at"
EVENT_REQUIRED: Final = (LEAD_ID, EVENT_TYPE, OCCURRED_AT)

# --- outcomes ---------------------------------------------------------------------------
OPPORTUNITY_CREATED_AT: Final = "opportunity_created_at"
AMOUNT: Final = "amount"
WON: Final = "won"
CLOSED_AT: Final = "closed_at"

# --- derived by normalisation ----------------------------------------------------------
EMAIL_DOMAIN: Final = "email_domain"
IS_FREE_EMAIL: Final = "is_free_email"
SENIORITY: Final = "seniority"
DEPARTMENT: Final = "department"

# --- derived by scoring -----------------------------------------------------------------
SEGMENT: Final = "segment"
PERSONA: Final = "persona"
BUYING_ROLE: Final = "buying_role"
EXCLUSION_REASON: Final = "exclusion_reason"
IS_EXCLUDED: Final = "is_excluded"
FIT_SCORE: Final = "fit_score"
ENGAGEMENT_SCORE: Final = "engagement_score"
PRODUCT_SCORE: Final = "product_score"
POTENTIAL_VALUE: Final = "potential_value"
FIT_GRADE: Final = "fit_grade"
ENGAGEMENT_GRADE: Final = "engagement_grade"
GRADE: Final = "grade"
TEMPERATURE: Final = "temperature"
STAGE: Final = "stage"
MISSING_FIELDS: Final = "missing_fields"
TOP_REASONS: Final = "top_reasons"
MODEL_VERSION: Final = "model_version"
AS_OF: Final = "as_of"

# --- derived by a predictor (``leadgate score --predictor``) ----------------------------
#: Calibrated probability of conversion; stage and temperature conditions may read it.
P_CONVERT: Final = "p_convert"
EXPECTED_VALUE: Final = "expected_value"

# --- ledger -----------------------------------------------------------------------------
RULE_ID: Final = "rule_id"
RULE_KIND: Final = "rule_kind"
DESCRIPTION: Final = "description"
EVENT_COUNT: Final = "event_count"
RAW_POINTS: Final = "raw_points"
DECAY_FACTOR: Final = "decay_factor"
POINTS: Final = "points"

# --- account roll-up --------------------------------------------------------------------
ACCOUNT_SCORE: Final = "account_score"
CONTACT_COUNT: Final = "contact_count"
ENGAGED_CONTACTS: Final = "engaged_contacts"
ROLES_PRESENT: Final = "roles_present"
ROLES_MISSING: Final = "roles_missing"
ROLE_COVERAGE: Final = "role_coverage"
IS_MQA: Final = "is_mqa"

#: The lifecycle date column set when a lead first enters a stage (store and analytics).
BECAME_AT: Final[dict[str, str]] = {
    "iql": "became_iql_at",
    "mql": "became_mql_at",
    "pql": "became_pql_at",
    "sal": "became_sal_at",
    "sql": "became_sql_at",
    "opportunity": "became_opportunity_at",
    "won": "became_won_at",
    "lost": "became_lost_at",
    "recycled": "recycled_at",
    "disqualified": "disqualified_at",
}

# Fields the engine derives before fit rules run; usable in any condition.
NORMALISED_FIELDS: Final = (EMAIL_DOMAIN, IS_FREE_EMAIL, SENIORITY, DEPARTMENT)


def framework_column(framework_id: str, part: str) -> str:
    """Name of a framework status column, e.g. ``framework_column("bant", "passed")``."""
    return f"fw_{framework_id}_{part}"


def account_column(field: str) -> str:
    """How an account field appears on the lead frame after the join."""
    return f"{ACCOUNT_PREFIX}{field}"
