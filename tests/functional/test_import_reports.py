"""The rejected-rows report: named after the input, removed once the file imports cleanly."""

from __future__ import annotations

import polars as pl

from leadgate.cli.app import main


def test_report_name_keeps_dots_and_a_clean_rerun_removes_it(db_url, tmp_path, capsys):
    db = ["--database", db_url]
    assert main(["db", "upgrade", *db]) == 0
    leads = tmp_path / "leads.2026-11.csv"
    leads.write_text("lead_id,email\n1,ana@acme.io\n2,not-an-email\n")
    assert main(["import", "leads", str(leads), *db]) == 0
    report = tmp_path / "leads.2026-11.rejected.csv"
    rows = pl.read_csv(report)
    assert rows.height == 1
    assert rows.row(0, named=True)["row"] == 3
    assert "leads.2026-11.rejected.csv" in capsys.readouterr().err

    leads.write_text("lead_id,email\n1,ana@acme.io\n2,bo@acme.io\n")
    assert main(["import", "leads", str(leads), *db]) == 0
    out = capsys.readouterr().out
    assert "1 inserted, 0 updated, 1 unchanged, 0 rejected" in out
    assert not report.exists()
