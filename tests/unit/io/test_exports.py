"""Scores exported in the CRMs' import formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from leadgate.exceptions import UsageError
from leadgate.io import EXPORT_COLUMNS, builtin_mappings, export_frame, write_frame

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


def scores() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": [1, 2],
            "email": ["maya@acme.com", "=cmd|' /C calc'!A0"],
            "segment": ["mid_market", "smb"],
            "fit_score": [72.5, 10.0],
            "engagement_score": [40.0, 0.0],
            "grade": ["A2", "D4"],
            "stage": ["mql", "new"],
            "owner": ["Dana Whitfield", None],
            "top_reasons": [["Title is VP (+20)", "Visited pricing (+15)"], []],
            "model_version": ["abc123", "abc123"],
            "as_of": [AS_OF, AS_OF],
            "internal_only": [1, 2],
        }
    )


def test_every_builtin_mapping_has_an_export_format() -> None:
    assert set(EXPORT_COLUMNS) == set(builtin_mappings())


def test_hubspot_contacts_export() -> None:
    out = export_frame(scores(), "hubspot-contacts")
    assert out.columns == [
        "Record ID",
        "Email",
        "Contact owner",
        "leadgate_fit_score",
        "leadgate_engagement_score",
        "leadgate_grade",
        "leadgate_stage",
        "leadgate_segment",
        "leadgate_reasons",
        "leadgate_model_version",
        "leadgate_scored_at",
    ]
    row = out.row(0, named=True)
    assert row["Record ID"] == 1
    assert row["leadgate_grade"] == "A2"
    assert row["leadgate_reasons"] == "Title is VP (+20); Visited pricing (+15)"
    assert out["leadgate_reasons"][1] == ""


def test_salesforce_leads_export_uses_field_api_names() -> None:
    out = export_frame(scores(), "salesforce-leads")
    assert out.columns[:3] == ["Id", "Email", "OwnerId"]
    assert {
        "Leadgate_Grade__c",
        "Leadgate_Stage__c",
        "Leadgate_Fit_Score__c",
        "Leadgate_Engagement_Score__c",
        "Leadgate_Reasons__c",
        "Leadgate_Scored_At__c",
    } <= set(out.columns)
    assert "internal_only" not in out.columns
    assert out["Leadgate_Stage__c"].to_list() == ["mql", "new"]


def test_hubspot_companies_export() -> None:
    accounts = pl.DataFrame(
        {"account_id": [9001], "account_score": [55.0], "is_mqa": [True], "domain": ["acme.com"]}
    )
    out = export_frame(accounts, "hubspot-companies")
    assert out.to_dicts() == [
        {
            "Record ID": 9001,
            "Company Domain Name": "acme.com",
            "leadgate_account_score": 55.0,
            "leadgate_is_mqa": True,
        }
    ]


def test_export_does_not_change_the_input() -> None:
    frame = scores()
    export_frame(frame, "salesforce-contacts")
    assert frame.equals(scores())


def test_export_written_as_csv_is_formula_safe(tmp_path: Path) -> None:
    path = tmp_path / "hubspot.csv"
    write_frame(export_frame(scores(), "hubspot-contacts"), path)
    written = pl.read_csv(path, infer_schema=False)
    assert written["Email"].to_list() == ["maya@acme.com", "'=cmd|' /C calc'!A0"]
    assert written["leadgate_scored_at"].to_list() == ["2026-10-01T00:00:00Z"] * 2


def test_unknown_export_format() -> None:
    with pytest.raises(UsageError, match="no export format 'pipedrive'") as caught:
        export_frame(scores(), "pipedrive")
    assert "hubspot-contacts" in caught.value.hint


def test_export_needs_the_record_id() -> None:
    with pytest.raises(UsageError, match="no 'lead_id' column"):
        export_frame(scores().drop("lead_id"), "hubspot-contacts")
