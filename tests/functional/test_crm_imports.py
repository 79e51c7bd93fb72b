"""CRM exports through ``leadgate import`` into a migrated store, on SQLite and PostgreSQL.

The HubSpot-style and Salesforce-style fixtures in ``tests/fixtures/crm`` are imported with
their built-in mappings; the counts are the ones ``tests/fixtures/crm/EXPECTED.md`` documents
for reading the files, carried through to what the store holds: duplicate people merged by
e-mail, leads linked to accounts by company domain (never a free-mail one), accounts created
for companies the store does not have, a row-level report of rejected rows next to the input,
and re-imports that change nothing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from leadgate.cli.app import main
from leadgate.storage import make_engine, read_accounts, read_leads

CRM = Path(__file__).parents[1] / "fixtures" / "crm"
SUMMARY = re.compile(
    r"(?P<rows_read>[\d,]+) rows read — (?P<inserted>[\d,]+) inserted, "
    r"(?P<updated>[\d,]+) updated, (?P<unchanged>[\d,]+) unchanged, "
    r"(?P<rejected>[\d,]+) rejected"
)
HUBSPOT_ACCOUNTS = {"9001", "9002", "9003", "9004", "9007", "9008"}
FREE_MAIL_LEADS = {
    "lucy.hale84@gmail.com",
    "gracekim@yahoo.com",
    "oliver.grant@hotmail.co.uk",
    "sara.lopez@outlook.com",
}

# (row, column, code, a fragment of the reason) per problem, as EXPECTED.md lists them.
HUBSPOT_COMPANIES_REJECTED = [
    (6, "employees", "bad_int", "'fifty'"),
    (7, "domain", "bad_domain", "it contains a space"),
    (8, "account_id", "missing_value", "is empty"),
    (9, "account_id", "duplicate_id", "already appears in row 4"),
]
HUBSPOT_CONTACTS_REJECTED = [
    (4, "email", "bad_email", "it has no @"),
    (8, "email", "bad_email", "it contains a space"),
    (13, "email", "bad_email", "the domain after the @ has no dot"),
    (17, "company_domain", "bad_domain", "it has no dot"),
    (19, "email", "bad_email", "it has more than one @"),
    (26, "lead_id", "missing_value", "is empty"),
    (29, "email", "bad_email", "it has no @"),
    (29, "created_at", "bad_datetime", "'yesterday'"),
    (32, "employees", "bad_int", "'lots'"),
    (37, "lead_id", "duplicate_id", "already appears in row 36"),
]
SALESFORCE_LEADS_REJECTED = [
    (6, "employees", "bad_int", "'1.5k'"),
    (7, "annual_revenue", "bad_float", "'€2M'"),  # read from cp1252
    (8, "email", "bad_email", "it has no @"),
    (9, "lead_id", "missing_value", "is empty"),
]
SALESFORCE_CONTACTS_REJECTED = [
    (5, "email", "bad_email", "the domain after the @ has no dot"),
    (9, "created_at", "bad_datetime", "'not a date'"),
]


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    """The fixtures copied to a temp folder, so the reports written next to them stay there."""
    folder = tmp_path / "crm"
    folder.mkdir()
    for source in CRM.glob("*.csv"):
        shutil.copy(source, folder / source.name)
    return folder


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def upgrade(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, _, err = cli(capsys, "db", "upgrade", "--database", db_url)
    assert code == 0, err


def run_import(
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    kind: str,
    file: Path,
    mapping: str | None = None,
) -> tuple[dict[str, int], str, str]:
    """Import through the CLI; the summary counts and the raw stdout / stderr."""
    extra = [] if mapping is None else ["--mapping", mapping]
    code, out, err = cli(capsys, "import", kind, file, *extra, "--database", db_url)
    assert code == 0, err
    found = SUMMARY.search(out)
    assert found is not None, out
    counts = {key: int(value.replace(",", "")) for key, value in found.groupdict().items()}
    return counts, out, err


def counts(rows_read: int, inserted: int, updated: int, unchanged: int, rejected: int) -> dict:
    return {
        "rows_read": rows_read,
        "inserted": inserted,
        "updated": updated,
        "unchanged": unchanged,
        "rejected": rejected,
    }


def stored(db_url: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Leads and accounts as the store holds them."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return read_leads(conn), read_accounts(conn)
    finally:
        engine.dispose()


def assert_report(input_file: Path, err: str, expected: list[tuple[int, str, str, str]]) -> None:
    """``<name>.rejected.csv`` next to the input lists file, row, column and reason per problem."""
    report = input_file.with_name(input_file.name.removesuffix(".csv") + ".rejected.csv")
    assert report.exists()
    assert report.name in err
    frame = pl.read_csv(report, infer_schema_length=0)
    assert frame.columns[:5] == ["file", "row", "column", "code", "message"]
    assert {Path(name).name for name in frame["file"]} == {input_file.name}
    got = [
        (int(row), column, code)
        for row, column, code in frame.select("row", "column", "code").iter_rows()
    ]
    assert got == [(row, column, code) for row, column, code, _ in expected]
    for message, (row, _, _, why) in zip(frame["message"], expected, strict=True):
        assert why in message, (row, message)


def by_email(leads: pl.DataFrame, email: str) -> dict:
    rows = leads.filter(pl.col("email") == email)
    assert rows.height == 1, (email, rows.height)
    return rows.row(0, named=True)


def assert_one_lead_per_email(leads: pl.DataFrame) -> None:
    emails = leads["email"].drop_nulls()
    assert not emails.is_duplicated().any()
    assert (emails == emails.str.strip_chars().str.to_lowercase()).all()


def test_hubspot_export(db_url: str, crm: Path, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(capsys, db_url)
    companies = crm / "hubspot_companies.csv"
    contacts = crm / "hubspot_contacts.csv"

    summary, out, err = run_import(capsys, db_url, "accounts", companies, "hubspot-companies")
    assert summary == counts(rows_read=10, inserted=6, updated=0, unchanged=0, rejected=4)
    assert_report(companies, err, HUBSPOT_COMPANIES_REJECTED)

    summary, out, err = run_import(capsys, db_url, "leads", contacts, "hubspot-contacts")
    # 40 rows, 9 rejected (10 problems: row 29 has two), 31 valid rows = 27 distinct people.
    assert summary == counts(rows_read=40, inserted=27, updated=0, unchanged=0, rejected=9)
    assert "4 duplicate people merged by e-mail" in out
    assert "accounts created" not in out  # every company is in the companies export
    assert_report(contacts, err, HUBSPOT_CONTACTS_REJECTED)

    leads, accounts = stored(db_url)
    assert leads.height == 27
    assert_one_lead_per_email(leads)
    assert leads["email"].drop_nulls().len() == 26  # 26 addresses + 1 person without one
    # Merged people keep the first row's id; later rows fill in and override.
    anna = by_email(leads, "anna.schmidt@globex.io")
    assert (anna["lead_id"], anna["lifecycle_stage"], anna["phone"]) == (
        "1005",
        "won",  # the last row says Customer
        "+49 30 555 0105",  # only the first row has a phone
    )
    assert by_email(leads, "raj.patel@initech.co.uk")["lead_id"] == "1009"
    assert by_email(leads, "li.wei@soylent.com")["lead_id"] == "1014"  # was mailto:Li.Wei@…
    assert not leads["lead_id"].is_in(["1020", "1033", "1027", "1039", "1036"]).any()
    assert by_email(leads, "h.acker@vandelay.com")["first_name"].startswith("=HYPERLINK(")

    # Linked by Associated Company ID: 26 valid rows, 22 people after merging; the 4 free-mail
    # contacts and the person without an address have no account.
    assert set(accounts["account_id"]) == HUBSPOT_ACCOUNTS
    linked = leads.filter(pl.col("account_id").is_not_null())
    assert linked.height == 22
    assert set(linked["account_id"]) == HUBSPOT_ACCOUNTS
    unlinked = leads.filter(pl.col("account_id").is_null())
    assert set(unlinked["email"].drop_nulls()) == FREE_MAIL_LEADS
    assert unlinked["email"].null_count() == 1
    assert by_email(leads, "ava.stone@umbrella-health.com")["account_id"] == "9004"
    umbrella = accounts.filter(pl.col("account_id") == "9004").row(0, named=True)
    assert umbrella["domain"] == "umbrella-health.com"  # from HTTP://WWW.UMBRELLA-HEALTH.COM

    # Re-importing either file changes nothing.
    summary, _, _ = run_import(capsys, db_url, "leads", contacts, "hubspot-contacts")
    assert summary == counts(rows_read=40, inserted=0, updated=0, unchanged=27, rejected=9)
    summary, _, _ = run_import(capsys, db_url, "accounts", companies, "hubspot-companies")
    assert summary == counts(rows_read=10, inserted=0, updated=0, unchanged=6, rejected=4)
    assert stored(db_url)[0].height == 27


def test_salesforce_export(db_url: str, crm: Path, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(capsys, db_url)
    sf_leads = crm / "salesforce_leads.csv"
    sf_contacts = crm / "salesforce_contacts.csv"

    summary, out, err = run_import(capsys, db_url, "leads", sf_leads, "salesforce-leads")
    # 12 rows, 4 rejected, 8 valid rows = 7 distinct people (Renée Dubois twice).
    assert summary == counts(rows_read=12, inserted=7, updated=0, unchanged=0, rejected=4)
    assert "1 duplicate people merged by e-mail" in out
    # Lumière, Nordlys and Château Vins are created from their domains; Café Noël's only
    # valid row is a gmail address, which never makes (or links to) an account.
    assert "3 accounts created" in out
    assert_report(sf_leads, err, SALESFORCE_LEADS_REJECTED)

    leads, accounts = stored(db_url)
    assert leads.height == 7
    assert_one_lead_per_email(leads)
    assert by_email(leads, "renee.dubois@lumiere.fr")["lead_id"] == "00Q5g000001AbcEEAA"
    assert by_email(leads, "jose.nunez@lumiere.fr")["first_name"] == "José"  # cp1252
    created = {row["account_id"]: row for row in accounts.iter_rows(named=True)}
    assert set(created) == {"lumiere.fr", "nordlys.dk", "chateau-vins.fr"}
    assert {k: v["domain"] for k, v in created.items()} == {k: k for k in created}
    assert created["lumiere.fr"]["name"] == "Lumière SARL"
    assert created["chateau-vins.fr"]["employees"] == 30
    assert created["chateau-vins.fr"]["annual_revenue"] == 1_200_000
    account_of = {row["email"]: row["account_id"] for row in leads.iter_rows(named=True)}
    assert account_of == {
        "jose.nunez@lumiere.fr": "lumiere.fr",
        "renee.dubois@lumiere.fr": "lumiere.fr",
        "soren@nordlys.dk": "nordlys.dk",
        "bjork@nordlys.dk": "nordlys.dk",  # no Website: linked by the e-mail's domain
        "inaki@gmail.com": None,  # names Café Noël, but a gmail address is no company
        "chloe@chateau-vins.fr": "chateau-vins.fr",
        "theo@chateau-vins.fr": "chateau-vins.fr",
    }
    assert "gmail.com" not in set(accounts["domain"].drop_nulls())

    summary, out, err = run_import(capsys, db_url, "leads", sf_contacts, "salesforce-contacts")
    # 8 rows, 2 rejected, 6 valid rows = 5 distinct people (Emma Wilson twice). The contacts
    # name 3 Salesforce Account IDs the store does not have: each becomes a bare account
    # (filled in when the accounts are imported) instead of failing the foreign key.
    assert summary == counts(rows_read=8, inserted=5, updated=0, unchanged=0, rejected=2)
    assert "1 duplicate people merged by e-mail" in out
    assert "3 accounts created" in out
    assert_report(sf_contacts, err, SALESFORCE_CONTACTS_REJECTED)

    leads, accounts = stored(db_url)
    assert leads.height == 7 + 5
    assert_one_lead_per_email(leads)
    assert by_email(leads, "emma.wilson@northwind.com")["lead_id"] == "0035g00000XyZ03AAA"
    assert by_email(leads, "lukas.weber@strauss.de")["account_id"] == "0015g00000AbC01AAA"
    assert by_email(leads, "olivia.davis@contoso.com")["account_id"] == "0015g00000AbC03AAA"
    assert by_email(leads, "liam.jones@gmail.com")["account_id"] is None
    assert accounts.height == 3 + 3
    bare = accounts.filter(pl.col("account_id").str.starts_with("0015g"))
    assert bare["account_id"].sort().to_list() == [
        "0015g00000AbC01AAA",
        "0015g00000AbC02AAA",
        "0015g00000AbC03AAA",
    ]
    assert bare["domain"].null_count() == 3

    for file, mapping, people in (
        (sf_leads, "salesforce-leads", 7),
        (sf_contacts, "salesforce-contacts", 5),
    ):
        summary, out, _ = run_import(capsys, db_url, "leads", file, mapping)
        assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, people)
        assert "accounts created" not in out
    leads, accounts = stored(db_url)
    assert (leads.height, accounts.height) == (12, 6)


def test_leads_link_to_stored_accounts_by_domain_and_merge_known_people(
    db_url: str, crm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(capsys, db_url)
    run_import(capsys, db_url, "accounts", crm / "hubspot_companies.csv", "hubspot-companies")
    run_import(capsys, db_url, "leads", crm / "hubspot_contacts.csv", "hubspot-contacts")
    more = crm / "web_signups.csv"
    pl.DataFrame(
        {
            "lead_id": ["w1", "w2", "w3", "w4", "w5"],
            "email": [
                "new.person@acme.com",  # no company given: the e-mail's domain is Acme's
                "ceo.fan@gmail.com",  # free mail naming a free-mail "company domain"
                "x.ray@umbrella-health.com",
                "buyer@newco.io",  # a company the store does not have
                " MAYA.LINDQVIST@ACME.COM",  # lead 1001 from the HubSpot export
            ],
            "title": ["Analyst", "Founder", "Nurse", "Head of Ops", "CMO"],
            "company": [None, "Acme Analytics", None, "NewCo", None],
            "company_domain": [None, "gmail.com", "https://www.Umbrella-Health.com/", None, None],
        }
    ).write_csv(more)

    summary, out, _ = run_import(capsys, db_url, "leads", more)
    assert summary == counts(rows_read=5, inserted=4, updated=1, unchanged=0, rejected=0)
    assert "1 accounts created" in out

    leads, accounts = stored(db_url)
    assert leads.height == 27 + 4
    assert_one_lead_per_email(leads)
    maya = by_email(leads, "maya.lindqvist@acme.com")
    assert (maya["lead_id"], maya["title"], maya["account_id"]) == ("1001", "CMO", "9001")
    assert not leads["lead_id"].is_in(["w5"]).any()
    assert by_email(leads, "new.person@acme.com")["account_id"] == "9001"
    assert by_email(leads, "x.ray@umbrella-health.com")["account_id"] == "9004"
    assert by_email(leads, "ceo.fan@gmail.com")["account_id"] is None
    assert by_email(leads, "buyer@newco.io")["account_id"] == "newco.io"
    assert set(accounts["account_id"]) == HUBSPOT_ACCOUNTS | {"newco.io"}
    newco = accounts.filter(pl.col("account_id") == "newco.io").row(0, named=True)
    assert (newco["name"], newco["domain"]) == ("NewCo", "newco.io")

    summary, out, _ = run_import(capsys, db_url, "leads", more)
    assert summary == counts(rows_read=5, inserted=0, updated=0, unchanged=5, rejected=0)
    assert "accounts created" not in out
    assert "merged" not in out


def test_contacts_before_companies_keep_their_links(
    db_url: str, crm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Contacts naming companies not imported yet get bare accounts the companies fill in."""
    upgrade(capsys, db_url)
    contacts = crm / "hubspot_contacts.csv"
    summary, out, _ = run_import(capsys, db_url, "leads", contacts, "hubspot-contacts")
    assert summary == counts(rows_read=40, inserted=27, updated=0, unchanged=0, rejected=9)
    assert "6 accounts created" in out
    _, accounts = stored(db_url)
    assert set(accounts["account_id"]) == HUBSPOT_ACCOUNTS
    assert accounts["name"].null_count() == 6

    companies = crm / "hubspot_companies.csv"
    summary, _, _ = run_import(capsys, db_url, "accounts", companies, "hubspot-companies")
    assert summary == counts(rows_read=10, inserted=0, updated=6, unchanged=0, rejected=4)
    leads, accounts = stored(db_url)
    assert accounts["name"].null_count() == 0
    assert leads.filter(pl.col("account_id").is_not_null()).height == 22
    summary, _, _ = run_import(capsys, db_url, "leads", contacts, "hubspot-contacts")
    assert summary == counts(rows_read=40, inserted=0, updated=0, unchanged=27, rejected=9)
