"""The raw shape of a qualification model file (schema version 1), as pydantic models.

These classes only describe the YAML; semantic checks live in ``checks.py`` and the engine
never sees a ``Spec``: it receives the compiled ``QualificationModel``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

BuyingRole = Literal[
    "decision_maker", "champion", "influencer", "user", "technical_approver", "blocker"
]
CriterionKind = Literal["boolean", "scale", "non_empty"]
RollupMethod = Literal["sum", "max", "mean", "top_k_mean"]
StageName = Literal["sql", "pql", "mql", "iql"]
Number = float | int

IDENT = r"^[a-z][a-z0-9_]*$"
Ident = Annotated[str, Field(pattern=IDENT, max_length=64)]


class Strict(BaseModel):
    """Base: unknown keys are errors (they are almost always typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ThresholdRefSpec(Strict):
    """A number looked up per segment in ``thresholds``: ``{threshold: mql_fit}``."""

    threshold: Ident


Bound = Number | ThresholdRefSpec
Scalar = str | StrictBool | StrictInt | float


class ConditionSpec(Strict):
    """One condition: a field test, a combinator, an event test or a framework test.

    Exactly one form may be used per mapping; ``checks.py`` enforces it.
    """

    field: str | None = None
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    gt: Bound | None = None
    gte: Bound | None = None
    lt: Bound | None = None
    lte: Bound | None = None
    between: tuple[Bound, Bound] | None = None
    matches: str | None = None
    contains: str | None = None
    is_missing: StrictBool | None = None
    all: list[ConditionSpec] | None = None
    any: list[ConditionSpec] | None = None
    not_: ConditionSpec | None = Field(default=None, alias="not")
    event: str | None = None
    where: ConditionSpec | None = None
    within_days: Annotated[int, Field(gt=0)] | None = None
    min_count: Annotated[int, Field(ge=1)] | None = None
    framework: str | None = None
    passed: StrictBool | None = None


class SegmentSpec(Strict):
    id: Ident
    label: str = ""
    when: ConditionSpec | None = None


class ExclusionSpec(Strict):
    id: Ident
    reason: Ident
    description: str = ""
    when: ConditionSpec


class PersonaSpec(Strict):
    id: Ident
    label: str = ""
    buying_role: BuyingRole
    when: ConditionSpec
    segments: list[str] | None = None
    points: Number = 0


class FitRuleSpec(Strict):
    id: Ident
    description: str = ""
    when: ConditionSpec
    points: Number


class FitSpec(Strict):
    rules: list[FitRuleSpec] = Field(default_factory=list)


class DecaySpec(Strict):
    """How a rule's points fade with the age of the event (whole UTC days)."""

    half_life_days: Number | None = None
    linear_days: Number | None = None
    window_days: Number | None = None


class EventRuleSpec(Strict):
    id: Ident
    description: str = ""
    event: str
    where: ConditionSpec | None = None
    points: Number
    decay: DecaySpec | None = None
    cap: Number | None = None
    max_per_day: Annotated[int, Field(ge=1)] | None = None


class EventScoreSpec(Strict):
    rules: list[EventRuleSpec] = Field(default_factory=list)
    floor: Number | None = None
    cap: Number | None = None


class CriterionSpec(Strict):
    id: Ident
    label: str = ""
    field: str | None = None
    kind: CriterionKind = "boolean"
    min: Number | None = None
    questions: list[str] = Field(default_factory=list)


class PassRuleSpec(Strict):
    at_least: Annotated[int, Field(ge=0)] | None = None
    required: list[str] = Field(default_factory=list)


class FrameworkSpec(Strict):
    id: Ident
    use: str | None = None
    label: str = ""
    criteria: list[CriterionSpec] | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    pass_rule: PassRuleSpec = Field(default_factory=PassRuleSpec, alias="pass")


class ValueFromFieldSpec(Strict):
    field: str
    per_unit: Number
    minimum: Number | None = None
    maximum: Number | None = None


class ValueSpec(Strict):
    default: Number = 0
    by_segment: dict[str, Number] = Field(default_factory=dict)
    from_field: ValueFromFieldSpec | None = None


class GradeSpec(Strict):
    """Lower bounds: ``fit: {A: 70, B: 50, C: 30}`` (else D), ``engagement: {1: 60, ...}``."""

    fit: dict[Literal["A", "B", "C"], Number]
    engagement: dict[Literal["1", "2", "3"], Number]

    @model_validator(mode="before")
    @classmethod
    def _engagement_keys_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("engagement"), dict):
            data = {**data, "engagement": {str(k): v for k, v in data["engagement"].items()}}
        return data


class TemperatureSpec(Strict):
    hot: ConditionSpec
    warm: ConditionSpec


class ThresholdsSpec(Strict):
    default: dict[str, Number] = Field(default_factory=dict)
    segments: dict[str, dict[str, Number]] = Field(default_factory=dict)


class StageRuleSpec(Strict):
    when: ConditionSpec
    required_fields: list[str] = Field(default_factory=list)
    description: str = ""


class StagesSpec(Strict):
    sql: StageRuleSpec | None = None
    pql: StageRuleSpec | None = None
    mql: StageRuleSpec | None = None
    iql: StageRuleSpec | None = None


class RollupSpec(Strict):
    score: Literal["fit_score", "engagement_score", "product_score"] = "engagement_score"
    method: RollupMethod = "top_k_mean"
    k: Annotated[int, Field(ge=1)] = 3


class BuyingGroupSpec(Strict):
    required_roles: list[BuyingRole] = Field(default_factory=list)
    engaged_when: ConditionSpec | None = None


class AccountSpec(Strict):
    rollup: RollupSpec = Field(default_factory=RollupSpec)
    buying_group: BuyingGroupSpec = Field(default_factory=BuyingGroupSpec)
    mqa: ConditionSpec | None = None


RoutingMethod = Literal["round_robin", "weighted", "capacity"]
SlaStage = Literal["iql", "mql", "pql", "sal", "sql", "opportunity"]
SlaAction = Literal["accept", "recycle", "disqualify", "convert", "won", "lost"]
Escalation = Literal["reassign", "notify", "none"]


def _routed_stages() -> list[SlaStage]:
    return ["mql", "pql"]


def _stopping_actions() -> list[SlaAction]:
    return ["accept", "recycle", "disqualify"]


class RoutingRuleSpec(Strict):
    """One routing rule: leads matching ``when`` (or every lead) go to ``team``."""

    id: Ident
    description: str = ""
    when: ConditionSpec | None = None
    team: Ident
    method: RoutingMethod = "round_robin"


class ConsentSpec(Strict):
    """Which consent routing to outreach needs (see ``docs/security-and-privacy.md``).

    ``require_record: false`` (the default) routes a lead with no consent record on any
    outreach channel (B2B outreach under legitimate interest); ``true`` holds it back until
    a record opens a channel (opt-in regimes).
    """

    require_record: StrictBool = False
    outreach_channels: list[Ident] = Field(default_factory=lambda: ["email", "phone"], min_length=1)


class RoutingSpec(Strict):
    """Ordered routing rules (first match wins), account ownership and the consent needed."""

    stages: list[SlaStage] = Field(default_factory=_routed_stages)
    account_ownership: StrictBool = True
    escalate_to: str | None = None
    # None when absent or all defaults: the model's version does not change with it
    consent: ConsentSpec | None = None
    rules: list[RoutingRuleSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _default_consent_is_none(cls, data: Any) -> Any:
        given = data.get("consent") if isinstance(data, dict) else None
        if isinstance(given, dict):
            try:
                default = ConsentSpec.model_validate(given) == ConsentSpec()
            except ValidationError:  # reported where it is, by the field's own validation
                return data
            if default:
                return {k: v for k, v in data.items() if k != "consent"}
        return data


class SlaSpec(Strict):
    """How fast sales must act on a lead in a stage: ``respond_within: 4h working``."""

    respond_within: str
    stop_on: list[SlaAction] = Field(default_factory=_stopping_actions)
    escalate: Escalation = "notify"
    description: str = ""


Probability = Annotated[float, Field(gt=0, lt=1)]


class BlendedGradeSpec(Strict):
    """How the blended grade combines the rule fit letter with the predictor's probability.

    ``probability: {A: 0.5, B: 0.3, C: 0.1}`` are lower bounds of ``p_convert`` for the
    probability letter (else D); without them the predictor's own training quantiles are used.
    """

    predictor_weight: Annotated[float, Field(ge=0, le=1)] = 0.5
    probability: dict[Literal["A", "B", "C"], Probability] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounds_fall(self) -> BlendedGradeSpec:
        if self.probability and set(self.probability) != {"A", "B", "C"}:
            raise ValueError("probability needs all three lower bounds A, B and C")
        if self.probability and not (
            self.probability["A"] > self.probability["B"] > self.probability["C"]
        ):
            raise ValueError("probability bounds must fall from A to C (A > B > C)")
        return self


class LearningSpec(Strict):
    """Predictive scoring: fields that must never be features (filled in after sales contact)
    and how the blended grade weighs the predictor."""

    never_features: list[str] = Field(default_factory=list)
    blended_grade: BlendedGradeSpec | None = None


class ModelSpec(Strict):
    """A whole qualification model file."""

    schema_version: Literal[1]
    name: Ident
    description: str = ""
    event_types: list[Ident]
    segments: list[SegmentSpec] = Field(default_factory=list)
    exclusions: list[ExclusionSpec] = Field(default_factory=list)
    personas: list[PersonaSpec] = Field(default_factory=list)
    fit: FitSpec = Field(default_factory=FitSpec)
    engagement: EventScoreSpec = Field(default_factory=EventScoreSpec)
    product: EventScoreSpec = Field(default_factory=EventScoreSpec)
    frameworks: list[FrameworkSpec] = Field(default_factory=list)
    value: ValueSpec = Field(default_factory=ValueSpec)
    grades: GradeSpec
    temperature: TemperatureSpec
    thresholds: ThresholdsSpec = Field(default_factory=ThresholdsSpec)
    stages: StagesSpec
    accounts: AccountSpec = Field(default_factory=AccountSpec)
    routing: RoutingSpec | None = None
    slas: dict[SlaStage, SlaSpec] | None = None
    learning: LearningSpec | None = None
