"""Text labels computed from small integer codes equal the plain text-literal expressions."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_series_equal

from leadgate.engine.conditions import JOINED_LABELS_MAX, first_label, first_value, joined_labels

flags = st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=30)


def frame(columns: list[list[bool | None]]) -> pl.DataFrame:
    height = min(len(col) for col in columns)
    return pl.DataFrame(
        {f"c{i}": pl.Series(col[:height], dtype=pl.Boolean) for i, col in enumerate(columns)}
    )


def plain_first(cases: list[tuple[pl.Expr, str]], default: str | None) -> pl.Expr:
    pairs = [(cond, pl.lit(label, pl.String)) for cond, label in cases]
    return first_value(pairs, pl.lit(default, pl.String))


def plain_joined(cases: list[tuple[pl.Expr, str]]) -> pl.Expr:
    parts = [pl.when(cond).then(pl.lit(label)) for cond, label in cases]
    return pl.concat_str(parts, separator=",", ignore_nulls=True)


@given(
    st.lists(flags, min_size=1, max_size=5),
    st.sampled_from([None, "new", "dup"]),
)
def test_first_label_equals_text_literals(columns, default):
    df = frame(columns)
    # labels may repeat (two exclusions with one reason) and may equal the default
    cases = [(pl.col(name), "dup" if i % 2 else f"label{i}") for i, name in enumerate(df.columns)]
    got = df.select(first_label(cases, default).alias("x")).to_series()
    expected = df.select(plain_first(cases, default).alias("x")).to_series()
    assert got.dtype == pl.String
    assert_series_equal(got, expected)


@given(st.lists(flags, min_size=1, max_size=JOINED_LABELS_MAX + 2))
def test_joined_labels_equals_concatenated_text(columns):
    """Bit masks up to ``JOINED_LABELS_MAX`` labels, the plain form beyond: same text."""
    df = frame(columns)
    cases = [(pl.col(name), f"field_{i}") for i, name in enumerate(df.columns)]
    got = df.select(joined_labels(cases).alias("x")).to_series()
    expected = df.select(plain_joined(cases).alias("x")).to_series()
    assert_series_equal(got, expected)


def test_many_labels_and_no_cases():
    df = pl.DataFrame({"n": list(range(300))})
    cases = [(pl.col("n") == i, f"v{i}") for i in range(299)]
    got = df.select(first_label(cases, "rest").alias("x")).to_series()
    assert got.to_list() == [f"v{i}" for i in range(299)] + ["rest"]
    empty = df.with_columns(
        first_label([], None).alias("a"), first_label([], "d").alias("b"), joined_labels([])
    )
    assert empty["a"].null_count() == 300
    assert set(empty["b"]) == {"d"}
    assert set(empty["literal"]) == {""}


def test_constant_conditions_broadcast():
    """A catch-all case (e.g. a segment without a condition) reads no column."""
    df = pl.DataFrame({"n": [1, 2, 3]})
    out = df.with_columns(
        first_label([(pl.lit(True), "all")], None).alias("a"),
        first_label([(pl.lit(None, pl.Boolean), "x")], "d").alias("b"),
        joined_labels([(pl.lit(True), "p"), (pl.lit(False), "q")]).alias("c"),
    )
    assert out["a"].to_list() == ["all"] * 3
    assert out["b"].to_list() == ["d"] * 3
    assert out["c"].to_list() == ["p"] * 3
