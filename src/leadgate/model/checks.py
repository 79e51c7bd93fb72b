"""Semantic checks of a parsed ``ModelSpec``: one small function per rule, each with a code.

Every check yields ``ModelIssue`` values whose ``loc`` is the path in the YAML document, so
the loader can point at the file, line and column.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from leadgate.model.compiled import ACCOUNT_OWNER_RULE, parse_duration
from leadgate.model.fields import ACCOUNT_ROLLUP_FIELDS, DERIVED_FIELDS, Phase, is_account_field
from leadgate.model.frameworks import TEMPLATES
from leadgate.model.spec import ConditionSpec, DecaySpec, EventRuleSpec, ModelSpec

Loc = tuple[str | int, ...]

_FIELD_OPS = (
    "equals",
    "not_equals",
    "in_",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "matches",
    "contains",
    "is_missing",
)
_COMBINATORS = ("all", "any", "not_")
_ALIASES = {"in_": "in", "not_": "not"}
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


@dataclass(frozen=True)
class ModelIssue:
    code: str
    loc: Loc
    message: str
    hint: str = ""


def suggest(word: str, options: Iterable[str]) -> str:
    """A 'did you mean' hint for ``word`` among ``options``, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _set(spec: ConditionSpec, name: str) -> bool:
    return name in spec.model_fields_set


def _forms(spec: ConditionSpec) -> list[str]:
    forms: list[str] = []
    if _set(spec, "field"):
        forms.append("field")
    forms += [_ALIASES.get(k, k) for k in _COMBINATORS if _set(spec, k)]
    if _set(spec, "event"):
        forms.append("event")
    if _set(spec, "framework"):
        forms.append("framework")
    return forms


def _check_condition(
    spec: ConditionSpec, loc: Loc, ctx: _Context, phase: Phase | None
) -> Iterator[ModelIssue]:
    forms = _forms(spec)
    if len(forms) != 1:
        what = "none" if not forms else ", ".join(forms)
        yield ModelIssue(
            "condition_shape",
            loc,
            f"a condition needs exactly one of field / all / any / not / event / framework "
            f"(got {what})",
            "split it into several conditions under 'all:' or 'any:'",
        )
        return
    form = forms[0]
    if form == "field":
        yield from _check_field_test(spec, loc, ctx, phase)
    elif form in ("all", "any"):
        items = spec.all if form == "all" else spec.any
        if not items:
            yield ModelIssue("empty_combinator", (*loc, form), f"'{form}' needs at least one item")
        for i, item in enumerate(items or []):
            yield from _check_condition(item, (*loc, form, i), ctx, phase)
    elif form == "not":
        assert spec.not_ is not None
        yield from _check_condition(spec.not_, (*loc, "not"), ctx, phase)
    elif form == "event":
        yield from _check_event_test(spec, loc, ctx, phase)
    else:
        yield from _check_framework_test(spec, loc, ctx, phase)
    stray = [
        _ALIASES.get(k, k)
        for k in (*_FIELD_OPS, "where", "within_days", "min_count", "passed")
        if _set(spec, k) and form != "field" and not _belongs(k, form)
    ]
    if stray:
        yield ModelIssue(
            "condition_shape",
            loc,
            f"{', '.join(stray)} cannot be used with '{form}'",
            "field operators go with 'field:'; where/within_days/min_count with 'event:'",
        )


def _belongs(key: str, form: str) -> bool:
    if form == "event":
        return key in ("where", "within_days", "min_count")
    if form == "framework":
        return key == "passed"
    return False


def _check_field_test(
    spec: ConditionSpec, loc: Loc, ctx: _Context, phase: Phase | None
) -> Iterator[ModelIssue]:
    ops = [k for k in _FIELD_OPS if _set(spec, k)]
    extra = [k for k in ("where", "within_days", "min_count", "passed") if _set(spec, k)]
    if len(ops) != 1 or extra:
        names = ", ".join(_ALIASES.get(k, k) for k in ops + extra) or "none"
        yield ModelIssue(
            "condition_shape",
            loc,
            f"a field test needs exactly one operator (got {names})",
            "use one of equals, not_equals, in, not_in, gt, gte, lt, lte, between, "
            "matches, contains, is_missing; combine several with 'all:'",
        )
        return
    assert spec.field is not None
    yield from ctx.check_field(spec.field, (*loc, "field"), phase)
    op = ops[0]
    if op == "matches":
        assert spec.matches is not None
        yield from _check_regex(spec.matches, (*loc, "matches"))
    if op == "between" and spec.between is not None:
        low, high = spec.between
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            yield ModelIssue(
                "bad_range",
                (*loc, "between"),
                f"range [{low}, {high}] is empty",
                "write the lower bound first",
            )
    for key in ("gt", "gte", "lt", "lte", "between"):
        value = getattr(spec, key)
        refs = value if isinstance(value, tuple) else (value,)
        for ref in refs:
            name = getattr(ref, "threshold", None)
            if name is not None:
                ctx.threshold_refs.append(((*loc, key), name))


def _check_regex(pattern: str, loc: Loc) -> Iterator[ModelIssue]:
    if _LOOKAROUND.search(pattern):
        yield ModelIssue(
            "bad_regex",
            loc,
            "look-around is not supported in 'matches' patterns",
            "rewrite it with 'not:' and a second condition",
        )
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        yield ModelIssue("bad_regex", loc, f"is not a valid regular expression ({exc})")


def _check_event_test(
    spec: ConditionSpec, loc: Loc, ctx: _Context, phase: Phase | None
) -> Iterator[ModelIssue]:
    assert spec.event is not None
    yield from ctx.check_event_type(spec.event, (*loc, "event"))
    if phase is not None and phase not in (Phase.STAGE,):
        yield ModelIssue(
            "event_test_misplaced",
            (*loc, "event"),
            "event tests can only be used in stage and temperature conditions",
            "score events with engagement rules instead",
        )
    if spec.where is not None:
        yield from _check_condition(spec.where, (*loc, "where"), ctx, None)


def _check_framework_test(
    spec: ConditionSpec, loc: Loc, ctx: _Context, phase: Phase | None
) -> Iterator[ModelIssue]:
    assert spec.framework is not None
    if spec.framework not in ctx.framework_ids:
        yield ModelIssue(
            "unknown_framework",
            (*loc, "framework"),
            f"refers to framework {spec.framework!r}, which the model does not define",
            suggest(spec.framework, ctx.framework_ids) or "add it under 'frameworks:'",
        )
    if phase is not None and phase < Phase.STAGE:
        yield ModelIssue(
            "framework_test_misplaced",
            (*loc, "framework"),
            "framework tests can only be used in stage and temperature conditions",
        )


class _Context:
    def __init__(self, spec: ModelSpec) -> None:
        self.event_types = list(spec.event_types)
        self.framework_ids = [f.id for f in spec.frameworks]
        self.segment_ids = [s.id for s in spec.segments]
        self.threshold_refs: list[tuple[Loc, str]] = []

    def check_event_type(self, name: str, loc: Loc) -> Iterator[ModelIssue]:
        if name not in self.event_types:
            yield ModelIssue(
                "unknown_event_type",
                loc,
                f"event type {name!r} is not declared in 'event_types'",
                suggest(name, self.event_types) or "add it to 'event_types'",
            )

    def check_field(self, name: str, loc: Loc, phase: Phase | None) -> Iterator[ModelIssue]:
        if phase is None or is_account_field(name):
            return
        if phase is Phase.ACCOUNT:
            if name not in ACCOUNT_ROLLUP_FIELDS:
                yield ModelIssue(
                    "unknown_account_field",
                    loc,
                    f"field {name!r} is not an account roll-up field",
                    suggest(name, ACCOUNT_ROLLUP_FIELDS)
                    or "use account_score, contact_count, engaged_contacts, role_coverage "
                    "or an 'account.' field",
                )
            return
        first = DERIVED_FIELDS.get(name)
        if first is None:
            close = difflib.get_close_matches(name, list(DERIVED_FIELDS), n=1, cutoff=0.85)
            if close:
                yield ModelIssue(
                    "unknown_field",
                    loc,
                    f"field {name!r} looks like a misspelt derived field",
                    f"did you mean {close[0]!r}?",
                )
            return
        if first > phase:
            yield ModelIssue(
                "field_not_ready",
                loc,
                f"field {name!r} is not known yet at this point of scoring",
                "segments read lead/account fields; exclusions add 'segment'; fit rules add "
                "'persona' and 'buying_role'; scores and grades are for stages and temperature",
            )


def _duplicates(ids: list[str], loc: Loc, what: str) -> Iterator[ModelIssue]:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            yield ModelIssue(
                "duplicate_id",
                (*loc, i, "id"),
                f"{what} id {ident!r} is used twice",
                "ids must be unique: they appear in ledgers and reports",
            )
        seen.add(ident)


def check_ids(spec: ModelSpec, ctx: _Context) -> Iterator[ModelIssue]:
    yield from _duplicates([s.id for s in spec.segments], ("segments",), "segment")
    yield from _duplicates([e.id for e in spec.exclusions], ("exclusions",), "exclusion")
    yield from _duplicates([p.id for p in spec.personas], ("personas",), "persona")
    yield from _duplicates([r.id for r in spec.fit.rules], ("fit", "rules"), "fit rule")
    yield from _duplicates([f.id for f in spec.frameworks], ("frameworks",), "framework")
    event_ids = [r.id for r in spec.engagement.rules] + [r.id for r in spec.product.rules]
    yield from _duplicates(event_ids, ("engagement", "rules"), "engagement/product rule")
    yield from _duplicates(spec.event_types, ("event_types",), "event type")


def check_segments(spec: ModelSpec, ctx: _Context) -> Iterator[ModelIssue]:
    for i, seg in enumerate(spec.segments):
        loc: Loc = ("segments", i)
        if seg.when is None and i != len(spec.segments) - 1:
            yield ModelIssue(
                "segment_default_not_last",
                loc,
                f"segment {seg.id!r} has no 'when', so every later segment is unreachable",
                "move the catch-all segment to the end of the list",
            )
        if seg.when is not None:
            yield from _check_condition(seg.when, (*loc, "when"), ctx, Phase.SEGMENT)
    yield from _check_segment_overlap(spec)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _range_of(cond: ConditionSpec | None) -> tuple[str, float, float] | None:
    """The (field, low, high) interval of a plain numeric range test, if it is one."""
    if cond is None or cond.field is None:
        return None
    inf = float("inf")
    if cond.between is not None:
        low, high = (_number(b) for b in cond.between)
        return None if low is None or high is None else (cond.field, low, high)
    # exclusive bounds are nudged inwards so that gt: 1000 and lte: 1000 do not overlap
    nudge = 1e-9
    if (lower := _number(cond.gte)) is not None:
        return cond.field, lower, inf
    if (lower := _number(cond.gt)) is not None:
        return cond.field, lower + nudge, inf
    if (upper := _number(cond.lte)) is not None:
        return cond.field, -inf, upper
    if (upper := _number(cond.lt)) is not None:
        return cond.field, -inf, upper - nudge
    return None


def _check_segment_overlap(spec: ModelSpec) -> Iterator[ModelIssue]:
    ranges = [(i, s.id, _range_of(s.when)) for i, s in enumerate(spec.segments)]
    plain = [(i, sid, r) for i, sid, r in ranges if r is not None]
    for a, (i, sid, (field_a, lo_a, hi_a)) in enumerate(plain):
        for j, other, (field_b, lo_b, hi_b) in plain[a + 1 :]:
            if field_a == field_b and lo_a <= hi_b and lo_b <= hi_a:
                yield ModelIssue(
                    "overlapping_segments",
                    ("segments", j, "when"),
                    f"segment {other!r} overlaps segment {sid!r} on {field_a} "
                    f"([{lo_b:g}, {hi_b:g}] and [{lo_a:g}, {hi_a:g}]); segment {sid!r} "
                    f"(item {i}) wins the overlap",
                    "make the ranges disjoint, e.g. between: [200, 999] and gte: 1000",
                )


def check_rules(spec: ModelSpec, ctx: _Context) -> Iterator[ModelIssue]:
    for i, exc in enumerate(spec.exclusions):
        yield from _check_condition(exc.when, ("exclusions", i, "when"), ctx, Phase.EXCLUSION)
    for i, persona in enumerate(spec.personas):
        loc: Loc = ("personas", i)
        yield from _check_condition(persona.when, (*loc, "when"), ctx, Phase.PERSONA)
        for j, seg in enumerate(persona.segments or []):
            yield from _check_segment_ref(seg, (*loc, "segments", j), ctx)
    for i, rule in enumerate(spec.fit.rules):
        yield from _check_condition(rule.when, ("fit", "rules", i, "when"), ctx, Phase.FIT)
    for section in ("engagement", "product"):
        score = getattr(spec, section)
        for i, erule in enumerate(score.rules):
            yield from _check_event_rule(erule, (section, "rules", i), ctx)


def _check_event_rule(rule: EventRuleSpec, loc: Loc, ctx: _Context) -> Iterator[ModelIssue]:
    yield from ctx.check_event_type(rule.event, (*loc, "event"))
    if rule.where is not None:
        yield from _check_condition(rule.where, (*loc, "where"), ctx, None)
    if rule.decay is not None:
        yield from _check_decay(rule.decay, (*loc, "decay"))
    if rule.cap is not None and rule.cap <= 0:
        yield ModelIssue(
            "bad_cap",
            (*loc, "cap"),
            f"must be > 0 (got {rule.cap:g})",
            "a cap limits the size of the rule's total, for negative rules too",
        )


def _check_decay(decay: DecaySpec, loc: Loc) -> Iterator[ModelIssue]:
    kinds = [k for k in ("half_life_days", "linear_days", "window_days") if _set_decay(decay, k)]
    if len(kinds) != 1:
        yield ModelIssue(
            "decay_shape",
            loc,
            "decay needs exactly one of half_life_days, linear_days, "
            f"window_days (got {', '.join(kinds) or 'none'})",
        )
        return
    value = getattr(decay, kinds[0])
    if value <= 0:
        hint = "use 'window_days' for a hard cut-off" if kinds[0] != "window_days" else ""
        yield ModelIssue("bad_decay", (*loc, kinds[0]), f"must be > 0 (got {value:g})", hint)


def _set_decay(decay: DecaySpec, key: str) -> bool:
    return key in decay.model_fields_set and getattr(decay, key) is not None


def _check_segment_ref(name: str, loc: Loc, ctx: _Context) -> Iterator[ModelIssue]:
    if name not in ctx.segment_ids:
        yield ModelIssue(
            "unknown_segment",
            loc,
            f"segment {name!r} is not defined",
            suggest(name, ctx.segment_ids) or "define it under 'segments:'",
        )


def check_frameworks(spec: ModelSpec, ctx: _Context) -> Iterator[ModelIssue]:
    for i, fw in enumerate(spec.frameworks):
        loc: Loc = ("frameworks", i)
        if fw.use is None and fw.criteria is None:
            yield ModelIssue(
                "framework_shape",
                loc,
                f"framework {fw.id!r} needs 'use' or 'criteria'",
                f"use one of {', '.join(sorted(TEMPLATES))}, or list your own criteria",
            )
            continue
        if fw.use is not None and fw.use.lower() not in TEMPLATES:
            yield ModelIssue(
                "unknown_framework",
                (*loc, "use"),
                f"no built-in framework {fw.use!r}",
                suggest(fw.use.lower(), TEMPLATES)
                or f"built-ins are {', '.join(sorted(TEMPLATES))}",
            )
            continue
        names = _criterion_ids(fw.use, fw.criteria)
        for key in fw.fields:
            if key not in names:
                yield ModelIssue(
                    "unknown_criterion",
                    (*loc, "fields", key),
                    f"criterion {key!r} is not part of framework {fw.id!r}",
                    suggest(key, names),
                )
        for j, req in enumerate(fw.pass_rule.required):
            if req not in names:
                yield ModelIssue(
                    "unknown_criterion",
                    (*loc, "pass", "required", j),
                    f"criterion {req!r} is not part of framework {fw.id!r}",
                    suggest(req, names),
                )
        at_least = fw.pass_rule.at_least
        if at_least is not None and at_least > len(names):
            yield ModelIssue(
                "bad_pass_rule",
                (*loc, "pass", "at_least"),
                f"asks for {at_least} of {len(names)} criteria, which can never pass",
            )
        for j, crit in enumerate(fw.criteria or []):
            if crit.kind == "scale" and crit.min is None:
                yield ModelIssue(
                    "scale_without_min",
                    (*loc, "criteria", j, "min"),
                    f"scale criterion {crit.id!r} needs 'min' (the lowest passing answer)",
                )


def _criterion_ids(use: str | None, criteria: object) -> list[str]:
    if use is not None:
        return [c.id for c in TEMPLATES[use.lower()].criteria]
    return [c.id for c in criteria or []]  # type: ignore[attr-defined]


def check_scores(spec: ModelSpec, ctx: _Context) -> Iterator[ModelIssue]:
    for kind, bands in (("fit", spec.grades.fit), ("engagement", spec.grades.engagement)):
        ordered = sorted(bands.items())
        for (name_a, a), (name_b, b) in itertools.pairwise(ordered):
            if a <= b:
                yield ModelIssue(
                    "overlapping_grades",
                    ("grades", kind, name_b),
                    f"grade {name_b} starts at {b:g}, which is not below grade {name_a} "
                    f"({a:g}): the bands overlap",
                    "lower bounds must fall strictly from the best grade to the worst",
                )
    yield from _check_condition(spec.temperature.hot, ("temperature", "hot"), ctx, Phase.STAGE)
    yield from _check_condition(spec.temperature.warm, ("temperature", "warm"), ctx, Phase.STAGE)
    for seg in spec.value.by_segment:
        yield from _check_segment_ref(seg, ("value", "by_segment", seg), ctx)
    for name in ("sql", "pql", "mql", "iql"):
        rule = getattr(spec.stages, name)
        if rule is not None:
            yield from _check_condition(rule.when, ("stages", name, "when"), ctx, Phase.STAGE)
    bg = spec.accounts.buying_group
    if bg.engaged_when is not None:
        loc: Loc = ("accounts", "buying_group", "engaged_when")
        yield from _check_condition(bg.engaged_when, loc, ctx, Phase.STAGE)
    if spec.accounts.mqa is not None:
        yield from _check_condition(spec.accounts.mqa, ("accounts", "mqa"), ctx, Phase.ACCOUNT)


def check_thresholds(spec: ModelSpec, ctx: _Context) -> Iterator[ModelIssue]:
    defaults = spec.thresholds.default
    for loc, name in ctx.threshold_refs:
        if name not in defaults:
            yield ModelIssue(
                "unknown_threshold",
                (*loc, "threshold"),
                f"threshold {name!r} has no default value",
                suggest(name, defaults) or f"add '{name}: <number>' under thresholds.default",
            )
    for seg, values in spec.thresholds.segments.items():
        yield from _check_segment_ref(seg, ("thresholds", "segments", seg), ctx)
        for name in values:
            if name not in defaults:
                yield ModelIssue(
                    "unknown_threshold",
                    ("thresholds", "segments", seg, name),
                    f"threshold {name!r} has no default value",
                    suggest(name, defaults) or "declare every threshold under 'default' first",
                )


def check_routing(spec: ModelSpec, ctx: _Context) -> Iterator[ModelIssue]:
    routing = spec.routing
    if routing is not None:
        yield from _duplicates([r.id for r in routing.rules], ("routing", "rules"), "routing rule")
        for i, rule in enumerate(routing.rules):
            loc: Loc = ("routing", "rules", i)
            if rule.id == ACCOUNT_OWNER_RULE:
                yield ModelIssue(
                    "reserved_id",
                    (*loc, "id"),
                    f"{ACCOUNT_OWNER_RULE!r} is the id recorded for account ownership",
                    "choose another id",
                )
            if rule.when is None and i != len(routing.rules) - 1:
                yield ModelIssue(
                    "routing_default_not_last",
                    loc,
                    f"routing rule {rule.id!r} has no 'when', so every later rule is unreachable",
                    "move the catch-all rule to the end of the list",
                )
            if rule.when is not None:
                yield from _check_condition(rule.when, (*loc, "when"), ctx, Phase.STAGE)
                yield from _stored_fields_only(rule.when, (*loc, "when"))
    for stage, sla in (spec.slas or {}).items():
        if parse_duration(sla.respond_within) is None:
            yield ModelIssue(
                "bad_duration",
                ("slas", stage, "respond_within"),
                f"{sla.respond_within!r} is not a duration",
                "write e.g. '4h working', '30m working', '2d' or '12h' (working time in "
                "minutes or hours)",
            )
        if not sla.stop_on:
            yield ModelIssue(
                "empty_stop_on",
                ("slas", stage, "stop_on"),
                "an SLA needs at least one action that stops its clock",
                "e.g. stop_on: [accept, recycle, disqualify]",
            )


def _stored_fields_only(spec: ConditionSpec, loc: Loc) -> Iterator[ModelIssue]:
    """Routing reads stored lead fields: event and framework tests cannot be used there."""
    forms = _forms(spec)
    if "event" in forms or "framework" in forms:
        yield ModelIssue(
            "routing_condition",
            loc,
            "routing conditions can test lead and account fields only (no event or "
            "framework tests)",
            "route on segment, persona, grade, country, source or a stage instead",
        )
    for key in ("all", "any"):
        for i, item in enumerate(getattr(spec, key) or []):
            yield from _stored_fields_only(item, (*loc, key, i))
    if spec.not_ is not None:
        yield from _stored_fields_only(spec.not_, (*loc, "not"))


Check = Callable[[ModelSpec, _Context], Iterator[ModelIssue]]
#: Order matters: threshold references are collected while conditions are checked.
CHECKS: tuple[Check, ...] = (
    check_ids,
    check_segments,
    check_rules,
    check_frameworks,
    check_scores,
    check_routing,
    check_thresholds,
)


def check_model(spec: ModelSpec) -> list[ModelIssue]:
    """Every semantic problem of ``spec``, in document order of the checks."""
    ctx = _Context(spec)
    return [issue for check in CHECKS for issue in check(spec, ctx)]
