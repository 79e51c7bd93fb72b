"""Writing frames and problem reports: formats, ISO datetimes, formula-injection safety."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from leadgate.exceptions import Location, Problem, UsageError
from leadgate.io import (
    EVENTS,
    LEADS,
    WRITABLE_EXTENSIONS,
    csv_safe,
    neutralise_formulas,
    problems_frame,
    read_frame,
    write_frame,
    write_problems_report,
)


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def csv_dicts(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- formula injection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil","click")', '\'=HYPERLINK("http://evil","click")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),
        ("plain", "plain"),
        ("", ""),
        ("'=already quoted", "'=already quoted"),
    ],
)
def test_text_cells_are_neutralised(tmp_path: Path, cell: str, written: str) -> None:
    path = tmp_path / "out.csv"
    write_frame(pl.DataFrame({"title": [cell]}), path)
    assert csv_dicts(path)[0]["title"] == written


def test_numbers_are_untouched(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    frame = pl.DataFrame({"n": [-2, 3], "x": [-1.5, 2.0], "ok": [True, False]})
    write_frame(frame, path)
    assert csv_rows(path) == [["n", "x", "ok"], ["-2", "-1.5", "true"], ["3", "2.0", "false"]]


def test_categorical_and_headers_are_neutralised(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    frame = pl.DataFrame({"=cmd()": ["+SUM(1)"], "t": ["x"]}).with_columns(
        pl.col("=cmd()").cast(pl.Categorical)
    )
    write_frame(frame, path)
    assert csv_rows(path) == [["'=cmd()", "t"], ["'+SUM(1)", "x"]]


def test_neutralise_formulas_expression() -> None:
    frame = pl.DataFrame({"a": ["=1", "b", None]})
    assert frame.select(neutralise_formulas(pl.col("a")))["a"].to_list() == ["'=1", "b", None]


def test_csv_safe_does_not_change_the_input() -> None:
    frame = pl.DataFrame({"a": ["=1"]})
    assert csv_safe(frame)["a"].to_list() == ["'=1"]
    assert frame["a"].to_list() == ["=1"]


# --- flattening ----------------------------------------------------------------------------


def test_datetimes_are_iso_utc(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    plus2 = timezone(timedelta(hours=2))
    frame = pl.DataFrame(
        {
            "aware": [datetime(2026, 3, 1, 14, tzinfo=plus2), None],
            "naive": [datetime(2026, 3, 1, 12, 0, 0, 250000), datetime(2026, 3, 2)],
            "day": [date(2026, 3, 1), date(2026, 3, 2)],
        }
    )
    write_frame(frame, path)
    assert csv_rows(path)[1:] == [
        ["2026-03-01T12:00:00Z", "2026-03-01T12:00:00.250Z", "2026-03-01"],
        ["", "2026-03-02T00:00:00Z", "2026-03-02"],
    ]


def test_lists_are_joined(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    frame = pl.DataFrame(
        {
            "reasons": [["fit: 10", "=bad"], ["-negative first", "x"], [], None],
            "counts": [[1, 2], [3], [], None],
        }
    )
    write_frame(frame, path)
    assert csv_rows(path)[1:] == [
        ["fit: 10; =bad", "1; 2"],
        ["'-negative first; x", "3"],
        ["", ""],
        ["", ""],
    ]


def test_list_of_datetimes_is_iso(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    frame = pl.DataFrame({"when": [[datetime(2026, 3, 1, 12, tzinfo=UTC)]]})
    write_frame(frame, path)
    assert csv_rows(path)[1] == ["2026-03-01T12:00:00Z"]


def test_structs_are_json(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_frame(pl.DataFrame({"s": [{"a": 1, "b": "x"}]}), path)
    assert csv_rows(path)[1] == ['{"a":1,"b":"x"}']


def test_nested_lists_cannot_be_csv(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nested lists"):
        write_frame(pl.DataFrame({"l": [[[1]]]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


# --- formats and round trips ---------------------------------------------------------------


def leads_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": [1, 2],
            "email": ["a@b.co", None],
            "created_at": pl.Series(
                [datetime(2026, 3, 1, 12, tzinfo=UTC), None], dtype=pl.Datetime("us", "UTC")
            ),
            "seats": [5, None],
            "budget": [True, False],
            "custom": [1.5, 2.5],
        }
    )


@pytest.mark.parametrize("name", ["leads.csv", "leads.csv.gz", "leads.parquet", "leads.ndjson"])
def test_round_trip_through_read_frame(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write_frame(leads_frame(), path)
    assert_frame_equal(read_frame(path, LEADS).frame, leads_frame())


def test_parquet_round_trip_keeps_every_type(tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    frame = leads_frame().with_columns(
        reasons=pl.Series([["a"], []], dtype=pl.List(pl.String)),
        grade=pl.Series(["A", "B"], dtype=pl.Categorical),
    )
    write_frame(frame, path)
    assert_frame_equal(pl.read_parquet(path), frame)


def test_events_round_trip_as_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    events = pl.DataFrame(
        {
            "lead_id": ["x", "y"],
            "event_type": pl.Series(["view", "form"], dtype=pl.Categorical),
            "occurred_at": pl.Series(
                [datetime(2026, 1, 1, tzinfo=UTC)] * 2, dtype=pl.Datetime("us", "UTC")
            ),
        }
    )
    write_frame(events, path)
    assert_frame_equal(read_frame(path, EVENTS).frame, events, categorical_as_str=True)


def test_gzip_csv_is_compressed(tmp_path: Path) -> None:
    path = tmp_path / "out.csv.gz"
    write_frame(pl.DataFrame({"a": [1]}), path)
    assert gzip.decompress(path.read_bytes()) == b"a\n1\n"


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        write_frame(pl.DataFrame({"a": [1]}), tmp_path / "out.xlsx")
    assert all(ext in caught.value.hint for ext in WRITABLE_EXTENSIONS)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        write_frame(pl.DataFrame({"a": [1]}), tmp_path / "nope" / "out.csv")


def test_overwrite_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_frame(pl.DataFrame({"a": [1]}), path)
    write_frame(pl.DataFrame({"a": [2]}), path)
    assert csv_rows(path) == [["a"], ["2"]]
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


# --- problem reports -----------------------------------------------------------------------


def test_problems_report(tmp_path: Path) -> None:
    problems = [
        Problem(
            code="bad_int",
            message="'=1+1' is not a whole number.",
            location=Location(file="leads.csv", row=3, field="seats"),
            hint="Write a whole number like 1200.",
        ),
        Problem(
            code="missing_column",
            message="Required column 'lead_id' of the leads file is missing.",
            location=Location(file="leads.csv", field="lead_id"),
            hint="-rename it",
        ),
    ]
    path = tmp_path / "problems.csv"
    write_problems_report(problems, path)
    assert csv_rows(path) == [
        ["file", "row", "column", "code", "message", "hint"],
        ["leads.csv", "3", "seats", "bad_int", "'=1+1' is not a whole number.", problems[0].hint],
        ["leads.csv", "", "lead_id", "missing_column", problems[1].message, "'-rename it"],
    ]


def test_problems_report_from_a_real_read(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text('lead_id,seats\n1,"=HYPERLINK(""x"")"\n2,3\n', encoding="utf-8")
    result = read_frame(source, LEADS, skip_invalid=True)
    report = tmp_path / "report.csv"
    write_problems_report(result.problems, report)
    (row,) = csv_dicts(report)
    assert row["row"] == "2"
    assert row["code"] == "bad_int"
    assert row["message"].startswith("'=HYPERLINK")
    assert row["file"] == str(source)


def test_empty_problems_report_has_a_header(tmp_path: Path) -> None:
    path = tmp_path / "problems.csv"
    write_problems_report([], path)
    assert csv_rows(path) == [["file", "row", "column", "code", "message", "hint"]]


def test_problems_frame_schema() -> None:
    frame = problems_frame([Problem(code="x", message="m")])
    assert frame.schema["row"] == pl.Int64
    assert frame.row(0) == (None, None, None, "x", "m", "")
