"""Title, e-mail and free-mail normalisation."""

from __future__ import annotations

import polars as pl
import pytest

from leadgate.engine.normalize import (
    DEPARTMENTS,
    SENIORITIES,
    email_domain_expr,
    normalize_leads,
    normalize_titles,
)
from leadgate.synth.titles import TITLE_TABLE


@pytest.mark.parametrize(
    ("title", "seniority", "department"),
    [
        ("VP of Sales", "vp", "sales"),
        ("Senior Vice President, Marketing", "vp", "marketing"),
        ("Director of Marketing", "director", "marketing"),
        ("Dir. of Sales", "director", "sales"),
        ("Head of RevOps", "director", "revenue_operations"),
        ("Chief Executive Officer", "c_level", "executive"),
        ("Founder & CEO", "c_level", "executive"),
        ("Chief Revenue Officer", "c_level", "sales"),
        ("Engineer", "individual_contributor", "engineering"),
        ("Data Analyst", "individual_contributor", "data"),
        ("Marketing Operations Manager", "manager", "marketing"),
        ("Sales Operations Manager", "manager", "revenue_operations"),
        ("Senior Software Engineer", "senior_ic", "engineering"),
        ("Executive Assistant to the CEO", "individual_contributor", "executive"),
        ("MBA Student", "entry", "education"),
        ("  marketing INTERN ", "entry", "marketing"),
        ("N/A", "unknown", "other"),
        ("", "unknown", "unknown"),
        (None, "unknown", "unknown"),
    ],
)
def test_titles_are_classified(title, seniority, department):
    out = normalize_titles(pl.Series([title], dtype=pl.String))
    assert out.row(0, named=True) | {"title": None} == {
        "title": None,
        "seniority": seniority,
        "department": department,
    }


def test_every_label_is_in_the_published_vocabulary():
    out = normalize_titles(pl.Series([t.title for t in TITLE_TABLE]))
    assert set(out["seniority"]) <= set(SENIORITIES)
    assert set(out["department"]) <= set(DEPARTMENTS)


def test_synthetic_title_table_is_classified_as_labelled():
    """The generator's title table doubles as ground truth (titles that say nothing excluded)."""
    titles = [t for t in TITLE_TABLE if t.title not in {"Other", "N/A"}]
    out = normalize_titles(pl.Series([t.title for t in titles]))
    labels = out.select("seniority", "department").rows()
    got = dict(zip(out["title"], labels, strict=True))
    wrong = [t.title for t in titles if got[t.title] != (t.seniority, t.department)]
    assert wrong == []


def test_normalize_leads_derives_domain_and_free_mail_and_keeps_given_values():
    leads = pl.LazyFrame(
        {
            "lead_id": [1, 2, 3, 4, 5],
            "email": [" Ana@Acme.COM ", "bob@gmail.com", "not-an-email", None, "x@sub.acme.co.uk."],
            "title": ["VP Sales", "VP Sales", None, "Engineer", "Teacher"],
            "seniority": [None, "Director", "manager", "", None],
        }
    )
    out = normalize_leads(leads).collect()
    assert out["lead_id"].to_list() == [1, 2, 3, 4, 5]
    assert out["email_domain"].to_list() == ["acme.com", "gmail.com", None, None, "sub.acme.co.uk"]
    assert out["is_free_email"].to_list() == [False, True, None, None, False]
    # A CRM-provided seniority wins (normalised); empty or missing falls back to the title.
    assert out["seniority"].to_list() == [
        "vp",
        "director",
        "manager",
        "individual_contributor",
        "individual_contributor",
    ]
    assert out["department"].to_list() == ["sales", "sales", "unknown", "engineering", "education"]
    assert "__title_seniority" not in out.columns


def test_normalize_leads_accepts_categorical_titles():
    leads = pl.LazyFrame(
        {
            "lead_id": [1, 2],
            "email": ["a@b.io", "c@d.io"],
            "title": pl.Series(["CTO", "CTO"], dtype=pl.Categorical),
        }
    )
    out = normalize_leads(leads).collect()
    assert out["seniority"].to_list() == ["c_level", "c_level"]
    assert out["department"].to_list() == ["engineering", "engineering"]


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        (" Ann@Acme.COM. ", "acme.com"),  # trimmed, lower-cased, one trailing dot dropped
        ("é@x.com", "x.com"),  # any non-space local part
        ("a@x.co", "x.co"),
        ("a b@c.com", None),  # space in the local part
        ("@c.com", None),  # no local part
        ("a@b@c.com", None),  # two @
        ("a@c", None),  # no top-level domain
        ("a@x.c", None),  # one-letter top-level domain
        ("a@-x.com", None),  # label starts with a hyphen
        ("a@é.com", None),  # non-ASCII domain
        ("a@b.com..", None),  # two trailing dots
        (None, None),
    ],
)
def test_email_domain_edge_cases(email, domain):
    frame = pl.DataFrame({"email": [email]}, schema={"email": pl.String})
    assert frame.select(email_domain_expr(pl.col("email")).alias("d"))["d"].to_list() == [domain]
