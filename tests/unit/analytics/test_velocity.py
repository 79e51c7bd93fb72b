"""Days in each stage and cycle length, against the hand-worked six-lead funnel."""

from __future__ import annotations

import pytest

from analyticskit import funnel_data, funnel_leads
from leadgate.analytics.frames import FunnelData
from leadgate.analytics.velocity import VelocityQuery
from leadgate.exceptions import UsageError


def _rows(by: tuple[str, ...] = ()) -> dict[str, dict[str, object]]:
    table = VelocityQuery(by=by).run(funnel_data()).table
    return {r["stage"]: r for r in table.iter_rows(named=True) if not by}


def test_days_in_each_stage() -> None:
    rows = _rows()
    # mql → next dated stage: L1 1 day, L2 1 day, L6 1 day (L3/L4 left the funnel).
    assert rows["mql"] == {"stage": "mql", "leads": 3, "median_days": 1.0, "p90_days": 1.0}
    # sal: L1 3 → 5 (2 days); L2 4 → 8, skipping SQL (4 days); p90 = 2 + 0.9 × 2.
    assert rows["sal"]["leads"] == 2
    assert rows["sal"]["median_days"] == pytest.approx(3.0)
    assert rows["sal"]["p90_days"] == pytest.approx(3.8)
    assert (rows["sql"]["leads"], rows["sql"]["median_days"]) == (1, 2.0)
    # opportunity → won: L1 7 → 17, L5 20 → 30.
    assert (rows["opportunity"]["leads"], rows["opportunity"]["median_days"]) == (2, 10.0)


def test_cycle_length_is_creation_to_won() -> None:
    cycle = _rows()["cycle"]
    # L1 1 → 17 (16 days), L5 15 → 30 (15 days).
    assert cycle["leads"] == 2
    assert cycle["median_days"] == pytest.approx(15.5)
    assert cycle["p90_days"] == pytest.approx(15.9)


def test_velocity_by_segment() -> None:
    table = VelocityQuery(by=("segment",)).run(funnel_data()).table
    ent = {r["stage"]: r for r in table.iter_rows(named=True) if r["segment"] == "ent"}
    assert ent["cycle"]["median_days"] == pytest.approx(15.5)  # L1 and L5 are both ent
    smb = {r["stage"]: r for r in table.iter_rows(named=True) if r["segment"] == "smb"}
    assert smb["cycle"]["leads"] == 0
    assert smb["cycle"]["median_days"] is None


def test_velocity_needs_created_at() -> None:
    with pytest.raises(UsageError, match="created_at"):
        VelocityQuery().run(FunnelData(funnel_leads().drop("created_at")))
