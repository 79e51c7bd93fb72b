"""Text tests resolved against the values seen so far, and the plan built from them, kept.

On a large frame, text tests (``url contains "/pricing"``, ``country in [DE, AT]``) run once
per distinct value of their column and become membership tests (``conditions``). Which
values pass depends on the data, so a plan with resolved tests was built for every call:
~10 ms of expressions and an eager query per test, as much as scoring a service group of
~1,500 leads and ~50,000 events takes otherwise.

``ResolvedPlans`` keeps the values it has classified and the plan built from them, and
builds a new plan only when a frame brings a value it has not classified. A membership test
against every passing value seen so far gives the same answer as one against the passing
values of this frame alone: whether a value passes depends on the value only, and every
value of the frame has been classified.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import polars as pl

from leadgate.engine.conditions import resolve_strings
from leadgate.model.compiled import FieldTest

#: Values kept per field before the memo starts again from one frame's.
KNOWN_LIMIT = 20_000

#: For each field, the values passing each of its tests (in the column's type).
Resolved = dict[str, dict[FieldTest, pl.Series]]
P = TypeVar("P")


def distinct_values(frame: pl.DataFrame, fields: Iterable[str]) -> dict[str, pl.Series]:
    """Distinct non-null values of text columns (for a Categorical or an Enum, its whole
    dictionary), in the column's type; text columns are read in one query."""
    schema = frame.schema
    names = [name for name in fields if name in schema]
    texts = [name for name in names if schema[name] == pl.String]
    out: dict[str, pl.Series] = {}
    if texts:
        query = frame.lazy().select(pl.col(name).drop_nulls().unique().implode() for name in texts)
        row = query.collect(engine="in-memory")
        out |= {name: row.get_column(name).list.explode().drop_nulls() for name in texts}
    for name in names:
        dtype = schema[name]
        if isinstance(dtype, pl.Categorical):
            out[name] = dtype.categories.to_series().cast(pl.Categorical)
        elif isinstance(dtype, pl.Enum):
            out[name] = pl.Series(dtype.categories).cast(dtype)
    return {name: out[name] for name in names if name in out}


@dataclass(frozen=True)
class _Known(Generic[P]):
    """Values classified so far (as text, per field), the passing ones per test, the plan."""

    values: Mapping[str, frozenset[str]]
    passing: Mapping[str, Mapping[FieldTest, pl.Series]]
    dtypes: Mapping[str, pl.DataType]
    plan: P


class ResolvedPlans(Generic[P]):
    """A plan whose text tests are resolved, rebuilt only when a frame brings new values.

    At most ``limit`` values are kept per field: past that, the known values start again
    from one frame's, and a frame with more distinct values than that gets a plan of its
    own, not kept. Thread-safe: the known state is replaced as a whole; two calls that both
    see new values may both build a plan, and either one is kept.
    """

    def __init__(
        self,
        tests: Sequence[FieldTest],
        build: Callable[[Resolved], P],
        *,
        limit: int = KNOWN_LIMIT,
    ) -> None:
        self._tests = list(dict.fromkeys(tests))
        self._build = build
        self._limit = limit
        self._known: _Known[P] | None = None
        self._lock = threading.Lock()

    def plan(self, distinct: Mapping[str, pl.Series]) -> P:
        """The plan for a frame with these distinct values (``distinct_values``): its tests
        on those fields are resolved, tests on other fields run as they are."""
        if any(values.len() > self._limit for values in distinct.values()):
            return self._build(resolve_strings(distinct, self._tests))
        dtypes = {field: values.dtype for field, values in distinct.items()}
        with self._lock:
            known = self._known
        if known is not None and known.dtypes != dtypes:  # other fields are resolved
            known = None
        seen = {} if known is None else known.values
        texts = {field: values.cast(pl.String).to_list() for field, values in distinct.items()}
        new = {
            field: [v for v in values if v not in seen[field]] if field in seen else values
            for field, values in texts.items()
        }
        if known is not None and not any(new.values()):
            return known.plan
        if any(len(seen.get(f, ())) + len(values) > self._limit for f, values in new.items()):
            known, seen, new = None, {}, texts  # too many to keep: start again from these
        passing = {field: dict(tests) for field, tests in (known.passing if known else {}).items()}
        fresh = {
            field: pl.Series(field, values, dtype=pl.String)
            for field, values in new.items()
            if values or known is None
        }
        for field, tests in resolve_strings(fresh, self._tests).items():
            for test, passed in tests.items():
                before = passing.setdefault(field, {}).get(test)
                passing[field][test] = passed if before is None else pl.concat([before, passed])
        typed = {
            field: {test: values.cast(dtypes[field]) for test, values in tests.items()}
            for field, tests in passing.items()
        }
        classified = {field: seen.get(field, frozenset()) | set(new[field]) for field in new}
        updated = _Known(classified, passing, dtypes, self._build(typed))
        with self._lock:
            self._known = updated
        return updated.plan
