"""ICP match, contacts per account, multi-threading and field completeness."""

from __future__ import annotations

import polars as pl
import pytest

from analyticskit import funnel_data, funnel_leads
from leadgate.analytics.quality import DataQualityQuery, FieldCompletenessQuery


def test_data_quality() -> None:
    row = DataQualityQuery().run(funnel_data()).table.row(0, named=True)
    assert row["leads"] == 6
    assert row["icp_match"] == pytest.approx(4 / 6)  # A1, B2, B3, A2
    assert row["contacts_per_account"] == pytest.approx(5 / 3)  # acc1 2, acc2 2, acc3 1
    assert row["contacts_per_opportunity"] == pytest.approx(1.5)  # acc1 2, acc3 1
    # acc1 has two engaged contacts (L1, L2); acc3's only contact never engaged.
    assert row["multi_threaded_opportunities"] == pytest.approx(0.5)


def test_data_quality_by_segment() -> None:
    table = DataQualityQuery(by=("segment",)).run(funnel_data()).table
    rows = {r["segment"]: r for r in table.iter_rows(named=True)}
    assert rows["ent"]["icp_match"] == pytest.approx(1 / 3)  # L1 of L1, L4, L5
    assert rows["smb"]["contacts_per_account"] == pytest.approx(1.0)  # acc1: L2, acc2: L3
    assert rows["ent"]["multi_threaded_opportunities"] == pytest.approx(0.0)


def test_excluded_leads_do_not_match_the_icp() -> None:
    leads = funnel_leads().with_columns((pl.col("lead_id") == "L1").alias("is_excluded"))
    row = DataQualityQuery().run(funnel_data(leads=leads)).table.row(0, named=True)
    assert row["icp_match"] == pytest.approx(3 / 6)


def test_no_grade_and_no_accounts_say_no_data() -> None:
    leads = funnel_leads().drop("grade", "account_id")
    result = DataQualityQuery().run(funnel_data(leads=leads))
    row = result.table.row(0, named=True)
    assert row["icp_match"] is None
    assert row["multi_threaded_opportunities"] is None
    assert len(result.notes) == 2


def test_field_completeness_of_the_model_fields() -> None:
    result = FieldCompletenessQuery().run(funnel_data())
    rows = {r["field"]: r for r in result.table.iter_rows(named=True)}
    assert (rows["source"]["filled"], rows["source"]["completeness"]) == (6, 1.0)
    assert rows["title"]["completeness"] == pytest.approx(0.5)  # L1, L2, L3
    assert rows["employees"]["completeness"] == 0.0
    assert result.notes == ("employees: column absent",)


def test_field_completeness_by_segment() -> None:
    query = FieldCompletenessQuery(fields=("title",), by=("segment",))
    table = query.run(funnel_data()).table
    rates = dict(zip(table["segment"], table["completeness"], strict=True))
    assert rates == {"ent": pytest.approx(1 / 3), "smb": pytest.approx(2 / 3)}
