"""Normalisation that runs before any rule: e-mail domain, free-mail flag, seniority, department.

Job titles are free text ("VP, Marketing", "Dir. of Sales", "Founder & CEO"). They are classified
by ordered keyword patterns, first match wins, and only once per distinct title: a million
leads share a few thousand titles, so the patterns run on the dictionary and the result is
joined back. A lead frame that already carries ``seniority`` or ``department`` (a CRM that
records job level) keeps its own non-empty values; the title fills the gaps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

import polars as pl

from leadgate.engine.conditions import first_value
from leadgate.engine.freemail import FREE_EMAIL_DOMAINS
from leadgate.model import columns as c

UNKNOWN: Final = "unknown"

#: Seniority levels, most senior first.
SENIORITIES: Final = (
    "c_level",
    "vp",
    "director",
    "manager",
    "senior_ic",
    "individual_contributor",
    "entry",
    UNKNOWN,
)

#: Departments (job functions) a title is classified into.
DEPARTMENTS: Final = (
    "executive",
    "sales",
    "marketing",
    "revenue_operations",
    "customer_success",
    "engineering",
    "it",
    "product",
    "finance",
    "hr",
    "operations",
    "legal",
    "data",
    "education",
    "other",
    UNKNOWN,
)


def _words(*alternatives: str) -> str:
    return r"\b(?:" + "|".join(alternatives) + r")\b"


# Ordered: the first pattern that matches the lower-cased title decides.
_SENIORITY_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    (
        "individual_contributor",
        _words(r"(?:executive|personal|administrative) assistant", "assistant to"),
    ),
    (
        "entry",
        _words(
            "intern",
            "interns",
            "internship",
            "student",
            "trainee",
            "apprentice",
            "junior",
            "jr",
            "graduate",
            "phd candidate",
            "(?:research|teaching) assistant",
            "working student",
        ),
    ),
    ("vp", _words("vp", "svp", "evp", "avp", "vice[ -]president", "vice-president")),
    (
        "c_level",
        _words(
            "chief",
            "ceo",
            "cfo",
            "cto",
            "cio",
            "cmo",
            "coo",
            "cro",
            "ciso",
            "cdo",
            "cpo",
            "cco",
            "chro",
            "president",
            "co-?founder",
            "founder",
            "owner",
            "managing director",
            "managing partner",
            "proprietor",
        ),
    ),
    ("vp", _words("partner")),
    ("director", _words("director", "dir", "head", "dean", "general manager", "gm")),
    (
        "senior_ic",
        _words(
            "technical account manager",
            "(?:senior|sr|principal|lead) product manager",
            "sales engineer",
            "solutions? engineer",
            "solutions? architect",
            "enterprise account executive",
            "(?:salesforce|hubspot|crm) admin(?:istrator)?",
        ),
    ),
    ("manager", _words("manager", "mgr", "supervisor", "team lead", "team leader", "foreman")),
    (
        "senior_ic",
        _words(
            "senior",
            "sr",
            "principal",
            "staff",
            "lead",
            "architect",
            "scientist",
            "consultant",
            "counsel",
            "attorney",
            "lawyer",
            "professor",
            "lecturer",
            "expert",
            "fellow",
        ),
    ),
    (
        "individual_contributor",
        _words(
            "engineer",
            "developer",
            "programmer",
            "analyst",
            "specialist",
            "representative",
            "rep",
            "sdr",
            "bdr",
            "coordinator",
            "designer",
            "executive",
            "associate",
            "accountant",
            "recruiter",
            "administrator",
            "admin",
            "technician",
            "writer",
            "paralegal",
            "freelancer",
            "teacher",
            "researcher",
            "agent",
            "marketer",
            "strategist",
            "officer",
            "advisor",
            "adviser",
            "editor",
            "assistant",
            "clerk",
            "buyer",
            "planner",
            "tester",
            "bookkeeper",
            "operator",
            "nurse",
            "physician",
        ),
    ),
)

_DEPARTMENT_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    (
        "revenue_operations",
        _words(
            "rev ?ops",
            "revenue operations",
            "sales operations",
            "sales ops",
            "crm",
            "(?:salesforce|hubspot) admin(?:istrator)?",
            "gtm operations",
            "go-to-market operations",
            "sales enablement",
        ),
    ),
    (
        "education",
        _words(
            "student",
            "professor",
            "lecturer",
            "teacher",
            "dean",
            "phd",
            "teaching",
            "research assistant",
            "researcher",
            "academic",
            "faculty",
            "school",
            "university",
            "tutor",
        ),
    ),
    ("hr", _words("hr", "human resources", "people", "talent", r"recruit\w*", "chro")),
    ("legal", _words("legal", "counsel", "lawyer", "attorney", "paralegal", "compliance")),
    (
        "customer_success",
        _words(
            "customer success",
            "customer support",
            "customer service",
            "customer experience",
            "support",
            "cx",
            "onboarding",
            "technical account manager",
            "chief customer officer",
            "client success",
            "implementation",
        ),
    ),
    (
        "marketing",
        _words(
            "marketing",
            "mktg",
            "cmo",
            "growth",
            r"demand gen\w*",
            "brand",
            "content",
            "seo",
            "sem",
            "ppc",
            "social media",
            "communications",
            "public relations",
            "copywriter",
            "writer",
            "events",
        ),
    ),
    (
        "sales",
        _words(
            "sales",
            "account executive",
            "ae",
            "sdr",
            "bdr",
            "business development",
            "bizdev",
            "account manager",
            "account management",
            "partnerships",
            "cro",
            "revenue",
            "commercial",
            "channel",
        ),
    ),
    (
        "data",
        _words(
            "data",
            "analytics",
            "bi",
            "business intelligence",
            "business analyst",
            "machine learning",
            "ml",
            "ai",
            "cdo",
            "insights",
            r"statistic\w*",
        ),
    ),
    ("product", _words("product", "cpo", "ux", "ui", "user experience", "design", "designer")),
    (
        "it",
        _words(
            "it",
            "information technology",
            "information officer",
            "cio",
            "ciso",
            "security",
            "systems administrator",
            "sysadmin",
            "help ?desk",
            "infrastructure",
            "network",
        ),
    ),
    (
        "engineering",
        _words(
            r"engineer\w*",
            "developer",
            "software",
            "cto",
            "devops",
            "sre",
            "architect",
            "programmer",
            "technology",
            "technical",
            "qa",
            "web",
        ),
    ),
    (
        "finance",
        _words(
            "finance",
            "financial",
            "cfo",
            "accountant",
            "accounting",
            "controller",
            r"treasur\w*",
            "fp&a",
            r"bookkeep\w*",
            r"audit\w*",
            "tax",
            "payroll",
        ),
    ),
    (
        "operations",
        _words(
            "operations",
            "operating",
            "coo",
            "ops",
            "project manager",
            "program manager",
            "office manager",
            "supply chain",
            "logistics",
            "procurement",
            "facilities",
        ),
    ),
    (
        "executive",
        _words(
            "ceo",
            "chief executive",
            r"co-?founder",
            "founder",
            "owner",
            "president",
            "managing director",
            "managing partner",
            "general manager",
            "partner",
            "chief of staff",
            "proprietor",
        ),
    ),
)


def _classify(text: pl.Expr, patterns: tuple[tuple[str, str], ...], fallback: str) -> pl.Expr:
    cases = [(text.is_null(), pl.lit(UNKNOWN))]
    cases += [(text.str.contains(pattern), pl.lit(label)) for label, pattern in patterns]
    return first_value(cases, pl.lit(fallback))


def _clean_title(title: pl.Expr) -> pl.Expr:
    text = title.cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.when(text.str.len_bytes() > 0).then(text)


def seniority_expr(title: pl.Expr) -> pl.Expr:
    """Seniority level of a free-text job title (see ``SENIORITIES``)."""
    return _classify(_clean_title(title), _SENIORITY_PATTERNS, UNKNOWN)


def department_expr(title: pl.Expr) -> pl.Expr:
    """Department (job function) of a free-text job title (see ``DEPARTMENTS``)."""
    return _classify(_clean_title(title), _DEPARTMENT_PATTERNS, "other")


def email_domain_expr(email: pl.Expr) -> pl.Expr:
    """Lower-cased domain of an e-mail address; null when the address has no usable domain."""
    text = email.cast(pl.String).str.strip_chars().str.to_lowercase()
    # A match test without capture groups runs on the regex engine's fast path; taking the part
    # after the (only) "@" is then a plain split. Together ~2x cheaper than one ``extract``.
    valid = text.str.contains(r"^[^@\s]+@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z0-9-]{2,}\.?$")
    domain = text.str.splitn("@", 2).struct.field("field_1").str.strip_suffix(".")
    return pl.when(valid).then(domain)


_FREE_DOMAINS: Final = pl.Series(sorted(FREE_EMAIL_DOMAINS), dtype=pl.String)


def is_free_email_expr(domain: pl.Expr) -> pl.Expr:
    """Whether a domain belongs to a consumer mail provider (null when the domain is)."""
    return domain.is_in(_FREE_DOMAINS.implode())


def normalize_titles(titles: pl.Series) -> pl.DataFrame:
    """Seniority and department for each distinct title, e.g. to preview a title list."""
    frame = pl.DataFrame({c.TITLE: titles.cast(pl.String)}).unique(maintain_order=True)
    return frame.with_columns(
        seniority_expr(pl.col(c.TITLE)).alias(c.SENIORITY),
        department_expr(pl.col(c.TITLE)).alias(c.DEPARTMENT),
    )


_CLEAN_TITLE = "__clean_title"
_FROM_TITLE = {c.SENIORITY: "__title_seniority", c.DEPARTMENT: "__title_department"}
_CLASSES_SCHEMA = pl.Schema({c.TITLE: pl.String, **dict.fromkeys(_FROM_TITLE.values(), pl.String)})
_CLASSIFY = [
    _classify(pl.col(_CLEAN_TITLE), _SENIORITY_PATTERNS, UNKNOWN).alias(_FROM_TITLE[c.SENIORITY]),
    _classify(pl.col(_CLEAN_TITLE), _DEPARTMENT_PATTERNS, "other").alias(_FROM_TITLE[c.DEPARTMENT]),
]
_CLEAN = _clean_title(pl.col(c.TITLE)).alias(_CLEAN_TITLE)


def title_classes(titles: pl.LazyFrame) -> pl.LazyFrame:
    """Each distinct title of ``titles`` (a String ``title`` column) with its seniority and
    department, in the working columns ``lead_normalizer`` joins back."""
    distinct = titles.select(c.TITLE).unique().drop_nulls()
    return distinct.with_columns(_CLEAN).select(c.TITLE, *_CLASSIFY)


class TitleMemo:
    """Title classes of the titles seen so far, so a title's patterns run once.

    Classifying a title takes ~25 regular expressions. Polars keeps compiled expressions
    in a per-thread cache of 32, so together with a model's own text tests they no longer
    fit, and every call would compile them again (~4 ms for one lead). Real-time calls see
    the same titles over and over; this memo (bounded, thread-safe, results identical by
    construction) skips the patterns for titles it has seen. Meant for small frames: large
    ones classify their distinct titles in the query itself.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self._limit = limit
        self._book: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def classes(self, titles: pl.Series) -> pl.DataFrame:
        """The ``title_classes`` of the distinct non-null values of ``titles``."""
        wanted = titles.cast(pl.String).drop_nulls().unique().to_list()
        with self._lock:
            found = {t: self._book[t] for t in wanted if t in self._book}
        missing = [t for t in wanted if t not in found]
        if missing:
            frame = pl.DataFrame({c.TITLE: missing}, schema={c.TITLE: pl.String})
            new = title_classes(frame.lazy()).collect()
            fresh = {row[0]: (row[1], row[2]) for row in new.iter_rows()}
            found |= fresh
            with self._lock:
                if len(self._book) + len(fresh) > self._limit:
                    self._book.clear()
                self._book |= fresh
        return pl.DataFrame(
            {
                c.TITLE: list(found),
                _FROM_TITLE[c.SENIORITY]: [v[0] for v in found.values()],
                _FROM_TITLE[c.DEPARTMENT]: [v[1] for v in found.values()],
            },
            schema=_CLASSES_SCHEMA,
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._book)


Normalizer = Callable[[pl.LazyFrame, pl.DataFrame | None], pl.LazyFrame]


def lead_normalizer(schema: pl.Schema) -> Normalizer:
    """``normalize_leads`` compiled for frames of ``schema``: expressions built once.

    The returned function takes the leads and, optionally, their ``title_classes`` (e.g.
    from a ``TitleMemo``); without them, titles are classified once per distinct title in
    the query (the patterns run on the dictionary, which makes a million leads cheap).
    """
    title = pl.col(c.TITLE).cast(pl.String)
    domain = email_domain_expr(pl.col(c.EMAIL)).alias(c.EMAIL_DOMAIN)
    finals = []
    for name, tmp in _FROM_TITLE.items():
        value = pl.col(tmp).fill_null(pl.lit(UNKNOWN))
        if name in schema:
            given = pl.col(name).cast(pl.String).str.strip_chars().str.to_lowercase()
            value = pl.when(given.str.len_bytes() > 0).then(given).otherwise(value)
        finals.append(value.alias(name))
    finals.append(is_free_email_expr(pl.col(c.EMAIL_DOMAIN)).alias(c.IS_FREE_EMAIL))
    temporary = [*_FROM_TITLE.values()]

    def normalize(leads: pl.LazyFrame, titles: pl.DataFrame | None = None) -> pl.LazyFrame:
        base = leads.with_columns(title)
        classes = title_classes(base) if titles is None else titles.lazy()
        out = base.join(classes, on=c.TITLE, how="left", maintain_order="left")
        return out.with_columns(domain).with_columns(finals).drop(temporary)

    return normalize


def normalize_leads(leads: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``email_domain``, ``is_free_email``, ``seniority`` and ``department`` to a lead frame.

    The frame needs ``email`` and ``title`` columns (they may be all null).
    """
    return lead_normalizer(leads.collect_schema())(leads, None)


__all__ = [
    "DEPARTMENTS",
    "SENIORITIES",
    "UNKNOWN",
    "TitleMemo",
    "department_expr",
    "email_domain_expr",
    "is_free_email_expr",
    "lead_normalizer",
    "normalize_leads",
    "normalize_titles",
    "seniority_expr",
    "title_classes",
]
