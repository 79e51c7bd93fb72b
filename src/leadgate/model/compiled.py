"""The compiled qualification model: frozen values the engine and every other part read.

Nothing here knows about YAML; ``compiler.py`` builds these from a checked ``ModelSpec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BuyingRole = Literal[
    "decision_maker", "champion", "influencer", "user", "technical_approver", "blocker"
]
StageName = Literal["new", "iql", "mql", "pql", "sql", "disqualified"]
DecayKind = Literal["none", "half_life", "linear", "window"]
CompareOp = Literal[
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "matches",
    "contains",
    "is_missing",
]
CriterionKind = Literal["boolean", "scale", "non_empty"]
RollupMethod = Literal["sum", "max", "mean", "top_k_mean"]
Temperature = Literal["cold", "warm", "hot"]
Scalar = str | bool | int | float

#: Stage precedence: the first stage whose rule holds (and whose fields are known) wins.
STAGE_PRECEDENCE: tuple[StageName, ...] = ("sql", "pql", "mql", "iql")


@dataclass(frozen=True)
class ThresholdRef:
    """A bound looked up per segment from ``thresholds``."""

    name: str


Operand = float | ThresholdRef


@dataclass(frozen=True)
class FieldTest:
    field: str
    op: CompareOp
    value: Scalar | Operand | tuple[Scalar, ...] | tuple[Operand, Operand] | None = None


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class EventTest:
    """True when the lead has at least ``min_count`` matching events (in the window)."""

    event_type: str
    where: Condition | None
    within_days: int | None
    min_count: int


@dataclass(frozen=True)
class FrameworkTest:
    framework_id: str
    passed: bool


Condition = FieldTest | AllOf | AnyOf | Not | EventTest | FrameworkTest


@dataclass(frozen=True)
class Segment:
    id: str
    label: str
    when: Condition | None


@dataclass(frozen=True)
class Exclusion:
    id: str
    reason: str
    description: str
    when: Condition


@dataclass(frozen=True)
class Persona:
    id: str
    label: str
    buying_role: BuyingRole
    when: Condition
    segments: tuple[str, ...] | None
    points: float


@dataclass(frozen=True)
class FitRule:
    id: str
    description: str
    when: Condition
    points: float


@dataclass(frozen=True)
class Decay:
    kind: DecayKind
    days: float | None = None


@dataclass(frozen=True)
class EventRule:
    id: str
    description: str
    event_type: str
    where: Condition | None
    points: float
    decay: Decay
    cap: float | None
    max_per_day: int | None


@dataclass(frozen=True)
class EventScore:
    rules: tuple[EventRule, ...]
    floor: float | None
    cap: float | None


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    field: str
    kind: CriterionKind
    min: float | None
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    id: str
    label: str
    criteria: tuple[Criterion, ...]
    at_least: int
    required: tuple[str, ...]


@dataclass(frozen=True)
class ValueFromField:
    field: str
    per_unit: float
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class ValueRule:
    default: float
    by_segment: tuple[tuple[str, float], ...]
    from_field: ValueFromField | None


@dataclass(frozen=True)
class Grades:
    """Lower bounds, best first: ``fit=(("A", 70), ("B", 50), ("C", 30))``, else D / 4."""

    fit: tuple[tuple[str, float], ...]
    engagement: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class TemperatureRule:
    hot: Condition
    warm: Condition


@dataclass(frozen=True)
class Thresholds:
    default: tuple[tuple[str, float], ...]
    segments: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]

    def value(self, name: str, segment: str | None = None) -> float:
        """The bound for ``name`` in ``segment`` (falling back to the default)."""
        for seg, pairs in self.segments:
            if seg == segment:
                for key, bound in pairs:
                    if key == name:
                        return bound
        return dict(self.default)[name]


@dataclass(frozen=True)
class StageRule:
    stage: StageName
    when: Condition
    required_fields: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class AccountRules:
    rollup_score: str
    method: RollupMethod
    k: int
    required_roles: tuple[BuyingRole, ...]
    engaged_when: Condition | None
    mqa: Condition | None


@dataclass(frozen=True)
class QualificationModel:
    """A checked, frozen qualification model; ``version`` is its content hash."""

    name: str
    version: str
    description: str
    event_types: tuple[str, ...]
    segments: tuple[Segment, ...]
    exclusions: tuple[Exclusion, ...]
    personas: tuple[Persona, ...]
    fit_rules: tuple[FitRule, ...]
    engagement: EventScore
    product: EventScore
    frameworks: tuple[Framework, ...]
    value: ValueRule
    grades: Grades
    temperature: TemperatureRule
    thresholds: Thresholds
    stages: tuple[StageRule, ...]
    accounts: AccountRules
    lead_fields: tuple[str, ...] = field(default=())
    account_fields: tuple[str, ...] = field(default=())
    event_fields: tuple[str, ...] = field(default=())
