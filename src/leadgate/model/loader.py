"""Load a model file: YAML → ``ModelSpec`` → checks → ``QualificationModel``.

Every problem carries the file, line and column and the path in the document, says what was
expected and, where it can, how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from leadgate.exceptions import Location, ModelError, Problem
from leadgate.model import spec as spec_module
from leadgate.model.checks import ModelIssue, check_model
from leadgate.model.compiled import QualificationModel
from leadgate.model.compiler import compile_spec
from leadgate.model.spec import ModelSpec

Loc = tuple[str | int, ...]


def load_model(path: str | Path) -> QualificationModel:
    """Read, check and compile a model file (YAML) or a compiled artifact (JSON).

    Raises:
        ModelError: with every problem found, each located in the file.
    """
    from leadgate.model.artifact import is_artifact_path, read_artifact

    path = Path(path)
    if is_artifact_path(path):
        return read_artifact(path)
    return compile_spec(load_spec(path))


def load_spec(path: str | Path) -> ModelSpec:
    """Parse and check a model file without compiling it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(
            [Problem("file_not_found", "does not exist", Location(file=str(path)))],
            summary=f"Cannot read model {path}.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(
            [Problem("file_unreadable", str(exc), Location(file=str(path)))],
            summary=f"Cannot read model {path}.",
        ) from None
    return parse_spec(text, str(path))


def parse_spec(text: str, filename: str = "<model>") -> ModelSpec:
    """Parse model YAML text; ``filename`` is used in error locations."""
    document = _parse_yaml(text, filename)
    if not isinstance(document, dict):
        raise ModelError(
            [
                Problem(
                    "not_a_mapping",
                    "the model must be a YAML mapping of sections",
                    Location(file=filename, line=1, column=1),
                    hint="start with 'schema_version: 1' and 'name: ...'",
                )
            ],
            summary=f"{filename} is not a qualification model.",
        )
    try:
        spec = ModelSpec.model_validate(_plain(document))
    except ValidationError as exc:
        problems = [_from_pydantic(err, document, filename) for err in exc.errors()]
        raise ModelError(problems, summary=_summary(filename, problems)) from None
    issues = check_model(spec)
    if issues:
        problems = [_from_issue(issue, document, filename) for issue in issues]
        raise ModelError(problems, summary=_summary(filename, problems))
    return spec


def _summary(filename: str, problems: list[Problem]) -> str:
    n = len(problems)
    return f"{filename}: {n} problem{'s' if n != 1 else ''} in the qualification model."


def _parse_yaml(text: str, filename: str) -> Any:
    yaml = YAML(typ="rt")  # round-trip loader: safe, and it keeps line/column marks
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(
            file=filename,
            line=None if mark is None else mark.line + 1,
            column=None if mark is None else mark.column + 1,
        )
        message = (exc.problem or exc.context or "invalid YAML").strip()
        raise ModelError(
            [
                Problem(
                    "yaml_syntax",
                    message,
                    location,
                    hint="check indentation and that every 'key: value' has a space after ':'",
                )
            ],
            summary=f"{filename} is not valid YAML.",
        ) from None
    except YAMLError as exc:
        raise ModelError(
            [Problem("yaml_syntax", str(exc), Location(file=filename))],
            summary=f"{filename} is not valid YAML.",
        ) from None


def _plain(node: Any) -> Any:
    """Round-trip YAML nodes → plain dicts/lists, so pydantic sees ordinary values."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, int | bool) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def locate(document: Any, loc: Iterable[str | int], filename: str) -> Location:
    """The line and column of the deepest node of ``loc`` that exists in the document."""
    node = document
    line: int | None = 1
    column: int | None = 1
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and key in node:
                if lc is not None:
                    pos = lc.value(key) if not isinstance(node[key], dict | list) else lc.key(key)
                    line, column = pos[0] + 1, pos[1] + 1
                node = node[key]
            elif isinstance(node, dict) and isinstance(key, int | str) and str(key) in node:
                node = node[str(key)]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                if lc is not None:
                    pos = lc.item(key)
                    line, column = pos[0] + 1, pos[1] + 1
                node = node[key]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return Location(file=filename, line=line, column=column)


def path_text(loc: Iterable[str | int]) -> str:
    """``('engagement', 'rules', 3, 'decay')`` → ``engagement.rules[3].decay``."""
    text = ""
    for key in loc:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else str(key)
    return text


def _from_issue(issue: ModelIssue, document: Any, filename: str) -> Problem:
    return Problem(
        issue.code,
        issue.message,
        locate(document, issue.loc, filename),
        path_text(issue.loc),
        issue.hint,
    )


def _clean_loc(raw: tuple[Any, ...]) -> Loc:
    # pydantic adds union branch names (e.g. 'float', 'ThresholdRefSpec') to the path
    return tuple(k for k in raw if isinstance(k, int) or not _is_type_tag(str(k)))


def _is_type_tag(key: str) -> bool:
    return (
        key[:1].isupper() or key in {"float", "int", "str", "bool", "list", "tuple"} or ("[" in key)
    )


def _from_pydantic(err: Any, document: Any, filename: str) -> Problem:
    loc = _clean_loc(tuple(err["loc"]))
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        allowed = _allowed_keys(loc[:-1])
        hint = _did_you_mean(key, allowed)
        return Problem(
            "unknown_key",
            f"unknown key {key!r}",
            locate(document, loc, filename),
            path_text(loc),
            hint or f"allowed keys here: {', '.join(sorted(allowed))}",
        )
    if kind == "missing":
        return Problem(
            "missing_key",
            "is required but missing",
            locate(document, loc[:-1], filename),
            path_text(loc),
            f"add '{loc[-1]}:' here",
        )
    message = f"{err['msg'].rstrip('.')} (got {_show(got)})"
    if kind == "string_pattern_mismatch":
        message = f"{_show(got)} is not a valid id"
        return Problem(
            "bad_id",
            message,
            locate(document, loc, filename),
            path_text(loc),
            "ids use lower-case letters, digits and '_', starting with a letter",
        )
    return Problem("bad_value", message, locate(document, loc, filename), path_text(loc))


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(parent: Loc) -> list[str]:
    """Keys a mapping at ``parent`` accepts, found by walking the spec classes."""
    model: type[BaseModel] | None = ModelSpec
    for key in parent:
        if model is None or isinstance(key, int):
            continue
        field = _field_by_alias(model, str(key))
        model = _inner_model(field.annotation) if field is not None else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _field_by_alias(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if (field.alias or name) == key:
            return field
    return None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    if isinstance(annotation, str):
        candidate = getattr(spec_module, annotation, None)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
