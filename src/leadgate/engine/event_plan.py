"""The event side of a scoring plan: per-rule ledger rows and per-lead event-test counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from leadgate.engine import engagement as eng
from leadgate.engine.conditions import ExprContext, string_tests
from leadgate.engine.ledger import LedgerTypes
from leadgate.model.compiled import EventTest, FieldTest, QualificationModel


class EventPlan:
    """Per-rule ledger rows and per-lead event-test counts from the events."""

    def __init__(
        self,
        model: QualificationModel,
        ctx: ExprContext,
        types: LedgerTypes,
        test_names: Mapping[EventTest, str],
    ) -> None:
        tests = list(test_names)
        sections = {"engagement": model.engagement, "product": model.product}
        self.rules = eng.EventRules(sections, ctx, types)
        self.tests = eng.event_test_counts(tests, test_names, ctx)

    def rows(self, events: pl.LazyFrame) -> pl.LazyFrame:
        """One ledger row per lead and contributing event rule."""
        return self.rules.rows(events)

    def test_counts(self, events: pl.LazyFrame) -> list[pl.LazyFrame]:
        return [test(events) for test in self.tests]


def event_string_tests(model: QualificationModel, tests: Iterable[EventTest]) -> list[FieldTest]:
    """The text tests of the event rules and of ``tests`` (the model's event tests)."""
    rules = [*model.engagement.rules, *model.product.rules]
    found = [t for r in rules for t in string_tests(r.where)]
    return found + [t for e in tests for t in string_tests(e)]
