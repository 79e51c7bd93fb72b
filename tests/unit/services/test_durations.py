"""The one duration grammar behind --decision-delay, --cadence, --older-than and --grace."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadgate.exceptions import UsageError
from leadgate.services.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        (" 1D12h ", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("0d", timedelta(0)),
    ],
)
def test_readable_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_bare_numbers_and_fractions_only_where_the_caller_allows_them() -> None:
    assert parse_duration("0", bare_unit="d") == timedelta(0)
    assert parse_duration("2.5", bare_unit="d") == timedelta(days=2.5)
    for text, options in (("30", {}), ("3.5d", {"fractions": False})):
        with pytest.raises(UsageError) as info:
            parse_duration(text, **options)  # type: ignore[arg-type]
        assert info.value.code == "bad_duration"


@pytest.mark.parametrize("text", ["", "d", "a week", "30x", "-3d", "30d later", "36501d"])
def test_anything_else_is_refused_with_the_option_named(text: str) -> None:
    with pytest.raises(UsageError, match=r"--grace .* is not a duration") as info:
        parse_duration(text, what="--grace")
    assert info.value.code == "bad_duration"
