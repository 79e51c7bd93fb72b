"""CRM column mappings: built-ins on dirty fixtures, custom mapping files, e-mails and domains.

The counts asserted here are the ones documented in ``tests/fixtures/crm/EXPECTED.md``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from leadgate.exceptions import InputDataError, UsageError
from leadgate.io import (
    ACCOUNTS,
    EVENTS,
    LEADS,
    ColumnMapping,
    FrameContract,
    MappingError,
    ReadResult,
    ValueRule,
    apply_mapping,
    builtin_mappings,
    domain_problem,
    email_problem,
    load_mapping,
    normalise_domain,
    normalise_email,
    read_frame,
    write_frame,
)
from leadgate.io.readers import FALLBACK_ENCODING

CRM = Path(__file__).parents[2] / "fixtures" / "crm"


def read(name: str, mapping: str, contract: FrameContract = LEADS) -> ReadResult:
    return read_frame(CRM / name, contract, mapping=load_mapping(mapping), skip_invalid=True)


def problem_rows(result: ReadResult) -> list[tuple[int | None, str, str | None]]:
    return [(p.location.row, p.code, p.location.field) for p in result.problems]


def distinct_people(frame: pl.DataFrame) -> int:
    """People after de-duplication by e-mail: distinct addresses plus rows without one."""
    return frame["email"].drop_nulls().n_unique() + frame["email"].null_count()


# --- built-in mappings -----------------------------------------------------------------------


def test_builtin_mappings_are_listed() -> None:
    mappings = builtin_mappings()
    assert set(mappings) == {
        "hubspot-contacts",
        "hubspot-companies",
        "salesforce-leads",
        "salesforce-contacts",
    }
    assert mappings["hubspot-companies"].target == "accounts"
    assert mappings["hubspot-contacts"].sources_of("company_domain") == (
        "Company Domain Name",
        "Website URL",
    )
    assert all(m.file is None for m in mappings.values())


def test_hubspot_contacts_counts_and_reasons() -> None:
    result = read("hubspot_contacts.csv", "hubspot-contacts")
    assert (result.rows_read, result.rows_rejected, len(result.problems)) == (40, 9, 10)
    assert result.frame.height == 31
    assert problem_rows(result) == [
        (4, "bad_email", "email"),
        (8, "bad_email", "email"),
        (13, "bad_email", "email"),
        (17, "bad_domain", "company_domain"),
        (19, "bad_email", "email"),
        (26, "missing_value", "lead_id"),
        (29, "bad_email", "email"),
        (29, "bad_datetime", "created_at"),
        (32, "bad_int", "employees"),
        (37, "duplicate_id", "lead_id"),
    ]
    reasons = [p.message for p in result.problems if p.code == "bad_email"]
    assert reasons == [
        "'jane.doe(at)acme.com' is not an e-mail address: it has no @.",
        "'tom smith@globex.io' is not an e-mail address: it contains a space.",
        "'sales@initech' is not an e-mail address: the domain after the @ has no dot.",
        "'mike@@hooli.com' is not an e-mail address: it has more than one @.",
        "'no-email' is not an e-mail address: it has no @.",
    ]
    assert all("jane@acme.com" in p.hint for p in result.problems if p.code == "bad_email")
    assert distinct_people(result.frame) == 27
    assert result.encoding == "utf-8"


def test_hubspot_contacts_values_are_normalised() -> None:
    frame = read("hubspot_contacts.csv", "hubspot-contacts").frame
    by_id = {row["lead_id"]: row for row in frame.to_dicts()}
    assert frame.columns[0] == "lead_id"  # the byte-order mark did not stick to the header
    assert frame.schema["created_at"] == pl.Datetime("us", "UTC")
    may_5 = datetime(2024, 3, 5, tzinfo=UTC)
    assert by_id[1001]["created_at"] == may_5.replace(hour=14, minute=22)  # 2024-03-05 14:22
    assert by_id[1002]["created_at"] == may_5  # 03/05/2024
    assert by_id[1004]["created_at"] == may_5  # 5.3.2024
    assert by_id[1005]["created_at"] == may_5.replace(hour=14, minute=22)  # epoch ms
    assert by_id[1002]["email"] == "owen.price@acme.com"
    assert by_id[1014]["email"] == "li.wei@soylent.com"  # mailto: and case
    assert by_id[1019]["company_domain"] == "umbrella-health.com"
    assert by_id[1001]["employees"] == 100  # "100-500" → lower bound
    assert by_id[1001]["lifecycle_stage"] == "mql"
    assert by_id[1037]["lifecycle_stage"] == "sql"  # internal value salesqualifiedlead
    assert by_id[1040]["lifecycle_stage"] == "won"
    assert by_id[1009]["annual_revenue"] == 4200000.5
    assert Counter(frame["email"].drop_nulls().to_list())["anna.schmidt@globex.io"] == 3
    free = frame.filter(
        pl.col("email").str.extract("@(.+)$").is_in(["gmail.com", "yahoo.com", "outlook.com"])
        | pl.col("email").str.ends_with("@hotmail.co.uk")
    )
    assert free.height == 4


def test_hubspot_formula_cell_is_read_as_text_and_written_safely(tmp_path: Path) -> None:
    frame = read("hubspot_contacts.csv", "hubspot-contacts").frame
    name = frame.filter(pl.col("lead_id") == 1022)["first_name"].item()
    assert name.startswith("=HYPERLINK(")
    write_frame(frame.select("lead_id", "first_name"), tmp_path / "out.csv")
    written = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert written.filter(pl.col("lead_id") == "1022")["first_name"].item() == f"'{name}"


def test_hubspot_companies_counts_and_links() -> None:
    companies = read("hubspot_companies.csv", "hubspot-companies", ACCOUNTS)
    assert (companies.rows_read, companies.rows_rejected) == (10, 4)
    assert problem_rows(companies) == [
        (6, "bad_int", "employees"),
        (7, "bad_domain", "domain"),
        (8, "missing_value", "account_id"),
        (9, "duplicate_id", "account_id"),
    ]
    assert companies.problems[1].message.endswith("it contains a space.")
    domains = dict(zip(companies.frame["account_id"], companies.frame["domain"], strict=True))
    assert domains == {
        9001: "acme.com",
        9002: None,
        9003: "initech.co.uk",
        9004: "umbrella-health.com",
        9007: "soylent.com",
        9008: None,
    }
    contacts = read("hubspot_contacts.csv", "hubspot-contacts").frame
    linked = contacts.filter(pl.col("account_id").is_not_null())
    assert set(linked["account_id"]) <= set(domains)
    assert linked.height == 26


def test_salesforce_leads_cp1252_counts_and_reasons() -> None:
    result = read("salesforce_leads.csv", "salesforce-leads")
    assert result.encoding == FALLBACK_ENCODING
    assert (result.rows_read, result.rows_rejected, result.frame.height) == (12, 4, 8)
    assert problem_rows(result) == [
        (6, "bad_int", "employees"),
        (7, "bad_float", "annual_revenue"),
        (8, "bad_email", "email"),
        (9, "missing_value", "lead_id"),
    ]
    assert result.problems[1].message == "'€2M' is not a number."
    assert result.problems[2].message == "'n/a' is not an e-mail address: it has no @."
    assert distinct_people(result.frame) == 7
    names = set(result.frame["first_name"])
    assert {"José", "Renée", "Søren", "Chloé", "Théo"} <= names
    row = result.frame.row(0, named=True)
    assert row["company_domain"] == "lumiere.fr"
    assert row["created_at"] == datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)
    assert row["crm_status"] == "Open - Not Contacted"
    assert row["owner"] == "0055g000000OwnAAA"


def test_salesforce_contacts_report_without_optional_columns() -> None:
    result = read("salesforce_contacts.csv", "salesforce-contacts")
    assert (result.rows_read, result.rows_rejected, result.frame.height) == (8, 2, 6)
    assert problem_rows(result) == [(5, "bad_email", "email"), (9, "bad_datetime", "created_at")]
    assert distinct_people(result.frame) == 5
    assert "country" not in result.frame.columns
    assert "phone" not in result.frame.columns
    first = result.frame.row(0, named=True)
    assert first["created_at"] == datetime(2024, 3, 5, 14, 22, tzinfo=UTC)  # 3/5/2024 2:22 PM
    assert first["account_id"] == "0015g00000AbC01AAA"


def test_fixture_counts_raise_without_skip_invalid() -> None:
    with pytest.raises(InputDataError, match="9 of 40 rows"):
        read_frame(CRM / "hubspot_contacts.csv", LEADS, mapping=load_mapping("hubspot-contacts"))


def test_missing_required_header_names_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Email,First Name\na@b.co,Ann\n", encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        read_frame(path, LEADS, mapping=load_mapping("hubspot-contacts"))
    [problem] = caught.value.problems
    assert problem.code == "missing_column"
    assert "hubspot-contacts" in problem.message
    assert "'Record ID' or 'Contact ID'" in problem.message


def test_mapped_headers_the_file_lacks_are_fine_when_optional(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("record id,EMAIL\n7,A@B.co\n", encoding="utf-8")
    result = read_frame(path, LEADS, mapping=load_mapping("hubspot-contacts"))
    assert result.frame.to_dicts() == [{"lead_id": 7, "email": "a@b.co"}]
    assert result.column_mapping == {"record id": "lead_id", "EMAIL": "email"}


def test_mapping_for_another_frame_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("lead_id,event_type,occurred_at\n1,x,2024-01-01\n", encoding="utf-8")
    with pytest.raises(UsageError, match="reads leads files, not events"):
        read_frame(path, EVENTS, mapping=load_mapping("salesforce-leads"))


def test_exact_canonical_header_wins_over_a_mapped_one() -> None:
    frame = pl.DataFrame({"Email": ["x@y.co"], "email": ["z@y.co"]})
    out, renames = apply_mapping(frame, load_mapping("hubspot-contacts"))
    assert renames == {}
    assert out.columns == ["Email", "email"]


# --- custom mapping files --------------------------------------------------------------------

GOOD = """\
name: pipedrive-people
target: leads
description: Pipedrive people export
columns:
  Person ID: lead_id
  Email: email
  Added: created_at
  Has budget: budget
  Stage: lifecycle_stage
rules:
  created_at:
    date_format: "%d/%m/%Y"
  budget:
    true_values: [Approved, "Budget set"]
    false_values: [None yet]
  lifecycle_stage:
    values:
      Qualified: mql
constants:
  source: pipedrive
"""


def write(tmp_path: Path, text: str, name: str = "mapping.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_custom_mapping_file_applies_rules_and_constants(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, GOOD))
    assert mapping.name == "pipedrive-people"
    assert mapping.file == str(tmp_path / "mapping.yaml")
    assert mapping.rules["budget"].true_values == ("Approved", "Budget set")
    data = write(
        tmp_path,
        "Person ID,Email,Added,Has budget,Stage\n"
        "1,a@acme.com,05/03/2024,budget SET,qualified\n"
        "2,b@acme.com,2024-03-07,None yet,Lead\n"
        "3,c@acme.com,31/12/2024,maybe,\n",
        "people.csv",
    )
    result = read_frame(data, LEADS, mapping=mapping, skip_invalid=True)
    assert problem_rows(result) == [(4, "bad_bool", "budget")]
    rows = result.frame.to_dicts()
    assert [r["created_at"] for r in rows] == [
        datetime(2024, 3, 5, tzinfo=UTC),  # day first, by the mapping's date_format
        datetime(2024, 3, 7, tzinfo=UTC),  # falls back to the usual formats
    ]
    assert [r["budget"] for r in rows] == [True, False]
    assert [r["lifecycle_stage"] for r in rows] == ["mql", "Lead"]
    assert [r["source"] for r in rows] == ["pipedrive", "pipedrive"]


def test_constants_fill_empty_cells_only() -> None:
    mapping = ColumnMapping("m", "leads", {"id": "lead_id"}, constants={"source": "crm"})
    frame = pl.DataFrame({"id": ["1", "2", "3"], "source": ["web", " ", None]})
    out, _ = apply_mapping(frame, mapping)
    assert out["source"].to_list() == ["web", "crm", "crm"]


def test_value_rules_leave_typed_columns_alone() -> None:
    rule = ValueRule(values={"x": "y"}, date_format="%d/%m/%Y")
    mapping = ColumnMapping("m", "leads", {"a": "seats"}, rules={"seats": rule})
    out, _ = apply_mapping(pl.DataFrame({"a": [1, 2]}), mapping)
    assert out["seats"].to_list() == [1, 2]


def test_aware_date_format_is_converted_to_utc() -> None:
    rule = ValueRule(date_format="%d/%m/%Y %H:%M %z")
    mapping = ColumnMapping("m", "leads", {"d": "created_at"}, rules={"created_at": rule})
    out, _ = apply_mapping(pl.DataFrame({"d": ["05/03/2024 10:00 +0200", "junk"]}), mapping)
    assert out["created_at"].to_list() == ["2024-03-05T08:00:00Z", "junk"]


def test_mapping_is_frozen() -> None:
    mapping = load_mapping("hubspot-contacts")
    with pytest.raises(TypeError):
        mapping.columns["x"] = "y"  # type: ignore[index]


def test_unknown_builtin_lists_the_builtins() -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping("hubspot-contact")
    [problem] = caught.value.problems
    assert problem.code == "unknown_mapping"
    assert "Did you mean `hubspot-contacts`?" in problem.hint
    assert "salesforce-leads" in problem.hint


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping(tmp_path / "nope.yaml")
    assert caught.value.problems[0].code == "file_not_found"


@pytest.mark.parametrize(
    ("text", "code", "line", "path", "hint_part"),
    [
        (
            "name: x\ntarget: leads\ncolums:\n  Email: email\n",
            "unknown_key",
            3,
            "colums",
            "Did you mean `columns`?",
        ),
        (
            "name: x\ntarget: lead\ncolumns:\n  Email: email\n",
            "bad_value",
            2,
            "target",
            "Did you mean `leads`?",
        ),
        (
            "name: x\ntarget: leads\ncolumns:\n  Email: email\nrules:\n  email:\n    value: {}\n",
            "unknown_key",
            7,
            "rules.email.value",
            "Did you mean `values`?",
        ),
        (
            "name: x\ntarget: leads\ncolumns:\n  Mail: emial\n",
            "unknown_column",
            4,
            "columns.Mail",
            "Did you mean `email`?",
        ),
        (
            "name: x\ntarget: leads\ncolumns:\n  Mail: email\nrules:\n  emails:\n    values: {}\n",
            "unknown_column",
            6,
            "rules.emails",
            "Did you mean `email`?",
        ),
        ("name: x\ntarget: leads\n", "missing_key", 1, "columns", "columns:"),
        ("name: x\ntarget: [leads\n", "yaml_syntax", 3, "", "indentation"),
        ("- just\n- a list\n", "not_a_mapping", 1, "", "columns:"),
    ],
)
def test_bad_mapping_files_are_located(
    tmp_path: Path, text: str, code: str, line: int, path: str, hint_part: str
) -> None:
    file = write(tmp_path, text)
    with pytest.raises(MappingError) as caught:
        load_mapping(file)
    [problem] = caught.value.problems
    assert (problem.code, problem.location.line, problem.path) == (code, line, path)
    assert problem.location.file == str(file)
    assert hint_part in problem.hint
    assert str(file) in str(caught.value)


def test_custom_columns_that_are_no_near_miss_are_allowed(tmp_path: Path) -> None:
    mapping = load_mapping(
        write(tmp_path, "name: x\ntarget: leads\ncolumns:\n  HS Score: hubspot_score\n")
    )
    assert mapping.columns == {"HS Score": "hubspot_score"}


# --- e-mails and domains ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised", "reason"),
    [
        (" Jane@Acme.COM ", "jane@acme.com", None),
        ("mailto:x@y.io", "x@y.io", None),
        ("jo.o'neil+tag@sub.acme.co.uk", "jo.o'neil+tag@sub.acme.co.uk", None),
        ("ü@münchen.de", "ü@münchen.de", None),
        ("   ", None, None),
        ("bad", "bad", "it has no @"),
        ("a b@c.com", "a b@c.com", "it contains a space"),
        ("a@@b.com", "a@@b.com", "it has more than one @"),
        ("@x.com", "@x.com", "nothing comes before the @"),
        ("x@", "x@", "nothing comes after the @"),
        ("x@localhost", "x@localhost", "the domain after the @ has no dot"),
        ("x..y@a.com", "x..y@a.com", "it has two dots in a row"),
        ("a,b@c.com", "a,b@c.com", "the part before the @ has a character an address cannot"),
        (".x@a.com", ".x@a.com", "the part before the @ has a character an address cannot"),
        ("x@-a.com", "x@-a.com", "the domain after the @ is not a valid domain"),
        ("x@a.c", "x@a.c", "the domain after the @ is not a valid domain"),
    ],
)
def test_email_normalisation_and_reasons(
    raw: str, normalised: str | None, reason: str | None
) -> None:
    out = (
        pl.DataFrame({"e": [raw]}).select(n=normalise_email("e")).with_columns(r=email_problem("n"))
    )
    assert out["n"].item() == normalised
    got = out["r"].item()
    assert got == reason or (reason is not None and got is not None and got.startswith(reason))


@pytest.mark.parametrize(
    ("raw", "domain", "reason"),
    [
        ("https://www.Acme.com/about", "acme.com", None),
        ("jane@Acme.com", "acme.com", None),
        ("HTTP://WWW2.acme.co.uk:8080?x=1", "acme.co.uk", None),
        ("//cdn.acme.io/", "cdn.acme.io", None),
        ("acme.com.", "acme.com", None),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de", None),
        ("", None, None),
        ("acme", "acme", "it has no dot"),
        ("stark retail", "stark retail", "it contains a space"),
        ("acme.c0m", "acme.c0m", "it is not a valid domain"),
    ],
)
def test_domain_normalisation(raw: str, domain: str | None, reason: str | None) -> None:
    out = pl.DataFrame({"d": [raw]}).select(n=normalise_domain(pl.col("d")))
    assert out["n"].item() == domain
    assert out.select(domain_problem("n")).item() == reason


def test_email_column_in_plain_reads(tmp_path: Path) -> None:
    path = write(tmp_path, "lead_id,email\n1, A@B.co \n2,nope\n3,\n", "leads.csv")
    result = read_frame(path, LEADS, skip_invalid=True)
    assert result.frame["email"].to_list() == ["a@b.co", None]
    assert problem_rows(result) == [(3, "bad_email", "email")]


def test_typed_email_column_from_ndjson(tmp_path: Path) -> None:
    path = write(
        tmp_path, '{"lead_id": 1, "email": "X@Y.io"}\n{"lead_id": 2, "email": 5}\n', "l.ndjson"
    )
    result = read_frame(path, LEADS, skip_invalid=True)
    assert result.frame["email"].to_list() == ["x@y.io"]
    assert problem_rows(result) == [(2, "bad_email", "email")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03-05 14:22", datetime(2024, 3, 5, 14, 22, tzinfo=UTC)),
        ("03/05/2024", datetime(2024, 3, 5, tzinfo=UTC)),
        ("5.3.2024", datetime(2024, 3, 5, tzinfo=UTC)),
        ("1709648520000", datetime(2024, 3, 5, 14, 22, tzinfo=UTC)),
        ("2024-03-05T14:22:10.000+0000", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),
        ("3/5/2024 2:22 PM", datetime(2024, 3, 5, 14, 22, tzinfo=UTC)),
        ("03/05/2024 12:05:30 am", datetime(2024, 3, 5, 0, 5, 30, tzinfo=UTC)),
    ],
)
def test_crm_date_formats(tmp_path: Path, text: str, expected: datetime) -> None:
    path = write(tmp_path, f"lead_id,created_at\n1,{text}\n", "leads.csv")
    assert read_frame(path, LEADS).frame["created_at"].item() == expected
