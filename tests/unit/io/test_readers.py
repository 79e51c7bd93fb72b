"""Reading lead/account/event/outcome files: types, encodings, headers and row-level problems."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgate.exceptions import InputDataError, UsageError
from leadgate.io import (
    ACCOUNTS,
    CONTRACTS,
    EVENTS,
    LEADS,
    OUTCOMES,
    SUPPORTED_EXTENSIONS,
    FrameContract,
    ReadResult,
    align_id_types,
    file_format,
    read_frame,
)

UTC_US = pl.Datetime("us", "UTC")


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def read_leads(tmp_path: Path, text: str, **kwargs: bool) -> ReadResult:
    return read_frame(write(tmp_path, "leads.csv", text), LEADS, **kwargs)


def column_values(tmp_path: Path, column: str, values: list[str]) -> ReadResult:
    """Leads with lead_id 1..n and ``column`` holding ``values``; bad rows skipped."""
    body = "".join(f'{i},"{v}"\n' for i, v in enumerate(values, start=1))
    return read_leads(tmp_path, f"lead_id,{column}\n{body}", skip_invalid=True)


# --- contracts -----------------------------------------------------------------------------


def test_contracts_are_registered_by_name() -> None:
    assert set(CONTRACTS) == {"leads", "accounts", "events", "outcomes", "stage history"}
    assert LEADS.required == ("lead_id",)
    assert LEADS.unique == "lead_id"
    assert ACCOUNTS.unique == "account_id"
    assert EVENTS.required == ("lead_id", "event_type", "occurred_at")
    assert EVENTS.types["event_type"] == "category"
    assert OUTCOMES.unique is None
    assert OUTCOMES.types["won"] == "bool"


def test_contract_rejects_inconsistent_definitions() -> None:
    with pytest.raises(ValueError, match="without a type"):
        FrameContract("x", required=("a",), types={})
    with pytest.raises(ValueError, match="unknown column types"):
        FrameContract("x", required=(), types={"a": "money"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="unique column"):
        FrameContract("x", required=(), types={}, unique="a")


def test_contract_types_are_read_only() -> None:
    with pytest.raises(TypeError):
        LEADS.types["lead_id"] = "string"  # type: ignore[index]


# --- ids -----------------------------------------------------------------------------------


def test_integer_ids_become_int64(tmp_path: Path) -> None:
    result = read_leads(tmp_path, "lead_id,account_id\n1,10\n 2 ,\n3,30\n")
    assert result.frame.schema["lead_id"] == pl.Int64
    assert result.frame["lead_id"].to_list() == [1, 2, 3]
    assert result.frame["account_id"].to_list() == [10, None, 30]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "a-2"], ["1", "a-2"]),
        (["007", "8"], ["007", "8"]),
        (["+5", "6"], ["+5", "6"]),
        ([" x1 ", "x2"], ["x1", "x2"]),
    ],
)
def test_ids_that_are_not_plain_integers_stay_text(
    tmp_path: Path, values: list[str], expected: list[str]
) -> None:
    body = "".join(f"{v}\n" for v in values)
    result = read_leads(tmp_path, f"lead_id\n{body}")
    assert result.frame.schema["lead_id"] == pl.String
    assert result.frame["lead_id"].to_list() == expected


def test_align_id_types_casts_disagreeing_columns_to_text() -> None:
    leads = pl.DataFrame({"lead_id": [1, 2]})
    events = pl.DataFrame({"lead_id": ["1", "x"]})
    leads2, events2 = align_id_types((leads, "lead_id"), (events, "lead_id"))
    assert leads2.schema["lead_id"] == pl.String == events2.schema["lead_id"]
    assert leads2.join(events2, on="lead_id").height == 1


def test_align_id_types_leaves_agreeing_columns_alone() -> None:
    leads = pl.DataFrame({"lead_id": [1, 2]})
    events = pl.DataFrame({"lead_id": [2, 2]})
    leads2, events2 = align_id_types((leads, "lead_id"), (events, "lead_id"))
    assert leads2 is leads
    assert events2 is events


def test_align_id_types_after_reading(tmp_path: Path) -> None:
    leads = read_leads(tmp_path, "lead_id\n1\n2\n").frame
    events_path = write(
        tmp_path, "events.csv", "lead_id,event_type,occurred_at\nL9,x,2026-01-01\n2,x,2026-01-02\n"
    )
    events = read_frame(events_path, EVENTS).frame
    assert leads.schema["lead_id"] != events.schema["lead_id"]
    leads, events = align_id_types((leads, "lead_id"), (events, "lead_id"))
    assert leads.join(events, on="lead_id")["lead_id"].to_list() == ["2"]


def test_align_id_types_needs_the_column() -> None:
    with pytest.raises(UsageError, match="no column 'lead_id'"):
        align_id_types((pl.DataFrame({"a": [1]}), "lead_id"))


# --- scalar types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("1,200", 1200), (" 42 ", 42), ("-3", -3), ("12.0", 12), ("1,234,567", 1234567)],
)
def test_good_ints(tmp_path: Path, text: str, expected: int) -> None:
    result = column_values(tmp_path, "seats", [text])
    assert result.problems == ()
    assert result.frame.schema["seats"] == pl.Int64
    assert result.frame["seats"].to_list() == [expected]


@pytest.mark.parametrize("text", ["12.5", "abc", "1,2", "12,00", "1,20,0", "1e3x", "nan"])
def test_bad_ints(tmp_path: Path, text: str) -> None:
    result = column_values(tmp_path, "seats", ["5", text])
    assert result.frame["lead_id"].to_list() == [1]
    (problem,) = result.problems
    assert problem.code == "bad_int"
    assert problem.location.row == 3
    assert problem.location.field == "seats"
    assert repr(text) in problem.message
    assert "whole number" in problem.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2.5", 2.5), ("1,200.50", 1200.5), (" 3 ", 3.0), ("1e3", 1000.0), ("-0.25", -0.25)],
)
def test_good_floats(tmp_path: Path, text: str, expected: float) -> None:
    path = write(tmp_path, "accounts.csv", f'account_id,annual_revenue\n1,"{text}"\n')
    frame = read_frame(path, ACCOUNTS).frame
    assert frame.schema["annual_revenue"] == pl.Float64
    assert frame["annual_revenue"].to_list() == [expected]


@pytest.mark.parametrize("text", ["1,5", "abc", "nan", "inf", "$100", "1.2.3"])
def test_bad_floats(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "accounts.csv", f'account_id,annual_revenue\n1,"{text}"\n2,5\n')
    result = read_frame(path, ACCOUNTS, skip_invalid=True)
    assert result.frame["account_id"].to_list() == [2]
    (problem,) = result.problems
    assert (problem.code, problem.location.row, problem.location.field) == (
        "bad_float",
        2,
        "annual_revenue",
    )
    assert "dot for decimals" in problem.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(w, True) for w in ["true", "TRUE", "True", "yes", "Yes", "y", "Y", "t", "T", "1"]],
        *[(w, False) for w in ["false", "FALSE", "no", "NO", "n", "N", "f", "F", "0", " no "]],
    ],
)
def test_good_bools(tmp_path: Path, text: str, expected: bool) -> None:
    result = column_values(tmp_path, "budget", [text])
    assert result.problems == ()
    assert result.frame.schema["budget"] == pl.Boolean
    assert result.frame["budget"].to_list() == [expected]


@pytest.mark.parametrize("text", ["maybe", "2", "yess", "-1", "on"])
def test_bad_bools(tmp_path: Path, text: str) -> None:
    result = column_values(tmp_path, "champion", [text, "yes"])
    assert result.frame["lead_id"].to_list() == [2]
    (problem,) = result.problems
    assert (problem.code, problem.location.row) == ("bad_bool", 2)
    assert "yes/no" in problem.hint


def test_empty_optional_cells_are_null(tmp_path: Path) -> None:
    result = read_leads(tmp_path, "lead_id,seats,budget,created_at,email\n1,,,,\n2,  , ,  ,  \n")
    assert result.problems == ()
    row = result.frame.row(1, named=True)
    assert row == {"lead_id": 2, "seats": None, "budget": None, "created_at": None, "email": None}


def test_strings_are_stripped(tmp_path: Path) -> None:
    result = read_leads(tmp_path, 'lead_id,title\n1,"  VP Sales "\n')
    assert result.frame["title"].to_list() == ["VP Sales"]


def test_event_type_is_categorical(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "lead_id,event_type,occurred_at\n1,page_view,2026-01-01\n")
    frame = read_frame(path, EVENTS).frame
    assert frame.schema["event_type"] == pl.Categorical
    assert frame["event_type"].cast(pl.String).to_list() == ["page_view"]


# --- datetimes -----------------------------------------------------------------------------

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T12:00:00Z", NOON),
        ("2026-03-01T12:00:00.250Z", NOON + timedelta(milliseconds=250)),
        ("2026-03-01T12:00:00.123456Z", NOON + timedelta(microseconds=123456)),
        ("2026-03-01T14:00:00+02:00", NOON),
        ("2026-03-01T14:00:00+0200", NOON),
        ("2026-03-01T07:00:00-05", NOON),
        ("2026-03-01 14:00:00+02:00", NOON),
        ("2026-03-01T12:00:00", NOON),
        ("2026-03-01 12:00:00", NOON),
        ("2026-03-01 12:00:00.5", NOON + timedelta(milliseconds=500)),
        ("2026-03-01T12:00", NOON),
        ("2026-03-01 12:00", NOON),
        ("2026-03-01", MIDNIGHT),
        ("03/01/2026", MIDNIGHT),
        ("3/1/2026", MIDNIGHT),
        ("3/1/26", MIDNIGHT),
        ("03/01/2026 12:00", NOON),
        ("03/01/2026 12:00:00", NOON),
        ("01.03.2026", MIDNIGHT),
        ("1.3.2026 12:00", NOON),
        ("01.03.2026 12:00:00", NOON),
        ("1772366400", NOON),
        ("1772366400.5", NOON + timedelta(milliseconds=500)),
        ("1772366400000", NOON),
        (" 2026-03-01 ", MIDNIGHT),
    ],
)
def test_every_datetime_format(tmp_path: Path, text: str, expected: datetime) -> None:
    result = column_values(tmp_path, "created_at", [text])
    assert result.problems == ()
    assert result.frame.schema["created_at"] == UTC_US
    assert result.frame["created_at"].to_list() == [expected]


def test_slash_dates_are_month_first(tmp_path: Path) -> None:
    frame = column_values(tmp_path, "created_at", ["01/02/2026", "12/31/2026"]).frame
    assert [d.date() for d in frame["created_at"]] == [date(2026, 1, 2), date(2026, 12, 31)]


def test_mixed_formats_in_one_column(tmp_path: Path) -> None:
    values = ["2026-03-01T12:00:00Z", "03/01/2026", "01.03.2026", "1772366400", "2026-03-01"]
    frame = column_values(tmp_path, "created_at", values).frame
    assert frame["created_at"].to_list() == [NOON, MIDNIGHT, MIDNIGHT, NOON, MIDNIGHT]


@pytest.mark.parametrize(
    "text",
    ["2026-13-01", "2026-02-30", "yesterday", "20260301", "31/12/2026", "2026-03-01T25:00:00Z"],
)
def test_bad_datetimes(tmp_path: Path, text: str) -> None:
    result = column_values(tmp_path, "created_at", ["2026-01-01", text])
    assert result.frame["lead_id"].to_list() == [1]
    (problem,) = result.problems
    assert (problem.code, problem.location.row, problem.location.field) == (
        "bad_datetime",
        3,
        "created_at",
    )
    assert repr(text) in problem.message
    assert "ISO 8601 like 2026-03-01T12:00:00Z" in problem.hint


# --- encodings and layout ------------------------------------------------------------------


def test_bom_and_windows_1252(tmp_path: Path) -> None:
    text = "\ufefflead_id,last_name,title\r\n1,Müller,Café € manager\r\n2,Øster,\r\n"
    path = write(tmp_path, "crm.csv", b"\xef\xbb\xbf" + text[1:].encode("cp1252"))
    result = read_frame(path, LEADS)
    assert result.encoding == "utf-8 with windows-1252 fallback"
    assert result.frame.columns == ["lead_id", "last_name", "title"]
    assert result.frame["last_name"].to_list() == ["Müller", "Øster"]
    assert result.frame["title"].to_list() == ["Café € manager", None]


def test_latin1_bytes_undefined_in_windows_1252_keep_their_row(tmp_path: Path) -> None:
    path = write(tmp_path, "odd.csv", b"lead_id,title\n1,a\x81b\n2,ok\n")
    frame = read_frame(path, LEADS).frame
    assert frame["title"].to_list() == ["a\x81b", "ok"]


def test_utf8_file_with_one_stray_byte_keeps_valid_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.csv", "lead_id,title\n1,Zoë\n2,x".encode() + b"\xe9\n")
    frame = read_frame(path, LEADS).frame
    assert frame["title"].to_list() == ["Zoë", "xé"]


def test_utf8_bom_header(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufefflead_id,email\n1,a@b.co\n".encode())
    result = read_frame(path, LEADS)
    assert result.encoding == "utf-8"
    assert result.frame.columns == ["lead_id", "email"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    result = read_leads(tmp_path, "lead_id,title,seats\r\n1,CTO,5\r\n2,VP,6\r\n")
    assert result.frame["title"].to_list() == ["CTO", "VP"]
    assert result.frame["seats"].to_list() == [5, 6]


def test_gzipped_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv.gz", gzip.compress(b"lead_id,seats\n1,2\n"))
    assert read_frame(path, LEADS).frame.rows() == [(1, 2)]


def test_gzipped_windows_1252(tmp_path: Path) -> None:
    data = gzip.compress("lead_id,title\n1,Café\n".encode("cp1252"))
    frame = read_frame(write(tmp_path, "leads.csv.gz", data), LEADS).frame
    assert frame["title"].to_list() == ["Café"]


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Lead ID", "LEAD_ID", "LeadId", " lead-id ", "lead id"])
def test_header_spellings_are_mapped(tmp_path: Path, header: str) -> None:
    result = read_leads(tmp_path, f'"{header}",Created At,E-mail\n1,2026-01-01,a@b.co\n')
    assert result.frame.columns == ["lead_id", "created_at", "email"]
    assert result.column_mapping["Created At"] == "created_at"
    assert result.column_mapping.get(header.strip(), "lead_id") == "lead_id"


def test_exact_header_wins_over_a_variant(tmp_path: Path) -> None:
    result = read_leads(tmp_path, "Lead ID,lead_id\nx,1\n")
    assert result.frame.columns == ["Lead ID", "lead_id"]
    assert result.frame["lead_id"].to_list() == [1]
    assert result.column_mapping == {}


def test_header_whitespace_is_trimmed_for_extra_columns(tmp_path: Path) -> None:
    result = read_leads(tmp_path, "lead_id, Favourite Colour \n1,red\n")
    assert result.frame.columns == ["lead_id", "Favourite Colour"]


def test_missing_required_column_suggests_a_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "Leed ID,email\n1,a@b.co\n")
    with pytest.raises(InputDataError) as caught:
        read_frame(path, LEADS, skip_invalid=True)
    (problem,) = caught.value.problems
    assert problem.code == "missing_column"
    assert problem.location.file == str(path)
    assert problem.location.field == "lead_id"
    assert "'Leed ID', 'email'" in problem.hint
    assert "Did you mean 'Leed ID'?" in problem.hint


def test_each_missing_required_column_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", "lead_id,type\n1,x\n")
    with pytest.raises(InputDataError) as caught:
        read_frame(path, EVENTS)
    assert [p.location.field for p in caught.value.problems] == ["event_type", "occurred_at"]
    assert "missing column(s) event_type, occurred_at" in caught.value.message


def test_empty_file_is_missing_its_columns(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as caught:
        read_frame(write(tmp_path, "leads.csv", ""), LEADS)
    assert "no header row" in caught.value.problems[0].hint


def test_header_only_file_gives_zero_typed_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", "lead_id,event_type,occurred_at,url\n")
    result = read_frame(path, EVENTS)
    assert (result.frame.height, result.rows_read, result.rows_rejected) == (0, 0, 0)
    assert result.frame.schema["occurred_at"] == UTC_US
    assert result.frame.schema["event_type"] == pl.Categorical


# --- problems and rejected rows ------------------------------------------------------------

MESSY = (
    "lead_id,seats,budget,created_at,note\n"
    "1,5,yes,2026-01-01,fine\n"  # row 2
    "2,five,yes,2026-01-01,bad seats\n"  # row 3
    '3,6,"maybe",not a date,two bad cells\n'  # row 4
    ",7,no,2026-01-01,missing id\n"  # row 5
    '4,8,no,2026-01-01,"multi\nline note"\n'  # row 6 (one record over two lines)
    "5,9,no,2026-01-02,x\n"  # row 7
    "1,1,no,2026-01-03,duplicate of row 2\n"  # row 8
)


def test_problem_rows_are_spreadsheet_rows(tmp_path: Path) -> None:
    result = read_leads(tmp_path, MESSY, skip_invalid=True)
    found = [(p.location.row, p.location.field, p.code) for p in result.problems]
    assert found == [
        (3, "seats", "bad_int"),
        (4, "budget", "bad_bool"),
        (4, "created_at", "bad_datetime"),
        (5, "lead_id", "missing_value"),
        (8, "lead_id", "duplicate_id"),
    ]
    assert all(p.location.file == str(tmp_path / "leads.csv") for p in result.problems)


def test_skip_invalid_keeps_exactly_the_valid_rows(tmp_path: Path) -> None:
    result = read_leads(tmp_path, MESSY, skip_invalid=True)
    assert result.frame["lead_id"].to_list() == [1, 4, 5]
    assert result.frame["note"].to_list() == ["fine", "multi\nline note", "x"]
    assert (result.rows_read, result.rows_rejected) == (7, 4)


def test_problems_raise_unless_skipped(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as caught:
        read_leads(tmp_path, MESSY)
    error = caught.value
    assert error.code == "input_invalid"
    assert len(error.problems) == 5
    assert "4 of 7 rows of" in error.message
    assert "leads.csv have problems" in error.message
    assert "skip_invalid=True" in error.message


def test_clean_file_has_no_problems(tmp_path: Path) -> None:
    result = read_leads(tmp_path, "lead_id,seats\n1,2\n")
    assert (result.problems, result.rows_rejected, result.rows_read) == ((), 0, 1)


def test_long_values_are_truncated_in_messages(tmp_path: Path) -> None:
    result = column_values(tmp_path, "seats", ["x" * 200])
    message = result.problems[0].message
    assert "x" * 59 + "…" in message
    assert "x" * 60 not in message


def test_required_event_columns_must_be_filled(tmp_path: Path) -> None:
    text = "event_id,lead_id,event_type,occurred_at\n1,1,view,2026-01-01\n2,1,,2026-01-01\n3,1,x,\n"
    result = read_frame(write(tmp_path, "e.csv", text), EVENTS, skip_invalid=True)
    assert [(p.location.row, p.location.field) for p in result.problems] == [
        (3, "event_type"),
        (4, "occurred_at"),
    ]
    assert {p.code for p in result.problems} == {"missing_value"}
    assert result.frame["event_id"].to_list() == [1]


def test_duplicate_ids_keep_the_first_occurrence(tmp_path: Path) -> None:
    text = "account_id,name\nA,first\nB,b\nA,second\nA,third\n"
    result = read_frame(write(tmp_path, "a.csv", text), ACCOUNTS, skip_invalid=True)
    assert result.frame.rows() == [("A", "first"), ("B", "b")]
    assert [(p.code, p.location.row) for p in result.problems] == [
        ("duplicate_id", 4),
        ("duplicate_id", 5),
    ]
    assert "already appears in row 2" in result.problems[0].message


def test_duplicate_event_ids(tmp_path: Path) -> None:
    text = "event_id,lead_id,event_type,occurred_at\n7,1,v,2026-01-01\n7,1,v,2026-01-01\n"
    result = read_frame(write(tmp_path, "e.csv", text), EVENTS, skip_invalid=True)
    assert [p.code for p in result.problems] == ["duplicate_id"]
    assert result.frame.height == 1


def test_outcomes_may_repeat_a_lead(tmp_path: Path) -> None:
    text = 'lead_id,won,amount,closed_at\n1,yes,"1,000.50",2026-02-01\n1,no,,\n'
    frame = read_frame(write(tmp_path, "o.csv", text), OUTCOMES).frame
    assert frame["won"].to_list() == [True, False]
    assert frame["amount"].to_list() == [1000.5, None]


# --- files ---------------------------------------------------------------------------------


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as caught:
        read_frame(write(tmp_path, "leads.xlsx", b""), LEADS)
    problem = caught.value.problems[0]
    assert problem.code == "unsupported_format"
    assert all(ext in problem.hint for ext in SUPPORTED_EXTENSIONS)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputDataError) as caught:
        read_frame(path, LEADS)
    assert f"{path} does not exist" in caught.value.message
    assert caught.value.problems[0].code == "file_not_found"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "leads.csv"
    folder.mkdir()
    with pytest.raises(InputDataError, match="is not a file"):
        read_frame(folder, LEADS)


def test_malformed_csv_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as caught:
        read_leads(tmp_path, "lead_id,a\n1,2,3,4\n")
    assert caught.value.problems[0].code == "unreadable_file"


def test_file_format_by_extension() -> None:
    assert file_format("x.CSV") == "csv"
    assert file_format("x.csv.gz") == "csv"
    assert file_format("x.jsonl") == "ndjson"
    assert file_format("x.parquet") == "parquet"
    assert file_format("x.txt") is None


def test_extra_columns_are_typed_over_every_value(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i},{i}.5,true,x{i},{i}\n" for i in range(1, 300))
    text = f"lead_id,n,f,b,s,late\n{rows}999,1,2,FALSE,y,N/A\n"
    frame = read_leads(tmp_path, text).frame
    assert frame.schema["n"] == pl.Int64
    assert frame.schema["f"] == pl.Float64
    assert frame.schema["b"] == pl.Boolean
    assert frame.schema["s"] == pl.String
    assert frame.schema["late"] == pl.String  # a late non-number does not crash the read
    assert frame["b"][-1] is False


def test_parquet_with_native_types(tmp_path: Path) -> None:
    path = tmp_path / "leads.parquet"
    pl.DataFrame(
        {
            "LeadId": pl.Series([1, 2], dtype=pl.Int32),
            "created_at": [datetime(2026, 3, 1, 12), datetime(2026, 3, 2)],
            "seats": [1.0, 2.0],
            "budget": [1, 0],
            "champion": [True, None],
        }
    ).write_parquet(path)
    result = read_frame(path, LEADS)
    assert result.encoding is None
    assert result.column_mapping == {"LeadId": "lead_id"}
    frame = result.frame
    assert frame.schema["lead_id"] == pl.Int64
    assert frame.schema["created_at"] == UTC_US
    assert frame["created_at"].to_list()[0] == NOON
    assert frame["seats"].to_list() == [1, 2]
    assert frame["budget"].to_list() == [True, False]
    assert frame["champion"].to_list() == [True, None]


def test_parquet_converts_time_zones_dates_and_text(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    berlin = datetime(2026, 3, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    pl.DataFrame(
        {
            "lead_id": ["a", "b", "c"],
            "event_type": ["v", "v", "v"],
            "occurred_at": pl.Series([berlin] * 3).dt.convert_time_zone("Europe/Berlin"),
            "closed": [date(2026, 3, 1)] * 3,
        }
    ).write_parquet(path)
    frame = read_frame(path, EVENTS).frame
    assert frame["occurred_at"].to_list() == [NOON] * 3
    assert frame.schema["occurred_at"] == UTC_US

    outcomes = tmp_path / "outcomes.parquet"
    pl.DataFrame(
        {"lead_id": [1, 2], "closed_at": [date(2026, 3, 1), None], "won": ["yes", "perhaps"]}
    ).write_parquet(outcomes)
    result = read_frame(outcomes, OUTCOMES, skip_invalid=True)
    assert result.frame["closed_at"].to_list() == [MIDNIGHT]
    assert [(p.code, p.location.row) for p in result.problems] == [("bad_bool", 2)]


def test_parquet_float_ids_with_holes_become_int(tmp_path: Path) -> None:
    path = tmp_path / "leads.parquet"
    pl.DataFrame({"lead_id": [1.0, 2.0], "account_id": [10.0, None]}).write_parquet(path)
    frame = read_frame(path, LEADS).frame
    assert frame.schema["lead_id"] == pl.Int64 == frame.schema["account_id"]
    assert frame["account_id"].to_list() == [10, None]


def test_ndjson_with_mixed_json_types(tmp_path: Path) -> None:
    text = (
        '{"lead_id": 1, "seats": "1,200", "budget": true, "created_at": "2026-03-01T12:00:00Z"}\n'
        '{"lead_id": 2, "seats": 7, "budget": "no", "created_at": 1772366400, "extra": {"a": 1}}\n'
        '{"lead_id": 3, "seats": "many"}\n'
    )
    result = read_frame(write(tmp_path, "leads.ndjson", text), LEADS, skip_invalid=True)
    assert result.frame["seats"].to_list() == [1200, 7]
    assert result.frame["budget"].to_list() == [True, False]
    assert result.frame["created_at"].to_list() == [NOON, NOON]
    assert [(p.code, p.location.row) for p in result.problems] == [("bad_int", 3)]


def test_empty_ndjson_is_missing_its_columns(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as caught:
        read_frame(write(tmp_path, "leads.jsonl", "\n"), LEADS)
    assert caught.value.problems[0].code == "missing_column"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=20))
def test_thousands_separated_ints_round_trip(
    tmp_path_factory: pytest.TempPathFactory, ints: list[int]
) -> None:
    tmp_path = tmp_path_factory.mktemp("ints")
    body = "".join(f'{i},"{n:,}"\n' for i, n in enumerate(ints))
    frame = read_frame(write(tmp_path, "l.csv", f"lead_id,seats\n{body}"), LEADS).frame
    assert frame["seats"].to_list() == ints
