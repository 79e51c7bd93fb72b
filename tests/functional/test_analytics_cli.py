"""``leadgate report`` and ``leadgate analytics …`` from files and from the store."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from analyticskit import funnel_history, funnel_leads, funnel_outcomes
from leadgate.cli.app import main
from leadgate.cli.exit_codes import ExitCode
from leadgate.io import write_frame


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    leads = funnel_leads().with_columns(
        pl.format("person{}@example.com", pl.col("lead_id")).alias("email")
    )
    paths = []
    for name, frame in (
        ("leads", leads),
        ("stage_history", funnel_history()),
        ("outcomes", funnel_outcomes()),
    ):
        path = tmp_path / f"{name}.csv"
        write_frame(frame, path)
        paths.append(str(path))
    leads_csv, history_csv, outcomes_csv = paths
    return ["--leads", leads_csv, "--stage-history", history_csv, "--outcomes", outcomes_csv]


def test_report_from_files(capsys: pytest.CaptureFixture[str], files: list[str], tmp_path: Path):
    html, doc = tmp_path / "report.html", tmp_path / "report.json"
    code, out, err = cli(capsys, "report", *files, "--capacity", 2, "--out", html, "--json", doc)
    assert code == 0, err
    report = json.loads(doc.read_text("utf-8"))
    assert report["qualification_rate"]["rows"][0]["qualification_rate"] == pytest.approx(5 / 6)
    assert report["acceptance"]["rows"][0]["acceptance_rate"] == pytest.approx(0.6)
    assert report["validation"]["roc_auc"] == pytest.approx(0.5)
    assert report["thresholds"]["capacity_per_month"] == 2
    page = html.read_text("utf-8")
    assert "<h2>Maturity</h2>" in page
    assert "example.com" not in page + doc.read_text("utf-8")  # no personal data
    assert "Maturity" in out
    assert "speed-to-lead: no data" in out


def test_single_metrics(capsys: pytest.CaptureFixture[str], files: list[str], tmp_path: Path):
    code, out, _ = cli(capsys, "analytics", "funnel", *files, "--by", "source")
    assert code == 0
    assert "Conversion between stages" in out
    target = tmp_path / "v.json"
    code, out, _ = cli(capsys, "analytics", "validate", *files, "--json", target)
    assert code == 0
    assert "ROC AUC 0.500" in out
    assert json.loads(target.read_text("utf-8"))["deciles"][0]["decile"] == 1
    code, out, _ = cli(
        capsys, "analytics", "thresholds", *files, "--capacity", 2,
        "--threshold", 20, "--threshold", 60, "--threshold", 80,
    )  # fmt: skip
    assert code == 0
    assert "Recommended threshold: 80.0" in out
    code, out, _ = cli(capsys, "analytics", "velocity", *files)
    assert (code, "cycle" in out) == (0, True)
    code, out, _ = cli(capsys, "analytics", "maturity", *files, "--json", target)
    assert code == 0
    rows = json.loads(target.read_text("utf-8"))["rows"]
    assert [r["level"] for r in rows] == [2, 1, 3, 4, 2, 4]  # no --model: no fields → ad hoc


def test_bad_input_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], files: list[str]
) -> None:
    code, _, err = cli(capsys, "analytics", "funnel", *files, "--by", "region")
    assert code == ExitCode.USAGE
    assert "Cannot break down by 'region'" in err
    assert "Traceback" not in err
    code, _, err = cli(capsys, "analytics", "validate", *files, "--score", "nope")
    assert code == ExitCode.USAGE
    assert "nope" in err
    code, _, err = cli(capsys, "report", *files, "--database", "sqlite:///x.db")
    assert code == ExitCode.USAGE
    assert "either --database or --leads" in err


def test_report_from_the_store(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    leads = funnel_leads().select(
        "lead_id", "created_at", "source",
        pl.format("person{}@example.com", pl.col("lead_id")).alias("email"),
    )  # fmt: skip
    write_frame(leads, tmp_path / "leads.csv")
    write_frame(funnel_outcomes(), tmp_path / "outcomes.csv")
    assert cli(capsys, "db", "upgrade", "--database", db_url)[0] == 0
    for kind in ("leads", "outcomes"):
        code, _, err = cli(capsys, "import", kind, tmp_path / f"{kind}.csv", "--database", db_url)
        assert code == 0, err
    code, _, err = cli(
        capsys, "lead", "disqualify", "L4", "--reason", "competitor", "--database", db_url
    )
    assert code == 0, err
    doc = tmp_path / "store.json"
    code, out, err = cli(capsys, "report", "--database", db_url, "--json", doc)
    assert code == 0, err
    report = json.loads(doc.read_text("utf-8"))
    assert report["leads"] == 6
    assert report["pipeline"]["rows"][0]["total_revenue"] == 3000.0
    stages = {r["stage"]: r["leads"] for r in report["funnel"]["stages"]}
    assert (stages["won"], stages["opportunity"]) == (2, 4)
    reasons = report["rejection_reasons"]["rows"]
    assert [(r["kind"], r["reason"]) for r in reasons] == [("feedback", "competitor")]
    assert "example.com" not in doc.read_text("utf-8") + out


def test_cli_start_up_does_not_import_plotly() -> None:
    import subprocess
    import sys

    code = "import sys, leadgate.cli.app; print(sorted({'plotly', 'sklearn'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
