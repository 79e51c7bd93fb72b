"""The X Education example through the analytics: conversion overall and by lead origin and
source, checked against figures worked out from the raw CSV with the ``csv`` module."""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from leadgate.analytics.frames import FunnelData
from leadgate.analytics.funnel import BreakdownQuery

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / ".." / "shared" / "data" / "xeducation"
EXAMPLE = REPO / "examples" / "xeducation" / "load.py"


@pytest.fixture(scope="module")
def data() -> FunnelData:
    if not (DATA / "Leads.csv").is_file():
        pytest.fail(f"The X Education data is missing: expected it in {DATA.resolve()}.")
    spec = importlib.util.spec_from_file_location("xeducation_load", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frames = module.load_xeducation(DATA)
    return FunnelData(frames.leads, outcomes=frames.outcomes)


def _raw() -> list[dict[str, str]]:
    with (DATA / "Leads.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _by(data: FunnelData, name: str) -> dict[object, tuple[int, int, float]]:
    table = BreakdownQuery(by=(name,)).run(data).table
    return {r[name]: (r["leads"], r["won"], r["lead_to_won"]) for r in table.iter_rows(named=True)}


def test_9240_leads_3561_converted(data: FunnelData) -> None:
    facts = data.facts
    assert facts.height == 9240
    assert int(facts["reached_won"].sum()) == 3561
    assert facts["reached_won"].mean() == pytest.approx(0.3854, abs=5e-5)


@pytest.mark.parametrize(
    ("raw_name", "name"), [("Lead Origin", "lead_origin"), ("Lead Source", "lead_source")]
)
def test_conversion_by_column_matches_the_raw_file(
    data: FunnelData, raw_name: str, name: str
) -> None:
    rows = _raw()
    leads = Counter(r[raw_name] or None for r in rows)
    won = Counter(r[raw_name] or None for r in rows if r["Converted"] == "1")
    got = _by(data, name)
    assert got.keys() == leads.keys()
    for value, count in leads.items():
        assert got[value][:2] == (count, won[value])
        assert got[value][2] == pytest.approx(won[value] / count)


def test_lead_add_form_converts_at_92_5_percent(data: FunnelData) -> None:
    leads, won, rate = _by(data, "lead_origin")["Lead Add Form"]
    assert leads == 718
    assert rate == pytest.approx(0.925, abs=5e-4)
    assert won == round(rate * leads)
