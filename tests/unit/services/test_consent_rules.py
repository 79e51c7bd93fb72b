"""The outreach consent rule (``services.privacy.flags_from``), case by case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from leadgate.services.privacy import ConsentPolicy, flags_from

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _consents(*records: tuple[str, str, str, str | None, int]) -> pl.DataFrame:
    """(lead_id, channel, status, lawful_basis, minutes after T0) records, ids in order."""
    return pl.DataFrame(
        {
            "id": list(range(1, len(records) + 1)),
            "lead_id": [r[0] for r in records],
            "channel": [r[1] for r in records],
            "status": [r[2] for r in records],
            "lawful_basis": [r[3] for r in records],
            "recorded_at": [T0 + timedelta(minutes=r[4]) for r in records],
        },
        schema={
            "id": pl.Int64,
            "lead_id": pl.String,
            "channel": pl.String,
            "status": pl.String,
            "lawful_basis": pl.String,
            "recorded_at": pl.Datetime("us", "UTC"),
        },
    )


def _leads(*ids: str, erased: tuple[str, ...] = ()) -> pl.DataFrame:
    return pl.DataFrame(
        {"lead_id": list(ids), "erased_at": [T0 if i in erased else None for i in ids]},
        schema={"lead_id": pl.String, "erased_at": pl.Datetime("us", "UTC")},
    )


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([], (True, "no_record")),
        ([("a", "email", "granted", "consent", 0)], (True, "consent")),
        ([("a", "email", "granted", None, 0)], (True, "consent")),
        ([("a", "email", "pending", "consent", 0)], (False, "no_consent")),
        ([("a", "email", "pending", "legitimate_interest", 0)], (True, "legitimate_interest")),
        ([("a", "phone", "objected", "legitimate_interest", 0)], (False, "objected")),
        # the latest record per channel wins, in either direction
        (
            [("a", "email", "granted", "consent", 0), ("a", "email", "withdrawn", "consent", 5)],
            (False, "withdrawn"),
        ),
        (
            [("a", "email", "withdrawn", "consent", 0), ("a", "email", "granted", "consent", 5)],
            (True, "consent"),
        ),
        # one open outreach channel is enough
        (
            [("a", "email", "withdrawn", "consent", 0), ("a", "phone", "granted", "contract", 1)],
            (True, "contract"),
        ),
        # "all" covers every channel, and a newer per-channel record overrides it
        ([("a", "all", "denied", "consent", 0)], (False, "denied")),
        (
            [("a", "all", "denied", "consent", 0), ("a", "phone", "granted", "consent", 1)],
            (True, "consent"),
        ),
        (
            [("a", "phone", "granted", "consent", 0), ("a", "all", "withdrawn", "consent", 1)],
            (False, "withdrawn"),
        ),
        # channels that are not outreach do not count either way
        ([("a", "sms", "granted", "consent", 0)], (True, "no_record")),
        ([("a", "sms", "withdrawn", "consent", 0)], (True, "no_record")),
        # equal times: the later insert wins
        (
            [("a", "email", "granted", "consent", 0), ("a", "email", "withdrawn", "consent", 0)],
            (False, "withdrawn"),
        ),
    ],
)
def test_rule(records, expected) -> None:
    flags = flags_from(_consents(*records), _leads("a"))
    assert flags.row(0)[1:] == expected


def test_strict_policy_erased_leads_and_other_leads() -> None:
    consents = _consents(("a", "email", "granted", "consent", 0), ("b", "sms", "granted", None, 0))
    leads = _leads("a", "b", "c", "z", erased=("z",))
    assert flags_from(consents, leads).rows() == [
        ("a", True, "consent"),
        ("b", True, "no_record"),
        ("c", True, "no_record"),
        ("z", False, "erased"),
    ]
    strict = ConsentPolicy(require_record=True)
    assert flags_from(consents, leads, strict).rows() == [
        ("a", True, "consent"),
        ("b", False, "no_consent"),
        ("c", False, "no_consent"),
        ("z", False, "erased"),
    ]
    sms_too = ConsentPolicy(outreach_channels=("email", "sms"), require_record=True)
    assert flags_from(consents, leads, sms_too)["consent_ok"].to_list() == [
        True,
        True,
        False,
        False,
    ]
