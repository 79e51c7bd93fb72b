"""Column mappings: how a CRM's export headers and values become leadgate columns.

A mapping renames source headers to canonical columns (``"Record ID"`` → ``lead_id``),
rewrites values before they are typed (``"Marketing Qualified Lead"`` → ``mql``, ``"Ja"`` →
``true``, ``05/03/2024`` read day first) and can add constant columns. Built-in mappings
cover HubSpot and Salesforce exports; custom ones are YAML files (see ``docs/imports.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import polars as pl

from leadgate.exceptions import InputDataError, Location, Problem, UsageError
from leadgate.io._builtin_mappings import BUILTIN_SPECS
from leadgate.io._headers import header_key
from leadgate.io._mapping_spec import (
    FrameKind,
    MappingError,
    MappingSpec,
    did_you_mean,
    fail,
    located,
    parse_mapping_yaml,
    text_of,
)
from leadgate.io.contracts import CONTRACTS, FrameContract

_ISO = "%Y-%m-%dT%H:%M:%S%.fZ"


def _frozen(mapping: Mapping[str, object]) -> MappingProxyType[str, object]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ValueRule:
    """How one column's values are rewritten before the contract types them.

    Attributes:
        values: Replacements matched ignoring case and surrounding spaces; other values stay.
        true_values: Spellings read as ``true`` (e.g. ``"Opted in"``).
        false_values: Spellings read as ``false``.
        date_format: A ``strftime`` format tried first (e.g. ``"%d/%m/%Y"`` for European
            slash dates); cells it cannot read fall back to the usual formats.
    """

    values: Mapping[str, str] = field(default_factory=dict)
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    date_format: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(self.values))

    def lookup(self) -> dict[str, str]:
        """Every replacement keyed by its lower-cased, stripped spelling."""
        table = {key.strip().lower(): value for key, value in self.values.items()}
        table.update({word.strip().lower(): "true" for word in self.true_values})
        table.update({word.strip().lower(): "false" for word in self.false_values})
        return table


@dataclass(frozen=True)
class ColumnMapping:
    """A named translation from one CRM export to a leadgate frame.

    Attributes:
        name: ``hubspot-contacts`` or the name in a mapping file.
        target: The frame the mapping reads: ``leads``, ``accounts``, ``events`` or
            ``outcomes``.
        columns: ``{source header: canonical column}``; headers are matched ignoring case,
            spaces, underscores and dashes, and the first listed header a file has wins.
        rules: Value rules by canonical column.
        constants: Columns set to one value (filling empty cells when the file has them).
        description: What export the mapping reads.
        file: The mapping file, or ``None`` for a built-in mapping.
    """

    name: str
    target: FrameKind
    columns: Mapping[str, str]
    rules: Mapping[str, ValueRule] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    file: str | None = None

    def __post_init__(self) -> None:
        for name in ("columns", "rules", "constants"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def contract(self) -> FrameContract:
        """The contract of the frame this mapping reads."""
        return CONTRACTS[self.target]

    def sources_of(self, column: str) -> tuple[str, ...]:
        """The source headers that map to ``column``, in order of preference."""
        return tuple(source for source, target in self.columns.items() if target == column)


def _from_spec(spec: MappingSpec, file: str | None, text: str | None) -> ColumnMapping:
    """Build a mapping and check what pydantic cannot: target columns and rule columns."""
    contract = CONTRACTS[spec.target]
    known = tuple(contract.types)
    where = file or f"built-in mapping {spec.name!r}"
    problems: list[Problem] = []
    for source, column in spec.columns.items():
        guess = did_you_mean(column, known)
        if column not in contract.types and guess:
            problems.append(
                Problem(
                    "unknown_column",
                    f"{source!r} maps to {column!r}, which is not a {spec.target} column.",
                    located(text, ("columns", source), where),
                    f"columns.{source}",
                    f"{guess.strip()} Custom columns are fine when they are not a near miss.",
                )
            )
    targets = {*spec.columns.values(), *spec.constants, *known}
    for column in spec.rules:
        if column not in targets:
            problems.append(
                Problem(
                    "unknown_column",
                    f"rules for {column!r}, which no source header maps to.",
                    located(text, ("rules", column), where),
                    f"rules.{column}",
                    f"{did_you_mean(column, sorted(targets)).strip()} Rules are keyed by the "
                    "leadgate column (the right-hand side of `columns`).".strip(),
                )
            )
    if problems:
        raise fail(where, problems)
    rules = {
        column: ValueRule(
            values={text_of(k): text_of(v) for k, v in rule.values.items()},
            true_values=tuple(map(text_of, rule.true_values)),
            false_values=tuple(map(text_of, rule.false_values)),
            date_format=rule.date_format,
        )
        for column, rule in spec.rules.items()
    }
    return ColumnMapping(
        name=spec.name,
        target=spec.target,
        columns=spec.columns,
        rules=rules,
        constants={column: text_of(value) for column, value in spec.constants.items()},
        description=spec.description,
        file=file,
    )


def builtin_mappings() -> dict[str, ColumnMapping]:
    """The built-in mappings by name (``hubspot-contacts``, ``salesforce-leads``, ...)."""
    return {
        name: _from_spec(MappingSpec.model_validate(raw), None, None)
        for name, raw in BUILTIN_SPECS.items()
    }


def _looks_like_path(name: str) -> bool:
    return name.lower().endswith((".yaml", ".yml")) or "/" in name or "\\" in name


def load_mapping(name_or_path: str | Path) -> ColumnMapping:
    """A built-in mapping by name, or a custom mapping from a YAML file.

    Example:
        ``load_mapping("hubspot-contacts")`` or ``load_mapping("mappings/pipedrive.yaml")``.

    Raises:
        MappingError: Unknown built-in name (the message lists them), unreadable file, or a
            malformed mapping; every problem names the file, line and key.
    """
    text_name = str(name_or_path)
    builtins = builtin_mappings()
    if isinstance(name_or_path, str) and name_or_path in builtins:
        return builtins[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        if isinstance(name_or_path, Path) or _looks_like_path(text_name) or path.exists():
            problem = Problem(
                "file_not_found",
                f"the mapping file {text_name} does not exist.",
                Location(file=text_name),
                hint="Check the path, or use a built-in mapping: " + ", ".join(builtins) + ".",
            )
            raise fail(text_name, [problem])
        guess = did_you_mean(text_name, list(builtins))
        problem = Problem(
            "unknown_mapping",
            f"there is no built-in mapping {text_name!r}.",
            hint=f"{guess} Built-in mappings: {', '.join(builtins)}; "
            "or pass the path of a mapping YAML file.".strip(),
        )
        raise MappingError([problem], summary=f"Unknown mapping {text_name!r}.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem("unreadable_file", str(exc), Location(file=text_name))
        raise fail(text_name, [problem]) from None
    return _from_spec(parse_mapping_yaml(text, text_name), text_name, text)


def _rename_headers(frame: pl.DataFrame, mapping: ColumnMapping) -> dict[str, str]:
    by_key: dict[str, str] = {}
    for name in frame.columns:
        by_key.setdefault(header_key(name), name)
    present = set(frame.columns)
    renames: dict[str, str] = {}
    claimed: set[str] = set()
    for source, column in mapping.columns.items():
        if column in claimed:
            continue
        header = source if source in present else by_key.get(header_key(source))
        if header is None or header in renames:
            continue
        if header == column:
            claimed.add(column)
        elif column not in present:
            renames[header] = column
            claimed.add(column)
    return renames


def _rewrite(series: pl.Series, rule: ValueRule) -> pl.Series:
    """Apply a value rule to a text column, cells it does not cover unchanged."""
    out = series
    table = rule.lookup()
    if table:
        key = out.str.strip_chars().str.to_lowercase()
        out = pl.select(
            pl.when(key.is_in(list(table)))
            .then(key.replace_strict(table, default=None, return_dtype=pl.String))
            .otherwise(out)
        ).to_series()
    if rule.date_format is not None:
        parsed = out.str.strip_chars().str.to_datetime(
            rule.date_format, time_unit="us", strict=False
        )
        if getattr(parsed.dtype, "time_zone", None):
            parsed = parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        iso = parsed.dt.to_string(_ISO)
        out = pl.select(pl.when(iso.is_not_null()).then(iso).otherwise(out)).to_series()
    return out.alias(series.name)


def apply_mapping(
    frame: pl.DataFrame, mapping: ColumnMapping
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Rename the mapped headers, add constants and rewrite values by the mapping's rules.

    Value rules apply to text columns (CSV, or text in Parquet/NDJSON); typed columns are
    left alone. Returns the frame and the ``{header: column}`` renames.
    """
    renames = _rename_headers(frame, mapping)
    out = frame.rename(renames) if renames else frame
    constants = []
    for column, value in mapping.constants.items():
        if column not in out.columns:
            constants.append(pl.lit(value, dtype=pl.String).alias(column))
            continue
        text = pl.col(column).cast(pl.String)
        empty = text.is_null() | (text.str.strip_chars().str.len_bytes() == 0)
        constants.append(pl.when(empty).then(pl.lit(value)).otherwise(text).alias(column))
    if constants:
        out = out.with_columns(constants)
    rewritten = [
        _rewrite(out.get_column(column), rule)
        for column, rule in mapping.rules.items()
        if column in out.columns and out.schema[column] == pl.String
    ]
    return (out.with_columns(rewritten) if rewritten else out), renames


def check_mapping_target(mapping: ColumnMapping, contract: FrameContract) -> None:
    """Raise :class:`UsageError` when a mapping is used on the wrong kind of file."""
    if mapping.target != contract.name:
        raise UsageError(
            f"The mapping {mapping.name!r} reads {mapping.target} files, not {contract.name}.",
            hint=f"Import the file as {mapping.target}, or pick a mapping for {contract.name}.",
        )


def check_mapped_required(
    frame: pl.DataFrame, contract: FrameContract, mapping: ColumnMapping, file: str
) -> None:
    """Raise when a required column the mapping reads from a header is still missing."""
    problems = []
    for column in contract.required:
        sources = mapping.sources_of(column)
        if column in frame.columns or not sources:
            continue
        headers = " or ".join(repr(source) for source in sources)
        problems.append(
            Problem(
                code="missing_column",
                message=f"Required column {column!r} of the {contract.name} file is missing: "
                f"the mapping {mapping.name!r} reads it from {headers}, which the file lacks.",
                location=Location(file=file, field=column),
                hint=f"Export the {headers} column from the CRM, or use a mapping that names "
                f"the header your file has for {column}. The file has the columns "
                f"{', '.join(repr(h) for h in frame.columns[:25])}.",
            )
        )
    if problems:
        names = ", ".join(p.location.field or "" for p in problems)
        raise InputDataError(
            problems,
            summary=f"{file} cannot be read with the mapping {mapping.name!r}: "
            f"missing column(s) {names}.",
        )
