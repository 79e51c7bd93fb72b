"""A six-lead funnel whose every metric is worked out by hand in the tests.

=====  =======  ======  ==========================================  ======  =====  =======
lead   created  source  journey (January 2026 unless noted)         fit     grade  account
=====  =======  ======  ==========================================  ======  =====  =======
L1     d1       web     mql d2 → sal d3 → sql d5 → opp d7 → won d17  90      A1     acc1
L2     d1       web     mql d3 → sal d4 → opp d8 → lost d20          70      B2     acc1
L3     d2       ads     mql d4 → recycled by sales d4 02:00          60      B3     acc2
                        (no_budget)
L4     d10      ads     mql d11 → disqualified d12 (competitor)      40      C1     acc2
L5     d15      web     never MQL; opportunity d20 → won d30         20      D4     acc3
L6     Feb 9    ads     mql Feb 9 → open opportunity Feb 10          80      A2     —
=====  =======  ======  ==========================================  ======  =====  =======

Outcomes: L1 won 1,000; L2 lost 500; L5 won 2,000; L6 open 3,000.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from leadgate.analytics.frames import FunnelData

UTC_US = pl.Datetime("us", "UTC")


def d(day: int, hour: int = 0, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def funnel_leads() -> pl.DataFrame:
    rows = [
        {
            "lead_id": "L1",
            "created_at": d(1),
            "source": "web",
            "segment": "ent",
            "owner_id": "o1",
            "stage": "won",
            "fit_score": 90.0,
            "grade": "A1",
            "engagement_score": 10.0,
            "account_id": "acc1",
            "title": "CEO",
            "became_mql_at": d(2),
            "became_sal_at": d(3),
            "became_sql_at": d(5),
            "became_opportunity_at": d(7),
            "became_won_at": d(17),
        },
        {
            "lead_id": "L2",
            "created_at": d(1),
            "source": "web",
            "segment": "smb",
            "owner_id": "o1",
            "stage": "lost",
            "fit_score": 70.0,
            "grade": "B2",
            "engagement_score": 5.0,
            "account_id": "acc1",
            "title": "CTO",
            "became_mql_at": d(3),
            "became_sal_at": d(4),
            "became_opportunity_at": d(8),
            "became_lost_at": d(20),
        },
        {
            "lead_id": "L3",
            "created_at": d(2),
            "source": "ads",
            "segment": "smb",
            "owner_id": "o2",
            "stage": "recycled",
            "fit_score": 60.0,
            "grade": "B3",
            "engagement_score": 0.0,
            "account_id": "acc2",
            "title": "VP",
            "became_mql_at": d(4),
            "recycled_at": d(4, 2),
        },
        {
            "lead_id": "L4",
            "created_at": d(10),
            "source": "ads",
            "segment": "ent",
            "owner_id": "o2",
            "stage": "disqualified",
            "fit_score": 40.0,
            "grade": "C1",
            "engagement_score": 0.0,
            "account_id": "acc2",
            "became_mql_at": d(11),
            "disqualified_at": d(12),
        },
        {
            "lead_id": "L5",
            "created_at": d(15),
            "source": "web",
            "segment": "ent",
            "owner_id": None,
            "stage": "won",
            "fit_score": 20.0,
            "grade": "D4",
            "engagement_score": 0.0,
            "account_id": "acc3",
        },
        {
            "lead_id": "L6",
            "created_at": d(9, month=2),
            "source": "ads",
            "segment": "smb",
            "owner_id": "o1",
            "stage": "mql",
            "fit_score": 80.0,
            "grade": "A2",
            "engagement_score": 3.0,
            "account_id": None,
            "became_mql_at": d(9, month=2),
        },
    ]
    dates = [
        "became_mql_at",
        "became_sal_at",
        "became_sql_at",
        "became_opportunity_at",
        "became_won_at",
        "became_lost_at",
        "recycled_at",
        "disqualified_at",
    ]
    schema = {
        "lead_id": pl.String, "created_at": UTC_US, "source": pl.String,
        "segment": pl.String, "owner_id": pl.String, "stage": pl.String,
        "fit_score": pl.Float64, "grade": pl.String, "engagement_score": pl.Float64,
        "account_id": pl.String, "title": pl.String, **dict.fromkeys(dates, UTC_US),
    }  # fmt: skip
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def funnel_history() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": ["L3", "L4"],
            "from_stage": ["mql", "mql"],
            "to_stage": ["recycled", "disqualified"],
            "action": ["recycle", "disqualify"],
            "reason": ["no_budget", "competitor"],
            "occurred_at": [d(4, 2), d(12)],
        },
        schema_overrides={"occurred_at": UTC_US},
    )


def funnel_outcomes() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "opportunity_id": ["o-1", "o-2", "o-5", "o-6"],
            "lead_id": ["L1", "L2", "L5", "L6"],
            "opportunity_created_at": [d(7), d(8), d(20), d(10, month=2)],
            "amount": [1000.0, 500.0, 2000.0, 3000.0],
            "won": [True, False, True, None],
            "closed_at": [d(17), d(20), d(30), None],
        },
        schema_overrides={"opportunity_created_at": UTC_US, "closed_at": UTC_US},
    )


def funnel_data(**changes: object) -> FunnelData:
    """The six-lead funnel; keyword arguments replace any ``FunnelData`` field."""
    fields: dict[str, object] = {
        "leads": funnel_leads(),
        "stage_history": funnel_history(),
        "outcomes": funnel_outcomes(),
        "model_fields": ("source", "title", "employees"),
    }
    fields.update(changes)
    return FunnelData(**fields)  # type: ignore[arg-type]


MONTHS = 39 / (365.25 / 12)
"""Span of the leads' creation dates (1 January → 9 February) in months."""
