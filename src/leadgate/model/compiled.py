"""The compiled qualification model: frozen values the engine and every other part read.

Nothing here knows about YAML; ``compiler.py`` builds these from a checked ``ModelSpec``.
"""

from __future__ import annotations

import re
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


RoutingMethod = Literal["round_robin", "weighted", "capacity"]
Escalation = Literal["reassign", "notify", "none"]

#: The ``rule_id`` recorded when account ownership (not a routing rule) picked the owner.
ACCOUNT_OWNER_RULE = "account_owner"


@dataclass(frozen=True)
class RoutingRule:
    """Leads matching ``when`` (``None``: every lead) go to ``team`` by ``method``."""

    id: str
    description: str
    when: Condition | None
    team: str
    method: RoutingMethod


@dataclass(frozen=True)
class Routing:
    """Ordered routing rules (first match wins), for leads in ``stages``."""

    rules: tuple[RoutingRule, ...] = ()
    stages: tuple[str, ...] = ("mql", "pql")
    account_ownership: bool = True
    escalate_to: str | None = None
    consent_required: bool = False
    """Hold back leads with no consent record on any outreach channel (opt-in regimes)."""
    outreach_channels: tuple[str, ...] = ("email", "phone")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d)\s*(working)?\s*$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> tuple[int, bool] | None:
    """``"4h working"`` → ``(14400, True)``, ``"2d"`` → ``(172800, False)``; ``None`` if invalid.

    Working durations are counted in minutes or hours only (a working *day* differs by team).
    """
    match = _DURATION.match(text.lower())
    if match is None:
        return None
    amount, unit, working = float(match[1]), match[2], match[3] is not None
    seconds = round(amount * _UNIT_SECONDS[unit])
    if seconds <= 0 or (working and unit == "d"):
        return None
    return seconds, working


@dataclass(frozen=True)
class Sla:
    """Sales must act (one of ``stop_on``) within ``seconds`` of a lead entering ``stage``.

    ``working`` seconds count only the team's working hours; otherwise calendar time.
    """

    stage: str
    seconds: int
    working: bool
    stop_on: tuple[str, ...]
    escalate: Escalation
    description: str = ""


@dataclass(frozen=True)
class Learning:
    """What a predictor trained for this model may never use as a feature, and how the
    blended grade weighs the predictor's probability letter against the rule fit letter."""

    never_features: tuple[str, ...] = ()
    predictor_weight: float = 0.5
    #: Lower bounds of p for the probability letters A, B, C; empty = the predictor's own.
    probability_grades: tuple[tuple[str, float], ...] = ()


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
    routing: Routing = field(default=Routing())
    slas: tuple[Sla, ...] = field(default=())
    learning: Learning = field(default=Learning())
