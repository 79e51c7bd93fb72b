"""The shape of a column mapping file, and reading one with located, teaching errors."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from leadgate.exceptions import InputDataError, Location, Problem

FrameKind = Literal["leads", "accounts", "events", "outcomes"]
Scalar = str | bool | int | float


class MappingError(InputDataError):
    """A column mapping is unknown, unreadable or malformed."""

    code = "mapping_invalid"


class ValueRuleSpec(BaseModel):
    """How the values of one column are rewritten before they are typed."""

    model_config = ConfigDict(extra="forbid")

    values: dict[Scalar, Scalar] = Field(default_factory=dict)
    true_values: list[Scalar] = Field(default_factory=list)
    false_values: list[Scalar] = Field(default_factory=list)
    date_format: str | None = None


class MappingSpec(BaseModel):
    """A mapping file as written."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    target: FrameKind
    description: str = ""
    columns: dict[str, str] = Field(min_length=1)
    rules: dict[str, ValueRuleSpec] = Field(default_factory=dict)
    constants: dict[str, Scalar] = Field(default_factory=dict)


_FIELDS: dict[str, Sequence[str]] = {
    "": tuple(MappingSpec.model_fields),
    "rules": tuple(ValueRuleSpec.model_fields),
}
_EXAMPLE = "name: my-crm\ntarget: leads\ncolumns:\n  Contact Email: email"


def text_of(value: Scalar) -> str:
    """A YAML scalar as the text a CSV cell would hold (``True`` → ``"true"``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` Did you mean `x`?`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def _fail(file: str, problems: list[Problem]) -> MappingError:
    n = len(problems)
    return MappingError(
        problems, summary=f"{file}: {n} problem{'s' if n != 1 else ''} in the column mapping."
    )


def _node_at(node: Node | None, loc: Sequence[str | int]) -> tuple[Node | None, bool]:
    """The deepest node on ``loc`` and whether it is the key (True) or the value node."""
    is_key = False
    for part in loc:
        if isinstance(node, MappingNode):
            pair = next((p for p in node.value if str(p[0].value) == str(part)), None)
            if pair is None:
                break
            node, is_key = (pair[0], True) if part == loc[-1] else (pair[1], False)
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node, is_key = node.value[part], False
        else:
            break
    return node, is_key


def _location(root: Node | None, loc: Sequence[str | int], file: str) -> Location:
    node, _ = _node_at(root, loc)
    if node is None:
        return Location(file=file, line=1, column=1)
    mark = node.start_mark
    return Location(file=file, line=mark.line + 1, column=mark.column + 1)


def _path(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def _problem(error: Any, root: Node | None, file: str) -> Problem:
    loc = tuple(part for part in error["loc"] if part not in ("str", "bool", "int", "float"))
    where = _location(root, loc, file)
    key = str(loc[-1]) if loc else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = "rules" if len(loc) == 3 and loc[0] == "rules" else ""
        allowed = _FIELDS[parent]
        return Problem(
            "unknown_key",
            f"unknown key `{key}`.",
            where,
            _path(loc),
            f"{did_you_mean(key, allowed).strip()} Allowed here: {', '.join(allowed)}.".strip(),
        )
    if kind == "missing":
        return Problem(
            "missing_key",
            f"the mapping needs `{key}`.",
            where,
            _path(loc),
            f"A mapping file looks like:\n{_EXAMPLE}",
        )
    if kind == "literal_error":
        got = str(error.get("input"))
        return Problem(
            "bad_value",
            f"`{key}` must be one of leads, accounts, events, outcomes (got {got!r}).",
            where,
            _path(loc),
            did_you_mean(got, ("leads", "accounts", "events", "outcomes")).strip()
            or "Use the kind of file the mapping reads.",
        )
    return Problem(
        "bad_value",
        f"{error['msg']} (got {error.get('input')!r}).",
        where,
        _path(loc),
        "Source headers and columns are text; rules hold lists or text.",
    )


def parse_mapping_yaml(text: str, file: str) -> MappingSpec:
    """Parse and validate mapping YAML; raise :class:`MappingError` with located problems."""
    yaml = YAML(typ="safe")
    try:
        document = yaml.load(text)
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(
            file=file,
            line=None if mark is None else mark.line + 1,
            column=None if mark is None else mark.column + 1,
        )
        message = (exc.problem or exc.context or "invalid YAML").strip()
        hint = "Check the indentation and that every `key: value` has a space after `:`."
        raise _fail(file, [Problem("yaml_syntax", message, where, hint=hint)]) from None
    except YAMLError as exc:
        raise _fail(file, [Problem("yaml_syntax", str(exc), Location(file=file))]) from None
    if not isinstance(document, dict):
        where = Location(file=file, line=1, column=1)
        problem = Problem(
            "not_a_mapping",
            "a column mapping must be a YAML mapping.",
            where,
            hint=f"A mapping file looks like:\n{_EXAMPLE}",
        )
        raise _fail(file, [problem])
    try:
        return MappingSpec.model_validate(document)
    except ValidationError as exc:
        problems = [_problem(err, root, file) for err in exc.errors()]
        # "colums" already says "did you mean `columns`?": no second problem for `columns`
        guessed = {p.hint for p in problems if p.code == "unknown_key"}
        problems = [
            p
            for p in problems
            if p.code != "missing_key" or not any(f"`{p.path}`?" in h for h in guessed)
        ]
        raise _fail(file, problems) from None


def located(root_text: str | None, loc: Sequence[str | int], file: str) -> Location:
    """Where ``loc`` is in mapping YAML text (line 1 when there is no text)."""
    if root_text is None:
        return Location(file=file)
    return _location(YAML(typ="safe").compose(root_text), loc, file)


def fail(file: str, problems: list[Problem]) -> MappingError:
    """A :class:`MappingError` for ``problems`` in ``file``."""
    return _fail(file, problems)
