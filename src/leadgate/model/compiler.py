"""Compile a checked ``ModelSpec`` into a frozen, versioned ``QualificationModel``.

The artifact is the normalised spec (defaults filled in, framework templates expanded) as
canonical JSON; its SHA-256 is the model version, so two files that mean the same thing
get the same version and any change in meaning gets a new one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from leadgate.exceptions import ModelError
from leadgate.model import columns as c
from leadgate.model.compiled import (
    AccountRules,
    AllOf,
    AnyOf,
    Condition,
    Criterion,
    Decay,
    EventRule,
    EventScore,
    EventTest,
    Exclusion,
    FieldTest,
    FitRule,
    Framework,
    FrameworkTest,
    Grades,
    Learning,
    Not,
    Operand,
    Persona,
    QualificationModel,
    Routing,
    RoutingRule,
    Scalar,
    Segment,
    Sla,
    StageRule,
    TemperatureRule,
    ThresholdRef,
    Thresholds,
    ValueFromField,
    ValueRule,
    parse_duration,
)
from leadgate.model.fields import DERIVED_FIELDS, is_account_field
from leadgate.model.frameworks import SPIN_QUESTIONS, TEMPLATES
from leadgate.model.spec import (
    ConditionSpec,
    CriterionSpec,
    DecaySpec,
    EventRuleSpec,
    EventScoreSpec,
    FrameworkSpec,
    LearningSpec,
    ModelSpec,
    PassRuleSpec,
    RoutingSpec,
    SlaSpec,
    SlaStage,
)

_OPS: dict[str, str] = {
    "equals": "eq",
    "not_equals": "ne",
    "in_": "in",
    "not_in": "not_in",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "between": "between",
    "matches": "matches",
    "contains": "contains",
    "is_missing": "is_missing",
}


def expand_frameworks(spec: ModelSpec) -> ModelSpec:
    """Replace ``use: BANT`` by its explicit criteria so the artifact is self-contained."""
    expanded = [_expand(fw) for fw in spec.frameworks]
    return spec.model_copy(update={"frameworks": expanded})


def _expand(fw: FrameworkSpec) -> FrameworkSpec:
    if fw.use is None:
        criteria = [
            crit if crit.field else crit.model_copy(update={"field": crit.id})
            for crit in fw.criteria or []
        ]
        return fw.model_copy(update={"criteria": criteria})
    template = TEMPLATES[fw.use.lower()]
    criteria = [
        CriterionSpec(
            id=t.id,
            label=t.label,
            field=fw.fields.get(t.id, t.id),
            kind=t.kind,  # type: ignore[arg-type]
            min=t.min,
            questions=list(t.questions),
        )
        for t in template.criteria
    ]
    rule = fw.pass_rule
    at_least = rule.at_least if rule.at_least is not None else template.at_least
    required = rule.required if "required" in rule.model_fields_set else list(template.required)
    return FrameworkSpec.model_validate(
        {
            "id": fw.id,
            "label": fw.label or template.label,
            "criteria": criteria,
            "pass": PassRuleSpec(at_least=at_least, required=required),
        }
    )


def normalised_document(spec: ModelSpec) -> dict[str, Any]:
    """The canonical JSON-ready form of a checked spec (what the artifact stores)."""
    doc: dict[str, Any] = expand_frameworks(spec).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return doc


def content_hash(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def compile_spec(spec: ModelSpec) -> QualificationModel:
    """Build the frozen model; the spec must already have passed ``check_model``."""
    document = normalised_document(spec)
    spec = ModelSpec.model_validate(document)
    version = f"{spec.name}@{content_hash(document)[:12]}"
    frameworks = tuple(_framework(fw) for fw in spec.frameworks)
    model = QualificationModel(
        name=spec.name,
        version=version,
        description=spec.description,
        event_types=tuple(spec.event_types),
        segments=tuple(Segment(s.id, s.label or s.id, _cond_opt(s.when)) for s in spec.segments),
        exclusions=tuple(
            Exclusion(e.id, e.reason, e.description, _cond(e.when)) for e in spec.exclusions
        ),
        personas=tuple(
            Persona(
                p.id,
                p.label or p.id,
                p.buying_role,
                _cond(p.when),
                tuple(p.segments) if p.segments is not None else None,
                float(p.points),
            )
            for p in spec.personas
        ),
        fit_rules=tuple(
            FitRule(r.id, r.description, _cond(r.when), float(r.points)) for r in spec.fit.rules
        ),
        engagement=_event_score(spec.engagement),
        product=_event_score(spec.product),
        frameworks=frameworks,
        value=ValueRule(
            default=float(spec.value.default),
            by_segment=tuple(sorted((k, float(v)) for k, v in spec.value.by_segment.items())),
            from_field=(
                ValueFromField(
                    f.field,
                    float(f.per_unit),
                    None if f.minimum is None else float(f.minimum),
                    None if f.maximum is None else float(f.maximum),
                )
                if (f := spec.value.from_field) is not None
                else None
            ),
        ),
        grades=Grades(
            fit=tuple(sorted(((k, float(v)) for k, v in spec.grades.fit.items()))),
            engagement=tuple(sorted(((k, float(v)) for k, v in spec.grades.engagement.items()))),
        ),
        temperature=TemperatureRule(_cond(spec.temperature.hot), _cond(spec.temperature.warm)),
        thresholds=Thresholds(
            default=tuple(sorted((k, float(v)) for k, v in spec.thresholds.default.items())),
            segments=tuple(
                sorted(
                    (seg, tuple(sorted((k, float(v)) for k, v in values.items())))
                    for seg, values in spec.thresholds.segments.items()
                )
            ),
        ),
        stages=tuple(
            StageRule(name, _cond(rule.when), tuple(rule.required_fields), rule.description)
            for name in ("sql", "pql", "mql", "iql")
            if (rule := getattr(spec.stages, name)) is not None
        ),
        accounts=AccountRules(
            rollup_score=spec.accounts.rollup.score,
            method=spec.accounts.rollup.method,
            k=spec.accounts.rollup.k,
            required_roles=tuple(spec.accounts.buying_group.required_roles),
            engaged_when=_cond_opt(spec.accounts.buying_group.engaged_when),
            mqa=_cond_opt(spec.accounts.mqa),
        ),
    )
    lead, account, event = _input_fields(model)
    return replace(
        _with_fields(model, lead, account, event),
        routing=_routing(spec.routing),
        slas=_slas(spec.slas),
        learning=_learning(spec.learning),
    )


def _learning(spec: LearningSpec | None) -> Learning:
    if spec is None:
        return Learning()
    blended = spec.blended_grade
    if blended is None:
        return Learning(tuple(spec.never_features))
    bounds = tuple(
        (letter, float(blended.probability[letter])) for letter in sorted(blended.probability)
    )
    return Learning(tuple(spec.never_features), float(blended.predictor_weight), bounds)


def _routing(spec: RoutingSpec | None) -> Routing:
    if spec is None:
        return Routing()
    rules = tuple(
        RoutingRule(r.id, r.description, _cond_opt(r.when), r.team, r.method) for r in spec.rules
    )
    consent = spec.consent
    return Routing(
        rules,
        tuple(spec.stages),
        spec.account_ownership,
        spec.escalate_to,
        consent_required=consent is not None and consent.require_record,
        outreach_channels=tuple(consent.outreach_channels) if consent else ("email", "phone"),
    )


def _slas(spec: dict[SlaStage, SlaSpec] | None) -> tuple[Sla, ...]:
    slas: list[Sla] = []
    for stage, sla in (spec or {}).items():
        parsed = parse_duration(sla.respond_within)
        if parsed is None:
            raise ModelError([], summary=f"internal: unchecked SLA duration for {stage!r}")
        seconds, working = parsed
        slas.append(Sla(stage, seconds, working, tuple(sla.stop_on), sla.escalate, sla.description))
    return tuple(slas)


def _with_fields(
    model: QualificationModel, lead: set[str], account: set[str], event: set[str]
) -> QualificationModel:
    from dataclasses import replace

    return replace(
        model,
        lead_fields=tuple(sorted(lead)),
        account_fields=tuple(sorted(account)),
        event_fields=tuple(sorted(event)),
    )


def _framework(fw: FrameworkSpec) -> Framework:
    spin = tuple(q for qs in SPIN_QUESTIONS.values() for q in qs[:1])
    criteria = tuple(
        Criterion(
            id=crit.id,
            label=crit.label or crit.id.replace("_", " ").capitalize(),
            field=crit.field or crit.id,
            kind=crit.kind,
            min=None if crit.min is None else float(crit.min),
            questions=(*crit.questions, *spin),
        )
        for crit in fw.criteria or []
    )
    at_least = fw.pass_rule.at_least
    return Framework(
        id=fw.id,
        label=fw.label or fw.id.upper(),
        criteria=criteria,
        at_least=len(criteria) if at_least is None else at_least,
        required=tuple(fw.pass_rule.required),
    )


def _event_score(spec: EventScoreSpec) -> EventScore:
    return EventScore(
        rules=tuple(_event_rule(r) for r in spec.rules),
        floor=None if spec.floor is None else float(spec.floor),
        cap=None if spec.cap is None else float(spec.cap),
    )


def _event_rule(rule: EventRuleSpec) -> EventRule:
    return EventRule(
        id=rule.id,
        description=rule.description,
        event_type=rule.event,
        where=_cond_opt(rule.where),
        points=float(rule.points),
        decay=_decay(rule.decay),
        cap=None if rule.cap is None else float(rule.cap),
        max_per_day=rule.max_per_day,
    )


def _decay(spec: DecaySpec | None) -> Decay:
    if spec is None:
        return Decay("none")
    if spec.half_life_days is not None:
        return Decay("half_life", float(spec.half_life_days))
    if spec.linear_days is not None:
        return Decay("linear", float(spec.linear_days))
    if spec.window_days is not None:
        return Decay("window", float(spec.window_days))
    return Decay("none")


def _cond_opt(spec: ConditionSpec | None) -> Condition | None:
    return None if spec is None else _cond(spec)


def _cond(spec: ConditionSpec) -> Condition:
    if spec.all is not None:
        return AllOf(tuple(_cond(s) for s in spec.all))
    if spec.any is not None:
        return AnyOf(tuple(_cond(s) for s in spec.any))
    if spec.not_ is not None:
        return Not(_cond(spec.not_))
    if spec.event is not None:
        return EventTest(spec.event, _cond_opt(spec.where), spec.within_days, spec.min_count or 1)
    if spec.framework is not None:
        return FrameworkTest(spec.framework, True if spec.passed is None else spec.passed)
    if spec.field is None:
        raise ModelError([], summary="internal: unchecked condition reached the compiler")
    for key, op in _OPS.items():
        if key in spec.model_fields_set:
            return FieldTest(spec.field, op, _value(getattr(spec, key)))  # type: ignore[arg-type]
    raise ModelError([], summary="internal: field test without an operator")


def _value(raw: object) -> Scalar | Operand | tuple[Scalar, ...] | None:
    if isinstance(raw, list | tuple):
        return tuple(_value(v) for v in raw)  # type: ignore[misc]
    threshold = getattr(raw, "threshold", None)
    if threshold is not None:
        return ThresholdRef(threshold)
    if isinstance(raw, str | bool | int | float) or raw is None:
        return raw
    raise ModelError([], summary=f"internal: unexpected condition value {raw!r}")


def _conditions(model: QualificationModel) -> list[Condition]:
    found: list[Condition] = []
    found += [s.when for s in model.segments if s.when is not None]
    found += [e.when for e in model.exclusions]
    found += [p.when for p in model.personas]
    found += [r.when for r in model.fit_rules]
    found += [model.temperature.hot, model.temperature.warm]
    found += [s.when for s in model.stages]
    if model.accounts.engaged_when is not None:
        found.append(model.accounts.engaged_when)
    return found


def walk(cond: Condition) -> list[Condition]:
    """Every node of a condition tree, depth first (event ``where`` clauses excluded)."""
    nodes: list[Condition] = [cond]
    if isinstance(cond, AllOf | AnyOf):
        for item in cond.items:
            nodes += walk(item)
    elif isinstance(cond, Not):
        nodes += walk(cond.item)
    return nodes


def _input_fields(model: QualificationModel) -> tuple[set[str], set[str], set[str]]:
    lead: set[str] = set()
    account: set[str] = set()
    event: set[str] = set()

    def add(name: str) -> None:
        if is_account_field(name):
            account.add(name.removeprefix(c.ACCOUNT_PREFIX))
        elif name not in DERIVED_FIELDS:
            lead.add(name)

    for cond in _conditions(model):
        for node in walk(cond):
            if isinstance(node, FieldTest):
                add(node.field)
            elif isinstance(node, EventTest) and node.where is not None:
                event.update(n.field for n in walk(node.where) if isinstance(n, FieldTest))
    if model.accounts.mqa is not None:
        for node in walk(model.accounts.mqa):
            if isinstance(node, FieldTest) and is_account_field(node.field):
                add(node.field)
    for rule in (*model.engagement.rules, *model.product.rules):
        if rule.where is not None:
            event.update(n.field for n in walk(rule.where) if isinstance(n, FieldTest))
    for fw in model.frameworks:
        lead.update(crit.field for crit in fw.criteria)
    for stage in model.stages:
        for name in stage.required_fields:
            add(name)
    if model.value.from_field is not None:
        add(model.value.from_field.field)
    return lead, account, event
