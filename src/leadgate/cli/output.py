"""Everything the CLI prints goes through here (rich tables, problems, summaries)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from leadgate.exceptions import LeadgateError, Problem, ProblemsError

MAX_PROBLEMS_SHOWN = 20


class Output:
    """The CLI's only printer: stdout for results, stderr for errors and progress."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet

    def line(self, text: str = "") -> None:
        self.out.print(text)

    def heading(self, text: str) -> None:
        self.out.print(f"\n[bold]{text}[/bold]")

    def success(self, text: str) -> None:
        self.out.print(f"[green]✓[/green] {text}")

    def warn(self, text: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {text}")

    def table(self, frame: pl.DataFrame, title: str | None = None) -> None:
        table = Table(title=title, title_justify="left", show_lines=False)
        for name in frame.columns:
            numeric = frame.schema[name].is_numeric()
            table.add_column(name, justify="right" if numeric else "left", overflow="fold")
        for row in frame.iter_rows():
            table.add_row(*(_cell(v) for v in row))
        self.out.print(table)

    def problems(self, problems: Sequence[Problem], *, limit: int = MAX_PROBLEMS_SHOWN) -> None:
        for problem in problems[:limit]:
            self.err.print(f"  {problem}", markup=False)
        if len(problems) > limit:
            self.err.print(f"  … and {len(problems) - limit} more", markup=False)

    def error(self, error: LeadgateError) -> None:
        if isinstance(error, ProblemsError):
            self.err.print(f"[red]error:[/red] {escape(error.message)}")
            self.problems(list(error.problems))
            if error.hint:
                self.err.print(f"  Hint: {error.hint}", markup=False)
            return
        self.err.print(f"[red]error:[/red] {escape(str(error))}")

    @contextmanager
    def progress(self, total_steps: int) -> Iterator[Any]:
        """A progress bar over named steps; yields a function ``step(description)``."""
        if self.quiet:
            yield lambda _description: None
            return
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task("Starting", total=total_steps)

            def step(description: str) -> None:
                bar.update(task, description=description, advance=1)

            yield step

    @contextmanager
    def counter(self, description: str) -> Iterator[Callable[[int, int], None]]:
        """A progress bar over rows; yields ``advance(done, total)``."""
        if self.quiet or not self.err.is_terminal:
            yield lambda _done, _total: None
            return
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield advance


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
