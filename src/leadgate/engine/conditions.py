"""Translate compiled conditions into Polars expressions.

String tests are case-insensitive. A test on a missing value is false (``is_missing`` is the
way to ask about missing values), so ``not`` of a test on a missing value is true.

String tests on event properties can be *pre-resolved*: ``resolve_strings`` evaluates them
once against the distinct values of a column and rewrites them as ``is_in`` tests, which is
what makes property filters cheap on tens of millions of events.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from leadgate.model.compiled import (
    AllOf,
    AnyOf,
    Condition,
    EventTest,
    FieldTest,
    FrameworkTest,
    Not,
    Scalar,
    ThresholdRef,
)

_STRING_OPS = frozenset({"matches", "contains"})


@dataclass
class ExprContext:
    """How names in a condition map to columns of the frame being evaluated."""

    column: Callable[[str], str] = lambda name: name
    threshold: Callable[[ThresholdRef], pl.Expr] | None = None
    event_test: Callable[[EventTest], str] | None = None
    framework: Callable[[str], str] | None = None
    #: field -> {FieldTest: values that satisfy it}, from ``resolve_strings``
    resolved: Mapping[str, Mapping[FieldTest, pl.Series]] = field(default_factory=dict)
    string_fields: frozenset[str] = frozenset()


def to_expr(cond: Condition, ctx: ExprContext) -> pl.Expr:
    """A Boolean expression, never null, equivalent to ``cond``."""
    if isinstance(cond, AllOf):
        return pl.all_horizontal([to_expr(c, ctx) for c in cond.items])
    if isinstance(cond, AnyOf):
        return pl.any_horizontal([to_expr(c, ctx) for c in cond.items])
    if isinstance(cond, Not):
        return ~to_expr(cond.item, ctx)
    if isinstance(cond, EventTest):
        if ctx.event_test is None:
            raise ValueError("event tests are not available here")
        return pl.col(ctx.event_test(cond)) >= cond.min_count
    if isinstance(cond, FrameworkTest):
        if ctx.framework is None:
            raise ValueError("framework tests are not available here")
        passed = pl.col(ctx.framework(cond.framework_id))
        return passed if cond.passed else ~passed
    return _field_expr(cond, ctx).fill_null(False)


def _bound(value: object, ctx: ExprContext) -> pl.Expr:
    if isinstance(value, ThresholdRef):
        if ctx.threshold is None:
            raise ValueError("thresholds are not available here")
        return ctx.threshold(value)
    return pl.lit(value)


def _field_expr(test: FieldTest, ctx: ExprContext) -> pl.Expr:
    resolved = ctx.resolved.get(test.field, {}).get(test)
    col = pl.col(ctx.column(test.field))
    if resolved is not None:
        return col.is_in(resolved.implode())
    op, value = test.op, test.value
    if op == "is_missing":
        missing = col.is_null()
        if test.field in ctx.string_fields:
            missing = missing | (col.cast(pl.String).str.strip_chars() == "")
        return missing if value else ~missing
    if op in ("gt", "gte", "lt", "lte"):
        bound = _bound(value, ctx)
        return {"gt": col > bound, "gte": col >= bound, "lt": col < bound, "lte": col <= bound}[op]
    if op == "between":
        assert isinstance(value, tuple)
        return (col >= _bound(value[0], ctx)) & (col <= _bound(value[1], ctx))
    text = col.cast(pl.String)
    if op in _STRING_OPS:
        return text.str.contains(_pattern(test))
    if op in ("eq", "ne"):
        hit = _equals(col, text, value)  # type: ignore[arg-type]
        return hit if op == "eq" else ~hit
    values = tuple(value) if isinstance(value, tuple) else (value,)
    hit = _one_of(col, text, values)  # type: ignore[arg-type]
    return hit if op == "in" else ~hit


def _pattern(test: FieldTest) -> str:
    value = str(test.value)
    return "(?i)" + (value if test.op == "matches" else re.escape(value))


def _equals(col: pl.Expr, text: pl.Expr, value: Scalar) -> pl.Expr:
    if isinstance(value, str):
        return text.str.to_lowercase() == value.lower()
    return col == value


def _one_of(col: pl.Expr, text: pl.Expr, values: tuple[Scalar, ...]) -> pl.Expr:
    strings = [v.lower() for v in values if isinstance(v, str)]
    others = [v for v in values if not isinstance(v, str)]
    parts: list[pl.Expr] = []
    if strings:
        parts.append(text.str.to_lowercase().is_in(pl.Series(strings).implode()))
    if others:
        parts.append(col.is_in(pl.Series(others).implode()))
    return pl.any_horizontal(parts) if len(parts) > 1 else parts[0]


def string_tests(cond: Condition | None) -> list[FieldTest]:
    """The field tests of ``cond`` that compare text (candidates for pre-resolution)."""
    if cond is None:
        return []
    if isinstance(cond, AllOf | AnyOf):
        return [t for c in cond.items for t in string_tests(c)]
    if isinstance(cond, Not):
        return string_tests(cond.item)
    if isinstance(cond, EventTest):
        return string_tests(cond.where)
    if isinstance(cond, FieldTest) and cond.op != "is_missing":
        is_text = cond.op in _STRING_OPS or any(
            isinstance(v, str)
            for v in (cond.value if isinstance(cond.value, tuple) else (cond.value,))
        )
        if is_text and cond.op not in ("gt", "gte", "lt", "lte", "between"):
            return [cond]
    return []


def resolve_strings(
    distinct: Mapping[str, pl.Series], tests: list[FieldTest]
) -> dict[str, dict[FieldTest, pl.Series]]:
    """Evaluate text tests once per distinct value of their column.

    Args:
        distinct: for each field, its distinct non-null values (in the column's dtype).
        tests: the tests to resolve; tests on fields not in ``distinct`` are skipped.
    """
    out: dict[str, dict[FieldTest, pl.Series]] = {}
    for test in tests:
        values = distinct.get(test.field)
        if values is None:
            continue
        frame = values.cast(pl.String).rename(test.field).to_frame()
        mask = frame.select(_field_expr(test, ExprContext()).fill_null(False)).to_series()
        out.setdefault(test.field, {})[test] = values.filter(mask)
    return out


def first_of(cases: Sequence[tuple[pl.Expr, pl.Expr]], default: pl.Expr) -> pl.Expr:
    """``when c1 then v1, when c2 then v2 … otherwise default``: the first case that holds."""
    if not cases:
        return default
    chain: Then | ChainedThen = pl.when(cases[0][0]).then(cases[0][1])
    for cond, value in cases[1:]:
        chain = chain.when(cond).then(value)
    return chain.otherwise(default)


def first_value(cases: Sequence[tuple[pl.Expr, pl.Expr]], default: pl.Expr) -> pl.Expr:
    """``first_of`` for cases whose values are never null, e.g. literals.

    Then "the value of the first case that holds" is a coalesce of one-armed cases, which
    Polars evaluates with far fewer nodes than a nested when/then chain.
    """
    if not cases:
        return default
    return pl.coalesce([*(pl.when(cond).then(value) for cond, value in cases), default])


def _reads_no_column(conditions: Sequence[pl.Expr]) -> bool:
    """True when the conditions are constants (a position gathered from them would not
    broadcast to the frame's height)."""
    return not any(cond.meta.root_names() for cond in conditions)


#: Up to this many labels, ``joined_labels`` maps a bit mask (2**n texts); beyond, it joins.
JOINED_LABELS_MAX = 10


def joined_labels(cases: Sequence[tuple[pl.Expr, str]], separator: str = ",") -> pl.Expr:
    """The labels of the cases that hold, in order, joined by ``separator`` ("" if none).

    Which cases hold is summed into a bit mask and only the mask is turned into text, so no
    full column of text is built per case (see ``first_label``).
    """
    if not cases:
        return pl.lit("")
    if len(cases) > JOINED_LABELS_MAX or _reads_no_column([cond for cond, _ in cases]):
        parts = [pl.when(cond).then(pl.lit(label)) for cond, label in cases]
        return pl.concat_str(parts, separator=separator, ignore_nulls=True)
    zero = pl.lit(0, pl.UInt16)
    mask: pl.Expr = zero
    for i, (cond, _) in enumerate(cases):
        mask = mask + pl.when(cond).then(pl.lit(1 << i, pl.UInt16)).otherwise(zero)
    masks = range(1 << len(cases))
    texts = [
        separator.join(label for i, (_, label) in enumerate(cases) if m >> i & 1) for m in masks
    ]
    return pl.lit(pl.Series(texts, dtype=pl.String)).gather(mask)


def first_label(cases: Sequence[tuple[pl.Expr, str]], default: str | None) -> pl.Expr:
    """The text label of the first case that holds, else ``default`` (a String column).

    The cases pick a small integer position and only the result is turned into text: a text
    literal per case would each become a full column first (16 bytes a row, ~100 MB over
    six cases at a million leads), a position is one byte a row.
    """
    if _reads_no_column([cond for cond, _ in cases]):  # a constant: as text, it broadcasts
        pairs = [(cond, pl.lit(label, pl.String)) for cond, label in cases]
        return first_value(pairs, pl.lit(default, pl.String))
    labels = [label for _, label in cases]
    if default is not None:
        labels.append(default)
    code = pl.UInt8 if len(labels) < 256 else pl.UInt32
    fallback = pl.lit(len(cases) if default is not None else None, code)
    position = first_value([(cond, pl.lit(i, code)) for i, (cond, _) in enumerate(cases)], fallback)
    return pl.lit(pl.Series(labels, dtype=pl.String)).gather(position)
